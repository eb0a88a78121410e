//! The change box: a request in plain language is read by the parser ([`crate::intent`]) against
//! the instance's recorded components, and a change comes back with the same preview a card edit
//! gets (a rollback, with the rollback preview). Nothing is applied here: applying is confirming
//! that preview through `changes` (or `rollback`) with its plan hash.

use app::model::{ChangeRequest, Edit, IntentAnswer, IntentHelp, OperationStatus};

use super::{Error, Result, Service};
use crate::{
    components,
    intent::{self, MAX_CORES, MAX_MEMORY_GI, MAX_REPLICAS, MAX_TEXT, Model, NO_MATCH, Outcome},
    llm::{Answer, Error::BadAnswer},
    template::parse::ALIASES,
};

impl Service {
    /// The parser's model of an instance: its components with their recorded specs, the
    /// template's aliases, and the revisions that can be restored.
    async fn intent_model(&self, namespace: &str, name: &str) -> Result<(i64, Model)> {
        let (summary, recorded) = self.current(namespace, name).await?;
        let comps = components::derive(&recorded.manifests, name);
        let specs: Vec<_> = comps
            .iter()
            .map(|c| (c.clone(), super::spec::of(&recorded.manifests, c)))
            .collect();
        let words = self
            .templates
            .get(&summary.template)
            .map(|t| t.group_words())
            .unwrap_or_default();
        let mut model = Model::new(name, &summary.template, &specs).with_aliases(&words);
        model.has_domain = recorded.manifests.iter().any(|o| o["kind"] == "Ingress");
        model.revision = summary.revision;
        let mut restorable: Vec<i64> = self
            .store
            .revisions(namespace, name)
            .await?
            .into_iter()
            .filter(|r| r.kind != "delete" && r.status == OperationStatus::Succeeded)
            .map(|r| r.number)
            .filter(|n| *n != summary.revision)
            .collect();
        restorable.sort_unstable_by(|a, b| b.cmp(a));
        model.restorable = restorable;
        Ok((summary.revision, model))
    }

    /// Reads a request and answers with a previewed change, a question or a refusal. A change
    /// the planner or the cluster's dry run refuses is a refusal, with its reason. Text the
    /// parser matches to nothing goes to the language model, if one is configured; its edits are
    /// held to the parser's rules ([`intent::check`]), and an answer that breaks them is an
    /// error, never a change.
    pub async fn intent(&self, namespace: &str, name: &str, text: &str) -> Result<IntentAnswer> {
        let (revision, model) = self.intent_model(namespace, name).await?;
        match intent::parse(text, &model) {
            Outcome::Change { edits, summary } => {
                self.previewed(namespace, name, revision, edits, summary.join("; "), &model)
                    .await
            }
            Outcome::Rollback { to } => {
                let preview = self.rollback_preview(namespace, name, to, false).await?;
                Ok(IntentAnswer::Change {
                    edits: Vec::new(),
                    summary: format!("roll back to revision {to}"),
                    rollback_to: Some(to),
                    preview: Box::new(preview),
                })
            }
            Outcome::Question { question, choices } => {
                Ok(IntentAnswer::Question { question, choices })
            }
            Outcome::Refusal { reason, examples } => match &self.llm {
                Some(llm) if reason.starts_with(NO_MATCH) && text.len() <= MAX_TEXT => {
                    match llm.ask(text, &model.describe()).await? {
                        Answer::Declined(why) => Ok(IntentAnswer::Refusal {
                            reason: format!("{NO_MATCH}, nor could the language model: {why}"),
                            examples,
                        }),
                        Answer::Edits(edits) => {
                            intent::check(&edits, &model).map_err(BadAnswer)?;
                            let words: Vec<String> = edits.iter().map(|e| e.in_words()).collect();
                            let summary = format!("{} (read by {})", words.join("; "), llm.model());
                            self.previewed(namespace, name, revision, edits, summary, &model)
                                .await
                        }
                    }
                }
                _ => Ok(IntentAnswer::Refusal { reason, examples }),
            },
        }
    }

