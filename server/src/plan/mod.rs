//! Planning a new revision from the recorded one, with no I/O: values in, values out.
//!
//! [`plan_change`] takes the recorded state, the edits and a render function, and returns the
//! desired objects, the changed set, the prune set and the plan hash. [`plan_rollback`] does the
//! same for restoring an earlier revision. The service reads the recorded state, dry-runs and
//! applies around them, once per operation.

pub mod edits;
pub mod env;
pub mod lifecycle;
pub mod manifest_edit;
pub mod quantity;
pub mod storage;

use std::collections::{BTreeMap, BTreeSet};

use app::model::{Component, Edit, TemplateWarning};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use edits::{ChangeError, apply_edits};

use crate::{components, manifest, store::RevisionState};

/// A template rendered again with new inputs (and the recorded defaults, so generated passwords
/// stay): what [`plan_change`]'s render function returns.
pub struct Rerendered {
    /// The objects, labelled for the instance.
    pub objects: Vec<Value>,
    /// The defaults used.
    pub defaults: BTreeMap<String, String>,
    /// Expressions rendered leniently.
    pub warnings: Vec<TemplateWarning>,
}

/// The plan for a new revision.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The revision planned against.
    pub base_revision: i64,
    /// The new revision's full state (its manifests are the desired objects).
    pub state: RevisionState,
    /// The components of the desired objects.
    pub components: Vec<Component>,
    /// Desired objects that are new or differ from the recorded ones.
    pub changed: Vec<Value>,
    /// Recorded objects the new revision no longer has: they will be deleted.
    pub prune: Vec<Value>,
    /// Identifies exactly this plan; a confirmation must send it back.
    pub plan_hash: String,
    /// Expressions a re-render rendered leniently.
    pub warnings: Vec<TemplateWarning>,
    /// What the plan kept as it is, and why (storage that cannot shrink).
    pub notes: Vec<String>,
}

/// Why a change cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError<E> {
    /// The change set has no edits.
    #[error("the change set has no edits")]
    Empty,
    /// An edit is invalid.
    #[error(transparent)]
    Edit(#[from] ChangeError),
    /// The template does not render with the new inputs.
    #[error("{0}")]
    Render(E),
}

/// Plans `edits` on top of `recorded` (revision `base` of instance `name` in `namespace`).
/// `render` is called only when an `input` edit is present, with the new inputs.
pub fn plan_change<E>(
    base: i64,
    recorded: &RevisionState,
    edits: &[Edit],
    name: &str,
    namespace: &str,
    render: impl FnOnce(&BTreeMap<String, String>) -> Result<Rerendered, E>,
) -> Result<Plan, PlanError<E>> {
    if edits.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut new = recorded.clone();
    let mut inputs_changed = false;
    for e in edits {
        if let Edit::Input { name: input, value } = e {
            new.inputs.insert(input.clone(), value.clone());
            inputs_changed = true;
        }
    }
    // A restart is marked with the revision it is made in: re-applied after a later re-render,
    // it changes nothing.
    let component_edits: Vec<Edit> = edits
        .iter()
        .filter(|e| !matches!(e, Edit::Input { .. }))
        .map(|e| match e {
            Edit::Restart {
                component,
                at: None,
            } => Edit::Restart {
                component: component.clone(),
                at: Some(base + 1),
            },
            other => other.clone(),
        })
        .collect();
    let mut warnings = Vec::new();
    if inputs_changed {
        let r = render(&new.inputs).map_err(PlanError::Render)?;
        new.manifests = r.objects;
        new.defaults = r.defaults;
        warnings = r.warnings;
        // Earlier edits stay in effect on the re-rendered manifests.
        let comps = components::derive(&new.manifests, name);
        apply_edits(&mut new.manifests, &comps, &recorded.edits)?;
    }
    let comps = components::derive(&new.manifests, name);
    apply_edits(&mut new.manifests, &comps, &component_edits)?;
    new.edits.extend(component_edits);
    let components = components::derive(&new.manifests, name);
    manifest::label(&mut new.manifests, &components, name, namespace);
    Ok(finish(base, recorded, new, components, warnings))
}

/// Plans restoring `target` (an earlier revision's state) over `recorded` (revision `base`).
pub fn plan_rollback(
    base: i64,
    recorded: &RevisionState,
    target: &RevisionState,
    name: &str,
) -> Plan {
    let components = components::derive(&target.manifests, name);
    finish(base, recorded, target.clone(), components, Vec::new())
}

fn finish(
    base: i64,
    recorded: &RevisionState,
    mut new: RevisionState,
    components: Vec<Component>,
    warnings: Vec<TemplateWarning>,
) -> Plan {
    let notes = storage::keep_sizes(&recorded.manifests, &mut new.manifests);
    let key = |o: &Value| manifest::group_key(&manifest::key(o));
    let before: BTreeMap<String, &Value> = recorded.manifests.iter().map(|o| (key(o), o)).collect();
    let after: BTreeSet<String> = new.manifests.iter().map(key).collect();
    let changed: Vec<Value> = new
        .manifests
        .iter()
        .filter(|o| before.get(&key(o)).is_none_or(|b| *b != *o))
        .cloned()
        .collect();
    let prune: Vec<Value> = recorded
        .manifests
        .iter()
        .filter(|o| !after.contains(&key(o)))
        .cloned()
        .collect();
    let plan_hash = hash(base, &new.manifests, &prune);
    Plan {
        base_revision: base,
        state: new,
        components,
        changed,
        prune,
        plan_hash,
        warnings,
        notes,
    }
}

/// The plan hash: the base revision, the desired objects and the prune set.
fn hash(base: i64, desired: &[Value], prune: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(base.to_le_bytes());
    h.update(serde_json::to_vec(desired).unwrap_or_default());
    h.update(serde_json::to_vec(prune).unwrap_or_default());
    hex::encode(h.finalize())[..16].to_string()
}

#[cfg(test)]
mod tests;
