//! Berth writes only what it owns. Before anything is recorded, objects an operation would write
//! that already exist, and that the instance does not have yet, are read: one that belongs to
//! another instance or to another Berth installation, or (unless adopted) that Berth did not
//! create, stops the operation.

use std::collections::BTreeSet;

use super::{Error, Result, Service};
use crate::{
    apply::{Applier, Owner, Planned, Resolved},
    kube::instance_key,
    manifest,
};

impl Service {
    /// Refuses objects that exist and belong to someone else. `known` are the group keys of
    /// objects the instance's recorded revision already has: they are its own.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn check_ownership(
        &self,
        applier: &Applier,
        namespace: &str,
        name: &str,
        resolved: &[Resolved],
        planned: &[Planned],
        known: &BTreeSet<String>,
        adopt: bool,
    ) -> Result<()> {
        let me = instance_key(namespace, name);
        let existing: Vec<&Resolved> = resolved
            .iter()
            .zip(planned)
            .filter(|(r, p)| {
                matches!(p.existing, Some(Some(_))) && !known.contains(&manifest::group_key(&r.key))
            })
            .map(|(r, _)| r)
            .collect();
        if existing.is_empty() {
            return Ok(());
        }
        let refused: Vec<_> = applier
            .owners(&existing, namespace)
            .await
            .into_iter()
            .filter_map(|(key, owner)| match owner {
                Owner::Absent => None,
                Owner::Instance(o) if o == me => None,
                Owner::NotBerth if adopt => None,
                other => Some((key, other.describe())),
            })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(Error::NotOwned(refused))
        }
    }
}
