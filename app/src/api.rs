//! Server functions the pages call. Thin: on the server they ask the [`Berth`] service the
//! server provides as context; in the browser they are HTTP calls to `/ui/...`. Errors arrive
//! typed, as [`ServiceError`].
//!
//! [`Berth`]: crate::service::Berth

use leptos::prelude::*;

use crate::{
    error::ServiceError,
    model::{InstanceSummary, InstanceView},
};

#[cfg(feature = "ssr")]
fn service() -> std::sync::Arc<dyn crate::service::Berth> {
    expect_context::<std::sync::Arc<dyn crate::service::Berth>>()
}

/// Every instance that is not deleted, newest first.
#[server(prefix = "/ui", endpoint = "instances")]
pub async fn list_instances() -> Result<Vec<InstanceSummary>, ServiceError> {
    service().instances().await
}

/// One instance with its components' live health, or `None` when it does not exist.
#[server(prefix = "/ui", endpoint = "instance")]
pub async fn get_instance(
    namespace: String,
    name: String,
) -> Result<Option<InstanceView>, ServiceError> {
    match service().instance(namespace, name).await {
        Ok(view) => Ok(Some(view)),
        Err(e) if e.code == crate::error::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
