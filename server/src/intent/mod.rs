//! The change box's parser: plain language in, a typed change set out. Pure: text and the
//! instance's component model in, one [`Outcome`] out, no I/O.
//!
//! It never guesses. An ambiguous target or value becomes a question whose every answer carries
//! its complete edits; a request out of bounds, for an unknown component or with a word it does
//! not understand is refused with the reason; text it cannot match at all is refused with three
//! examples made from this instance's components. [`check`] holds a change set made elsewhere (by
//! a language model) to the same rules.
//!
//! Reading goes in steps: [`lex`] turns words into items and clauses; [`resolve`] reads each
//! clause's verb and targets, [`settings`] its values, and [`edit`] makes each setting an edit on
//! each target. Amounts are read by [`amount`]; the vocabulary is [`words`].

pub mod amount;
mod check;
mod edit;
mod lex;
mod resolve;
mod settings;
pub mod words;

use app::model::{CardKind, Component, ComponentSpec, Edit, IntentChoice};

pub use check::check;
pub use edit::{MAX_CORES, MAX_MEMORY_GI, MAX_REPLICAS};

/// The longest request read, in bytes.
pub const MAX_TEXT: usize = 2000;

/// One component as the parser sees it: its names and its recorded spec.
#[derive(Debug, Clone)]
pub struct Part {
    pub id: String,
    pub card: CardKind,
    /// Its objects' names (lowercase).
    pub names: Vec<String>,
    pub spec: ComponentSpec,
}

/// What the parser knows about the instance.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub instance: String,
    pub template: String,
    pub parts: Vec<Part>,
    /// Group words and other names the template declares: lowercase phrase → component ids.
    pub aliases: Vec<(String, Vec<String>)>,
    /// Whether the instance has an Ingress (so a domain can be set).
    pub has_domain: bool,
    /// The current revision.
    pub revision: i64,
    /// Revisions that can be restored, newest first (the current one excluded).
    pub restorable: Vec<i64>,
}

impl Model {
    /// A model from the instance's components and their recorded specs.
    pub fn new(instance: &str, template: &str, components: &[(Component, ComponentSpec)]) -> Model {
        Model {
            instance: instance.to_lowercase(),
            template: template.to_lowercase(),
            parts: components
                .iter()
                .map(|(c, spec)| Part {
                    id: c.id.clone(),
                    card: c.card,
                    names: c.objects.iter().map(|o| o.name.to_lowercase()).collect(),
                    spec: spec.clone(),
                })
                .collect(),
            ..Model::default()
        }
    }

    /// Reads aliases declared as `word=id,id; word=id` (the template's `berth.dev/aliases`, and
    /// its scale groups). A word declared before keeps its first meaning.
    pub fn with_aliases(mut self, declared: &str) -> Model {
        for entry in declared.split(';') {
            let Some((word, ids)) = entry.split_once('=') else {
                continue;
            };
            let ids: Vec<String> = ids
                .split(',')
                .map(|i| i.trim().to_string())
                .filter(|i| self.parts.iter().any(|p| &p.id == i))
                .collect();
            let word = word.trim().to_lowercase();
            let known = self.aliases.iter().any(|(w, _)| *w == word);
            if !word.is_empty() && !ids.is_empty() && !known {
                self.aliases.push((word, ids));
            }
        }
        self
    }

