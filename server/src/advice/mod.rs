//! Advice on a card: troubleshooting hints and scale guidance, both declared as data.
//!
//! A hint rule names where it applies (components by id, or kinds of card; everywhere when it
//! names neither), the conditions any of which fires it, its cause and fix, and the actions that
//! help (restart a component, read some logs). Berth's generic rules are `generic.yaml`; a
//! template adds its own as YAML in its Template CR's `berth.dev/hints` annotation, and its
//! scale guidance in `berth.dev/scale` ([`scale`]). Evaluating rules is pure: what the health
//! caches hold goes in ([`Seen`], [`Facts`]), hints with their evidence come out ([`evaluate`]).

mod conditions;
pub mod scale;

use std::collections::BTreeSet;

use app::model::{CardKind, ComponentStatus, Hint, HintAction};
use serde::Deserialize;
use serde_json::Value;

/// The Template CR annotation holding a template's own hint rules.
pub const HINTS_ANNOTATION: &str = "berth.dev/hints";

/// One troubleshooting rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// A stable id (`image-pull`).
    pub id: String,
    /// The hint's one line.
    pub title: String,
    /// Its likely cause.
    pub cause: String,
    /// Its fix.
    pub fix: String,
    /// The components it applies to (every one when empty, unless `cards` says).
    #[serde(default)]
    pub on: Vec<String>,
    /// The kinds of card it applies to.
    #[serde(default)]
    pub cards: Vec<CardKind>,
    /// It fires when any of these holds.
    pub when: Vec<Condition>,
    /// Components whose Services the card's env should name: each is reported as evidence.
    #[serde(default)]
    pub check_env: Vec<String>,
    /// A component whose restart fixes it (`self` for the card's own).
    #[serde(default)]
    pub restart: Option<String>,
    /// Whose logs to read: `true` for the card's own, or a list of components.
    #[serde(default)]
    pub logs: Option<LogsOf>,
}

/// Whose logs a hint points to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum LogsOf {
    /// The card's own (`true`), or none (`false`).
    Own(bool),
    /// These components'.
    Of(Vec<String>),
}

/// What fires a rule. Conditions that name components look at those; the others look at the
/// card's own pods and objects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Condition {
    /// Any of these components has no ready pods, or is not healthy.
    NotReady(Vec<String>),
    /// A Job of any of these components has not succeeded (failed pods, or a Failed condition).
    JobNotSucceeded(Vec<String>),
    /// A container of the card's pods waits with one of these reasons.
    ContainerWaiting(Vec<String>),
    /// A container of the card's pods last ended with one of these reasons (`OOMKilled`).
    LastTerminated(Vec<String>),
    /// One of the card's volume claims is Pending.
    ClaimPending(bool),
    /// One of the card's Services has no ready endpoints.
    ServiceNoEndpoints(bool),
    /// One of the card's pods cannot be scheduled.
    Unschedulable(bool),
    /// The card's Ingress has no address yet.
    IngressNoAddress(bool),
    /// A TLS Secret the card's Ingress names does not exist.
    TlsSecretMissing(bool),
}

/// Reads rules written as a YAML list.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let rules: Vec<Rule> = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut ids = BTreeSet::new();
    for r in &rules {
        if r.when.is_empty() {
            return Err(format!("rule {}: `when` names no condition", r.id));
        }
        if !ids.insert(r.id.as_str()) {
            return Err(format!("rule {} is declared twice", r.id));
        }
    }
    Ok(rules)
}

/// Berth's generic rules.
pub fn generic() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        parse_rules(include_str!("generic.yaml")).expect("the generic rules are valid")
    })
}

/// What the caches hold about one component.
pub struct Seen<'a> {
    /// Its status (health, pods, objects, the recorded spec).
    pub status: &'a ComponentStatus,
    /// Its pods, as live JSON.
    pub pods: Vec<&'a Value>,
    /// Its live objects (and the claims of its StatefulSets).
    pub live: Vec<&'a Value>,
}

/// What the rules are evaluated against.
pub struct Facts<'a> {
    /// Every component.
    pub components: Vec<Seen<'a>>,
    /// The instance's desired objects, secrets included (only names are ever reported).
    pub manifests: &'a [Value],
    /// TLS Secrets the instance's Ingresses name that do not exist.
    pub missing_secrets: &'a BTreeSet<String>,
}

impl<'a> Facts<'a> {
    fn component(&self, id: &str) -> Option<&Seen<'a>> {
        self.components.iter().find(|s| s.status.component.id == id)
    }
}

impl Rule {
    fn applies_to(&self, status: &ComponentStatus) -> bool {
        let c = &status.component;
        (self.on.is_empty() && self.cards.is_empty())
            || self.on.contains(&c.id)
            || self.cards.contains(&c.card)
    }

    fn actions(&self, own: &str) -> Vec<HintAction> {
        let own_id = |id: &str| if id == "self" { own } else { id }.to_string();
        let mut actions = Vec::new();
        if let Some(r) = &self.restart {
            actions.push(HintAction::Restart {
                component: own_id(r),
            });
        }
        match &self.logs {
            Some(LogsOf::Own(true)) => actions.push(HintAction::Logs {
                components: vec![own.to_string()],
            }),
            Some(LogsOf::Of(ids)) => actions.push(HintAction::Logs {
                components: ids.iter().map(|i| own_id(i)).collect(),
            }),
            _ => {}
        }
        actions
    }
}

/// The hints for each component, in the order of `facts.components`: the template's rules
/// first, then the generic ones.
pub fn evaluate(template_rules: &[Rule], facts: &Facts) -> Vec<Vec<Hint>> {
    facts
        .components
        .iter()
        .map(|seen| {
            template_rules
                .iter()
                .chain(generic())
                .filter(|r| r.applies_to(seen.status))
                .filter_map(|r| {
                    let mut evidence: Vec<String> = r
                        .when
                        .iter()
                        .filter_map(|c| conditions::holds(c, seen, facts))
                        .flatten()
                        .collect();
                    if evidence.is_empty() {
                        return None;
                    }
                    evidence.extend(conditions::env_names(&r.check_env, seen, facts));
                    Some(Hint {
                        rule: r.id.clone(),
                        title: r.title.clone(),
                        cause: r.cause.clone(),
                        fix: r.fix.clone(),
                        evidence,
                        actions: r.actions(&seen.status.component.id),
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests;