    /// A change's answer: its edits with the same preview `changes/preview` gives, or a refusal
    /// when the planner or the dry run refuses it.
    async fn previewed(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        edits: Vec<Edit>,
        summary: String,
        model: &Model,
    ) -> Result<IntentAnswer> {
        let req = ChangeRequest {
            base_revision: revision,
            edits: edits.clone(),
            plan_hash: None,
            strict: false,
            force: false,
            adopt: false,
        };
        match self.preview(namespace, name, &req).await {
            // The edits go back as read, so that confirming them matches the plan hash; the
            // summary and the preview show no secret value.
            Ok(preview) => Ok(IntentAnswer::Change {
                edits,
                summary,
                rollback_to: None,
                preview: Box::new(preview),
            }),
            Err(Error::Change(e)) => Ok(IntentAnswer::Refusal {
                reason: e.to_string(),
                examples: model.examples(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// What the change box understands, for `GET /api/v1/intents/help`; `llm` says whether a
/// language model is asked when the parser matches nothing.
pub fn help(llm: bool) -> IntentHelp {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
    IntentHelp {
        verbs: s(&[
            "scale: \"scale capture to 3\", \"run 2 workers\"",
            "set / give: \"give capture 3 replicas and 1Gi memory\", \"set web memory request to 512Mi\"",
            "add / increase, reduce / decrease: \"add 2 replicas to web\", \"add 500m cpu to worker\", \"10% more memory for plugins\"",
            "double / triple / halve: \"double the workers\"",
            "env: \"add SENTRY_DSN=https://… to web and worker\", \"add secret API_KEY=… to web\", \"remove DEBUG from web\"",
            "grow / resize storage: \"clickhouse needs 30Gi of disk\", \"grow pg storage to 20Gi\"",
            "image: \"set web image to ghcr.io/posthog/posthog:1.2\", \"set capture tag to sha-abc\"",
            "domain: \"set the domain to analytics.example.com\"",
            "restart, pause, resume: \"restart the plugin server\", \"pause the workers\", \"resume worker\"",
            "roll back: \"roll back the last change\", \"roll back to revision 3\"",
        ]),
        targets: s(&[
            "component ids (\"capture\") and rendered names (\"posthog-capture\")",
            "plurals (\"the workers\") and kind words (\"all apps\", \"the databases\", \"everything\")",
            "a kind word for one of several (\"the database\") is a question",
            "the template's group words (\"ingestion\") and other names (\"the plugin server\")",
            "a misspelt name (\"captrue\") is a question: did you mean capture?",
        ]),
        values: s(&[
            "numbers and number words (\"3\", \"three\")",
            "Kubernetes quantities (500m, 2, 512Mi, 1Gi, 10G)",
            "cpu: \"2 cores\", \"half a core\", \"500 millicores\", \"1.5 cores\" (1500m)",
            "memory and disk: \"1.5 gigs\" (1500M), \"512 MB\" (512M, not 512Mi), \"512 MiB\" (512Mi), \"1.5Gi\" (1536Mi)",
            "relative: \"double\", \"+2\", \"2 more replicas\", \"add 500m cpu\", \"10% more memory\", from the recorded revision",
        ]),
        default_rule: "A bare cpu or memory amount (\"1Gi memory\", \"2 cores\") sets the limit; the request stays unless it is above the new limit, when it is lowered to the limit too. Say \"request\" to set the request, \"request and limit\" for both. Relative amounts start from the recorded value of the same side (the limit by default) and are rounded up to a whole Mi (M for decimal values) and a whole millicore.".into(),
        bounds: vec![
            format!("more than {MAX_REPLICAS} replicas"),
            format!("more than {MAX_CORES} cores"),
            format!("more than {MAX_MEMORY_GI}Gi of memory"),
            "a storage shrink".into(),
            "an unknown component".into(),
            "a word it does not understand (it never guesses)".into(),
        ],
        aliases: format!(
            "A template declares group words and other names in its Template CR's `{ALIASES}` annotation: `word=id,id; other name=id` (Berth's PostHog template: ingestion=capture,replay-capture; plugin server=plugins; ...)."
        ),
        llm,
    }
}
