//! Objects an instance left behind: ones a failed, cancelled or interrupted revision created and
//! no finished revision recorded. Found in the cluster by the instance's label and confirmed by
//! Berth's ownership annotation, so that a delete or a prune removes them too. Volume claims are
//! never strays: those a StatefulSet made carry the set's labels, and losing data to a guess is
//! worse than a claim left behind.

use std::collections::BTreeSet;

use kube::{
    Api,
    api::{DynamicObject, ListParams},
};
use serde_json::{Value, json};

use super::{Applier, Owner, Resolved};
use crate::kube::{INSTANCE_LABEL, OWNER_ANNOTATION, installation_selector, instance_key};

/// Kinds never taken for strays.
const NEVER: [&str; 2] = ["PersistentVolumeClaim", "Namespace"];

impl Applier {
    /// Objects of the kinds in `kinds` (namespaced ones) that carry `instance`'s label and its
    /// ownership annotation, are not controlled by another object, and are not in `keep`, as
    /// minimal manifests (`apiVersion`, `kind`, `metadata.name`).
    pub async fn strays(
        &self,
        kinds: &[Resolved],
        namespace: &str,
        instance: &str,
        keep: &BTreeSet<(String, String)>,
    ) -> Result<Vec<Value>, kube::Error> {
        let selector = format!(
            "{INSTANCE_LABEL}={instance},{}",
            installation_selector(self.installation())
        );
        let owner = instance_key(namespace, instance);
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in kinds {
            if !r.namespaced
                || NEVER.contains(&r.key.kind.as_str())
                || !seen.insert(r.key.kind.clone())
            {
                continue;
            }
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client().clone(), namespace, &r.resource);
            let found = api.list(&ListParams::default().labels(&selector)).await?;
            for o in found.items {
                let name = o.metadata.name.clone().unwrap_or_default();
                let annotated = o
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.get(OWNER_ANNOTATION) == Some(&owner));
                let controlled = o
                    .metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|refs| !refs.is_empty());
                if annotated
                    && !controlled
                    && Owner::of(&o.metadata, namespace, self.installation())
                        == Owner::Instance(owner.clone())
                    && !keep.contains(&(r.key.kind.clone(), name.clone()))
                {
                    out.push(json!({
                        "apiVersion": r.resource.api_version,
                        "kind": r.key.kind,
                        "metadata": {"name": name, "namespace": namespace},
                    }));
                }
            }
        }
        Ok(out)
    }
}
