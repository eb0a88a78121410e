//! The locks an operation holds on its instance from planning to its end: this process's own
//! (`Operations::lock`), and the store's, which keeps out the other replicas sharing a PostgreSQL
//! (`crate::store::lock`). Either one taken means another operation runs: 409.

use super::{Error, Result, Service};
use tokio::sync::OwnedMutexGuard;

use crate::{kube::instance_key, store::InstanceLock};

/// An instance's locks, held while an operation on it is planned and runs: this process's, and
/// the store's, which keeps out the other replicas sharing a PostgreSQL.
pub(super) struct OpGuard {
    _local: OwnedMutexGuard<()>,
    _shared: InstanceLock,
}

impl Service {
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