    /// The instance as a language model is told it: each component's id, kind, replicas,
    /// containers (resources, image, and the names of its variables, never their values) and
    /// volumes; the group words; whether a domain can be set.
    pub fn describe(&self) -> serde_json::Value {
        let parts: Vec<serde_json::Value> = self
            .parts
            .iter()
            .map(|p| {
                let containers: Vec<serde_json::Value> = p
                    .spec
                    .containers
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "name": c.name, "image": c.image,
                            "cpuRequest": c.cpu_request, "cpuLimit": c.cpu_limit,
                            "memoryRequest": c.memory_request, "memoryLimit": c.memory_limit,
                            "env": c.env.iter().map(|e| &e.name).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "id": p.id, "kind": p.card.as_str(), "replicas": p.spec.replicas,
                    "containers": containers, "volumes": p.spec.volumes,
                })
            })
            .collect();
        let aliases: serde_json::Map<String, serde_json::Value> = self
            .aliases
            .iter()
            .map(|(word, ids)| (word.clone(), serde_json::json!(ids)))
            .collect();
        serde_json::json!({
            "instance": self.instance, "template": self.template, "components": parts,
            "groupWords": aliases, "hasDomain": self.has_domain,
        })
    }

    fn part(&self, id: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.id == id)
    }

    /// The components a word or phrase names: an id, an alias, an object's name, a rendered
    /// name (`posthog-capture`) or a plural ("workers").
    pub fn named(&self, phrase: &str) -> Option<Vec<String>> {
        if let Some((_, ids)) = self.aliases.iter().find(|(w, _)| w == phrase) {
            return Some(ids.clone());
        }
        let one = |id: &str| Some(vec![id.to_string()]);
        for p in &self.parts {
            if p.id == phrase || p.names.iter().any(|n| n == phrase) {
                return one(&p.id);
            }
        }
        for p in &self.parts {
            let prefixed = [&self.instance, &self.template].iter().any(|pre| {
                phrase
                    .strip_prefix(pre.as_str())
                    .and_then(|r| r.strip_prefix('-'))
                    == Some(&p.id)
            });
            let plural = phrase.strip_suffix('s') == Some(p.id.as_str())
                || phrase.strip_suffix("es") == Some(p.id.as_str())
                || (p.id.ends_with('s') && p.id.strip_suffix('s') == Some(phrase));
            if prefixed || plural {
                return one(&p.id);
            }
        }
        None
    }

    /// A kind word: "apps", "the databases" (all of them), "the database" (one of several),
    /// "everything".
    fn kind_word(&self, word: &str) -> Option<lex::Item> {
        let (card, plural) = match word {
            "app" | "application" => (Some(CardKind::App), false),
            "apps" | "applications" => (Some(CardKind::App), true),
            "database" | "db" => (Some(CardKind::Database), false),
            "databases" | "dbs" => (Some(CardKind::Database), true),
            "queue" | "broker" => (Some(CardKind::Queue), false),
            "queues" | "brokers" => (Some(CardKind::Queue), true),
            "all" | "everything" => (None, true),
            _ => return None,
        };
        let ids: Vec<String> = self
            .parts
            .iter()
            .filter(|p| card.is_none_or(|c| p.card == c))
            .filter(|p| card.is_some() || p.spec.replicas.is_some())
            .map(|p| p.id.clone())
            .collect();
        if ids.is_empty() {
            return None;
        }
        let word = word.to_string();
        Some(if plural || ids.len() == 1 {
            lex::Item::Target { ids, word }
        } else {
            lex::Item::OneOf { ids, word }
        })
    }

    /// Components whose id or alias the word is a misspelling of.
    fn close_to(&self, word: &str) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for p in &self.parts {
            if words::is_typo_of(word, &p.id) && !ids.contains(&p.id) {
                ids.push(p.id.clone());
            }
        }
        if !ids.is_empty() {
            return ids;
        }
        for (alias, targets) in &self.aliases {
            if !alias.contains(' ') && words::is_typo_of(word, alias) {
                for t in targets {
                    if !ids.contains(t) {
                        ids.push(t.clone());
                    }
                }
            }
        }
        ids
    }

    /// Three requests that would work on this instance.
    pub fn examples(&self) -> Vec<String> {
        let scalable: Vec<&Part> = self
            .parts
            .iter()
            .filter(|p| p.spec.replicas.is_some())
            .collect();
        let mut out = Vec::new();
        if let Some(p) = scalable.first() {
            out.push(format!(
                "scale {} to {}",
                p.id,
                p.spec.replicas.unwrap_or(1) + 1
            ));
        }
        if let Some(p) = scalable.get(1).or(scalable.first()) {
            out.push(format!("give {} 1Gi memory limit", p.id));
        }
        if let Some(p) = scalable.get(2).or(scalable.last()) {
            out.push(format!("restart {}", p.id));
        }
        if out.len() < 3 {
            out.push("roll back the last change".into());
        }
        out.truncate(3);
        out
    }
}

/// What the parser made of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Edits, and each in words.
    Change {
        edits: Vec<Edit>,
        summary: Vec<String>,
    },
    /// Restore a revision.
    Rollback { to: i64 },
    /// Ambiguous: pick one.
    Question {
        question: String,
        choices: Vec<IntentChoice>,
    },
    /// Not a change Berth can make.
    Refusal {
        reason: String,
        examples: Vec<String>,
    },
}

/// The reason given for text that matches nothing.
pub const NO_MATCH: &str = "I couldn't match that to a change";

/// Reads `text` against `model`.
pub fn parse(text: &str, model: &Model) -> Outcome {
    let refuse = |reason: String| Outcome::Refusal {
        reason,
        examples: model.examples(),
    };
    if text.len() > MAX_TEXT {
        return refuse(format!(
            "that request is too long ({} bytes; at most {MAX_TEXT})",
            text.len()
        ));
    }
    let clauses = lex::clauses(text, model);
    if clauses.is_empty() {
        return refuse(NO_MATCH.into());
    }
    let mut edits = Vec::new();
    let mut summary = Vec::new();
    let mut rollback = None;
    let mut question: Option<(String, Vec<IntentChoice>)> = None;
    let mut matched_any = false;
    for items in &clauses {
        match resolve::clause(items, model) {
            resolve::Resolved::Edits(e, s) => {
                matched_any = true;
                edits.extend(e);
                summary.extend(s);
            }
            resolve::Resolved::Rollback(to) => {
                matched_any = true;
                rollback = Some(to);
            }
            resolve::Resolved::Question(q, choices) => {
                matched_any = true;
                if question.is_none() {
                    question = Some((q, choices));
                }
            }
            resolve::Resolved::Refusal(reason) => return refuse(reason),
            resolve::Resolved::NoMatch => {
                if clauses.len() == 1 {
                    return refuse(NO_MATCH.into());
                }
                return refuse(format!("{NO_MATCH}: one part of it names no change I know"));
            }
        }
    }
    if !matched_any {
        return refuse(NO_MATCH.into());
    }
    if let Some(to) = rollback {
        if !edits.is_empty() || question.is_some() {
            return refuse(
                "a rollback restores a whole revision; ask for it on its own, then make the other changes".into(),
            );
        }
        return Outcome::Rollback { to };
    }
    if let Some((q, choices)) = question {
        // Each answer carries the complete change: the other clauses' edits and its own. An
        // answer the rules refuse is not offered.
        let choices: Vec<IntentChoice> = choices
            .into_iter()
            .map(|c| IntentChoice {
                edits: edits.iter().cloned().chain(c.edits).collect(),
                ..c
            })
            .filter(|c| c.rollback_to.is_some() || check(&c.edits, model).is_ok())
            .collect();
        if choices.is_empty() {
            return refuse(format!(
                "{q} None of the answers is a change Berth can make"
            ));
        }
        return Outcome::Question {
            question: q,
            choices,
        };
    }
    // Whatever was read, the edits are held to the same rules as any others.
    if let Err(why) = check(&edits, model) {
        return refuse(why);
    }
    Outcome::Change { edits, summary }
}

#[cfg(test)]
mod tests;
