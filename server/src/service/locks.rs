//! The locks an operation holds on its instance from planning to its end: this process's own
//! (`Operations::lock`), and the store's, which keeps out the other replicas sharing a PostgreSQL
//! (`crate::store::lock`). Either one taken means another operation runs: 409.
//!
//! And the turn a create takes on its namespace, from looking it up until it knows whether a
//! namespace it made stays ([`NamespaceTurn`]): a create the apiserver refuses removes the
//! namespace it made, and no other create, here or on another replica, may start in that
//! namespace meanwhile.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use super::{Error, Result, Service};
use tokio::sync::OwnedMutexGuard;

use crate::{
    kube::instance_key,
    store::{InstanceLock, NamespaceLock},
};

/// How long a create waits for its namespace's turn while another replica's create holds it.
const NAMESPACE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An instance's locks, held while an operation on it is planned and runs: this process's, and
/// the store's, which keeps out the other replicas sharing a PostgreSQL.
pub(super) struct OpGuard {
    _local: OwnedMutexGuard<()>,
    _shared: InstanceLock,
}

/// A create's turn on its namespace: this process's lock, and the store's, which keeps out the
/// creates of the other replicas sharing a PostgreSQL.
pub(super) struct NamespaceTurn {
    _local: OwnedMutexGuard<()>,
    _shared: NamespaceLock,
}

impl Service {
    /// Waits for the namespace's turn, or fails with [`Error::Busy`] when another replica's
    /// create has held it for a minute.
    pub(super) async fn namespace_turn(&self, namespace: &str) -> Result<NamespaceTurn> {
        let local = self.namespaces.lock(namespace).await;
        let shared = self
            .store
            .lock_namespace(namespace, NAMESPACE_WAIT)
            .await?
            .ok_or_else(|| Error::Busy(format!("namespace {namespace}")))?;
        Ok(NamespaceTurn {
            _local: local,
            _shared: shared,
        })
    }

    /// Takes the instance's locks, or fails with [`Error::Busy`] while an operation on it runs
    /// here or on another replica.
    pub(super) async fn lock(&self, namespace: &str, name: &str) -> Result<OpGuard> {
        let local = self.ops.lock(namespace, name)?;
        let shared = self
            .store
            .lock_instance(namespace, name)
            .await?
            .ok_or_else(|| Error::Busy(instance_key(namespace, name)))?;
        Ok(OpGuard {
            _local: local,
            _shared: shared,
        })
    }
}

/// This process's namespace locks. A create takes its namespace's lock before it looks the
/// namespace up, and, if it made it, holds it until its dry run and ownership check have decided
/// whether the namespace stays: a refused create removes the namespace it made, which would take
/// with it whatever another create had started there meanwhile. Creates into a namespace that
/// already exists hold it only while they look.
#[derive(Clone, Default)]
pub(super) struct NamespaceLocks(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl NamespaceLocks {
    /// Waits for `namespace`'s lock.
    pub(super) async fn lock(&self, namespace: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            locks.retain(|k, l| k == namespace || Arc::strong_count(l) > 1);
            locks.entry(namespace.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }
}
