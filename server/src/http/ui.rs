//! The UI's server functions, answered by the engine: the [`app::backend::Backend`]
//! implementation and the context every render and `/ui/...` call gets.

use std::sync::Arc;

use app::{
    backend::{Backend, BoxFuture},
    model::{InstanceDetail, InstanceSummary},
};
use axum::{
    body::Body,
    extract::State,
    http::Request,
    response::{IntoResponse, Response},
};
use leptos::prelude::provide_context;

use crate::{
    engine::instances::{Engine, EngineError},
    state::AppState,
};

struct EngineBackend(Engine);

impl Backend for EngineBackend {
    fn list_instances(&self) -> BoxFuture<'_, Result<Vec<InstanceSummary>, String>> {
        Box::pin(async move {
            self.0
                .history()
                .instances(false)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn instance(
        &self,
        namespace: String,
        name: String,
    ) -> BoxFuture<'_, Result<Option<InstanceDetail>, String>> {
        Box::pin(async move {
            match self.0.get(&namespace, &name).await {
                Ok(v) => Ok(Some(InstanceDetail {
                    summary: v.summary,
                    health: v.health,
                    components: v.components,
                })),
                Err(EngineError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// A closure that provides the backend to a render or a server-function call.
pub fn context(state: &AppState) -> impl Fn() + Clone + Send + 'static + use<> {
    let backend: Arc<dyn Backend> = Arc::new(EngineBackend(state.engine.clone()));
    move || provide_context(backend.clone())
}

/// POST /ui/{fn}: runs a server function with the backend in context.
pub async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> Response {
    let ctx = context(&state);
    leptos_axum::handle_server_fns_with_context(ctx, req)
        .await
        .into_response()
}
