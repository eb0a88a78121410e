//! (server only) What the UI needs from the server, as a trait the `berth` binary implements.
//! Keeps kube, sqlx and tokio out of this crate.

use std::{future::Future, pin::Pin};

use crate::model::{InstanceDetail, InstanceSummary};

/// A boxed future, as trait methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Operations the UI's server functions call.
pub trait Backend: Send + Sync {
    /// Every instance that is not deleted, newest first.
    fn list_instances(&self) -> BoxFuture<'_, Result<Vec<InstanceSummary>, String>>;

    /// One instance with its components' live health; `Ok(None)` when there is no such instance.
    fn instance(
        &self,
        namespace: String,
        name: String,
    ) -> BoxFuture<'_, Result<Option<InstanceDetail>, String>>;
}
