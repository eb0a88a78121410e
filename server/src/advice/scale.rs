//! Scale guidance: a template declares, in its Template CR's `berth.dev/scale` annotation, groups
//! of components in the order to scale them, and whether each group scales out (replicas) or up
//! (CPU and memory):
//!
//! ```yaml
//! - group: ingestion
//!   order: 1
//!   components: [capture, replay-capture]
//!   note: Scale first when events queue up.
//! - group: analytics
//!   order: 2
//!   out: false
//!   components: [clickhouse]
//! ```

use app::model::ScaleAdvice;
use serde::Deserialize;

/// The Template CR annotation holding a template's scale guidance.
pub const SCALE_ANNOTATION: &str = "berth.dev/scale";

/// One group of the guidance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleGroup {
    /// Its name, which the change box also reads (`scale ingestion`).
    pub group: String,
    /// Its place in the order: 1 is scaled first.
    pub order: u32,
    /// Its components.
    pub components: Vec<String>,
    /// Whether more replicas help (otherwise more CPU and memory do).
    #[serde(default = "yes")]
    pub out: bool,
    /// What to watch, or why.
    #[serde(default)]
    pub note: String,
}

fn yes() -> bool {
    true
}

/// Reads guidance written as a YAML list; a component in two groups is an error.
pub fn parse(text: &str) -> Result<Vec<ScaleGroup>, String> {
    let groups: Vec<ScaleGroup> = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut seen = std::collections::BTreeSet::new();
    for g in &groups {
        if g.order == 0 {
            return Err(format!("group {}: order starts at 1", g.group));
        }
        for c in &g.components {
            if !seen.insert(c.as_str()) {
                return Err(format!("component {c} is in two groups"));
            }
        }
    }
    Ok(groups)
}

/// The advice for component `id`, if the guidance names it.
pub fn advice(groups: &[ScaleGroup], id: &str) -> Option<ScaleAdvice> {
    let g = groups
        .iter()
        .find(|g| g.components.iter().any(|c| c == id))?;
    Some(ScaleAdvice {
        group: g.group.clone(),
        order: g.order,
        out: g.out,
        note: g.note.clone(),
        with: g.components.iter().filter(|c| *c != id).cloned().collect(),
    })
}

/// The change box's words for the groups that scale out: `group=id,id; ...` (the alias form).
pub fn aliases(groups: &[ScaleGroup]) -> String {
    groups
        .iter()
        .filter(|g| g.out)
        .map(|g| format!("{}={}", g.group, g.components.join(",")))
        .collect::<Vec<_>>()
        .join("; ")
}
