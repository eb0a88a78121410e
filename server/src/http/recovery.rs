//! Recovering from operations that did not finish: resume the newest revision when it was
//! interrupted, failed or cancelled, and cancel one that is running.

use app::model::OperationInfo;
use axum::{Json, extract::State, http::StatusCode, response::Response};

use super::{
    api::{WaitQuery, operation},
    extract::{ApiPath, ApiQuery},
};
use crate::{
    auth::{Caller, Role},
    error::ApiResult,
    state::AppState,
};

/// Applies again the newest revision, when it was interrupted (Berth stopped while it ran),
/// failed or cancelled, as a new `resume` revision with the same manifests.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/revisions/{number}/resume", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path), ("number" = i64, Path), WaitQuery),
    responses(
        (status = 200, description = "resumed (with wait=true)", body = OperationInfo),
        (status = 202, description = "resuming", body = OperationInfo),
        (status = 422, description = "not the newest revision, or it finished well", body = app::error::ServiceError),
))]
pub async fn resume(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, n)): ApiPath<(String, String, i64)>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Operator)?;
    let op = s
        .service
        .resume(&ns, &name, n, &caller.name, q.wait)
        .await?;
    Ok(operation(op, q.wait, StatusCode::OK))
}

/// Cancels a running operation: it stops before its next object, and ends `cancelled` with the
/// objects applied so far in its results.
#[utoipa::path(delete, path = "/operations/{id}", tag = "instances",
    params(("id" = String, Path, description = "`<namespace>:<name>:<revision>`")),
    responses(
        (status = 202, description = "asked to stop; the operation as it is now", body = OperationInfo),
        (status = 409, description = "it is not running", body = app::error::ServiceError),
))]
pub async fn cancel_operation(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<OperationInfo>)> {
    caller.require(Role::Operator)?;
    Ok((StatusCode::ACCEPTED, Json(s.service.cancel(&id).await?)))
}
