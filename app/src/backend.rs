//! (server only) What the UI needs from the server, as a trait the `berth` binary implements.
//! Keeps kube, sqlx and tokio out of this crate.

use std::{future::Future, pin::Pin};

use crate::model::InstanceSummary;

/// A boxed future, as trait methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Operations the UI's server functions call.
pub trait Backend: Send + Sync {
    /// Every instance that is not deleted, newest first.
    fn list_instances(&self) -> BoxFuture<'_, Result<Vec<InstanceSummary>, String>>;
}
