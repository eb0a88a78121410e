//! The UI's server functions, answered by the service: the context every render and `/ui/...`
//! call gets is the service itself, as the [`Berth`] trait the pages call.

use std::sync::Arc;

use app::{
    error::ServiceError,
    service::{Berth, SignedIn},
};
use axum::{
    body::Body,
    extract::State,
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
};
use leptos::prelude::provide_context;

use crate::{
    auth::{Caller, Role},
    error::ApiError,
    state::AppState,
};

/// A closure that provides the service to a render or a server-function call.
pub fn context(state: &AppState) -> impl Fn() + Clone + Send + 'static + use<> {
    let service: Arc<dyn Berth> = Arc::new(state.service.clone());
    move || provide_context(service.clone())
}

/// POST /ui/{fn}: runs a server function with the service and the caller in context, for a
/// signed-in viewer; the functions that change something check the caller's role themselves.
pub async fn server_fn(
    State(state): State<AppState>,
    caller: Caller,
    req: Request<Body>,
) -> Response {
    if let Err(e) = caller.require(Role::Viewer) {
        return ApiError::from(e).into_response();
    }
    let service = context(&state);
    let signed_in = SignedIn {
        name: caller.name.clone(),
        may_change: caller.role >= Role::Operator,
        may_delete: caller.role >= Role::Admin,
    };
    let ctx = move || {
        service();
        provide_context(signed_in.clone());
    };
    let answer = leptos_axum::handle_server_fns_with_context(ctx, req)
        .await
        .into_response();
    with_error_status(answer).await
}

/// A server function's error goes out as 500; give it the status its code means, as the REST
/// API does (the browser reads the error the same way whatever the status).
async fn with_error_status(answer: Response) -> Response {
    if answer.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return answer;
    }
    let (mut parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::BODY_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<ServiceError>(&bytes) {
        parts.status = crate::error::status(error.code);
    }
    Response::from_parts(parts, Body::from(bytes))
}
