//! Server functions the pages call. Thin: on the server they ask the [`Backend`] the server
//! provides as context; in the browser they are HTTP calls to `/ui/...`.
//!
//! [`Backend`]: crate::backend::Backend

use leptos::prelude::*;

use crate::model::{InstanceDetail, InstanceSummary};

/// Every instance that is not deleted, newest first.
#[server(prefix = "/ui", endpoint = "instances")]
pub async fn list_instances() -> Result<Vec<InstanceSummary>, ServerFnError> {
    let backend = expect_context::<std::sync::Arc<dyn crate::backend::Backend>>();
    backend.list_instances().await.map_err(ServerFnError::new)
}

/// One instance with its components' live health, or `None` when it does not exist.
#[server(prefix = "/ui", endpoint = "instance")]
pub async fn get_instance(
    namespace: String,
    name: String,
) -> Result<Option<InstanceDetail>, ServerFnError> {
    let backend = expect_context::<std::sync::Arc<dyn crate::backend::Backend>>();
    backend
        .instance(namespace, name)
        .await
        .map_err(ServerFnError::new)
}
