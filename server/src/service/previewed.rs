//! Plans that were just previewed. A preview plans the change, resolves its objects, checks who
//! owns them and dry-runs what changes; confirming it within [`FRESH`] applies that same work
//! without doing it again, so a confirmed change costs its apply and little more.
//!
//! A kept plan is used only when nothing it depends on can have moved: the confirmation asks for
//! the same edits (and flags) on the same instance, sends back its plan hash, and the instance's
//! history has not moved on (the same current revision and the same unfinished one, if any). Its
//! dry run found no object refused, and the cluster holds the recorded revision as applied, so
//! only the changed objects are applied. Anything else plans and dry-runs again, as before.
//!
//! What is left unchecked is the cluster between the two calls: an object's owner or fields
//! changed by someone else in that minute. Server-side apply still refuses a field another
//! manager owns (a conflict fails the apply, unless forced), and nothing outside Berth can give
//! an object Berth's installation label without meaning to.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use crate::{
    apply::{Planned, Resolved},
    kube::instance_key,
    plan::Plan,
};

/// How long a preview's work stays usable for its confirmation.
pub(super) const FRESH: Duration = Duration::from_secs(60);

/// At most this many kept previews (one per instance); the oldest goes first.
const KEPT: usize = 32;

/// Where an instance's history stood: its current revision, and its newest unfinished one.
pub(super) type Position = (i64, Option<i64>);

/// A preview's work, ready to run.
pub(super) struct Previewed {
    /// What the confirmation must ask for: a digest of its edits and flags (never the values).
    pub request: [u8; 32],
    pub position: Position,
    pub plan: Plan,
    /// Its manifests, redacted, as history records them.
    pub shown: Vec<serde_json::Value>,
    /// The changed objects, resolved, and their dry run.
    pub objects: Vec<Resolved>,
    pub planned: Vec<Planned>,
    pub prune: Vec<Resolved>,
    at: Instant,
}

impl Previewed {
    pub fn new(
        request: [u8; 32],
        position: Position,
        (plan, shown): (Plan, Vec<serde_json::Value>),
        (objects, planned, prune): (Vec<Resolved>, Vec<Planned>, Vec<Resolved>),
    ) -> Previewed {
        Previewed {
            request,
            position,
            plan,
            shown,
            objects,
            planned,
            prune,
            at: Instant::now(),
        }
    }
}

/// A digest of what a request asks for, for comparing a confirmation with its preview.
pub(super) fn digest(request: &impl serde::Serialize) -> [u8; 32] {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(bytes).into()
}

/// The kept previews, one per instance (the newest).
#[derive(Clone, Default)]
pub struct Previews {
    kept: Arc<Mutex<HashMap<String, Previewed>>>,
}

impl Previews {
    /// Keeps a preview's work for its instance, in place of any earlier one.
    pub(super) fn keep(&self, namespace: &str, name: &str, previewed: Previewed) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|_, p| p.at.elapsed() < FRESH);
        if kept.len() >= KEPT
            && let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, p)| p.at)
                .map(|(k, _)| k.clone())
        {
            kept.remove(&oldest);
        }
        kept.insert(instance_key(namespace, name), previewed);
    }

    /// Takes the instance's kept preview when it is fresh and is for exactly this request, plan
    /// and history position. Whatever was kept for the instance is gone afterwards.
    pub(super) fn take(
        &self,
        (namespace, name): (&str, &str),
        request: &[u8; 32],
        plan_hash: &str,
        position: Position,
    ) -> Option<Previewed> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.remove(&instance_key(namespace, name)).filter(|p| {
            p.at.elapsed() < FRESH
                && p.request == *request
                && p.plan.plan_hash == plan_hash
                && p.position == position
        })
    }

    /// Forgets what was kept for an instance (it is being deleted).
    pub(super) fn forget(&self, namespace: &str, name: &str) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.remove(&instance_key(namespace, name));
    }

    /// How many previews are kept now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previewed(hash: &str, request: u8, position: Position) -> Previewed {
        let plan = Plan {
            base_revision: position.0,
            state: Default::default(),
            components: Vec::new(),
            changed: Vec::new(),
            prune: Vec::new(),
            plan_hash: hash.into(),
            warnings: Vec::new(),
            notes: Vec::new(),
        };
        Previewed::new(
            [request; 32],
            position,
            (plan, Vec::new()),
            Default::default(),
        )
    }

    #[test]
    fn a_kept_preview_is_taken_only_for_its_request_plan_and_position() {
        let kept = Previews::default();
        let at = ("ns", "ph");
        kept.keep("ns", "ph", previewed("h1", 1, (3, None)));
        assert!(
            kept.take(at, &[2; 32], "h1", (3, None)).is_none(),
            "other edits"
        );
        // Whatever was kept is gone once a confirmation looked, used or not.
        assert!(kept.take(at, &[1; 32], "h1", (3, None)).is_none());

        kept.keep("ns", "ph", previewed("h1", 1, (3, None)));
        assert!(
            kept.take(at, &[1; 32], "h2", (3, None)).is_none(),
            "other plan"
        );
        kept.keep("ns", "ph", previewed("h1", 1, (3, None)));
        assert!(
            kept.take(at, &[1; 32], "h1", (3, Some(4))).is_none(),
            "a revision failed since"
        );
        kept.keep("ns", "ph", previewed("h1", 1, (3, None)));
        assert!(
            kept.take(("ns", "other"), &[1; 32], "h1", (3, None))
                .is_none()
        );
        assert!(kept.take(at, &[1; 32], "h1", (3, None)).is_some());

        // A newer preview of the instance replaces the older; deleting forgets it.
        kept.keep("ns", "ph", previewed("h1", 1, (3, None)));
        kept.keep("ns", "ph", previewed("h2", 2, (3, None)));
        assert_eq!(kept.len(), 1);
        assert!(kept.take(at, &[1; 32], "h1", (3, None)).is_none());
        kept.keep("ns", "ph", previewed("h2", 2, (3, None)));
        kept.forget("ns", "ph");
        assert_eq!(kept.len(), 0);
    }

    #[test]
    fn at_most_kept_previews_are_held() {
        let kept = Previews::default();
        for i in 0..KEPT + 5 {
            kept.keep("ns", &format!("i{i}"), previewed("h", 1, (1, None)));
            std::thread::sleep(Duration::from_micros(5));
        }
        assert_eq!(kept.len(), KEPT);
        // The oldest went first.
        assert!(kept.take(("ns", "i0"), &[1; 32], "h", (1, None)).is_none());
        let newest = format!("i{}", KEPT + 4);
        assert!(
            kept.take(("ns", &newest), &[1; 32], "h", (1, None))
                .is_some()
        );
    }
}
