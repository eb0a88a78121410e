//! The REST API under `/api/v1`: thin handlers that parse, call the [`Engine`], and map its
//! errors to status codes (here and in `error.rs` only).

use std::{convert::Infallible, time::Duration};

use axum::{
    Json,
    extract::{FromRequest, Path, Query, Request, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};

use crate::{
    engine::{
        apply::ApplyError,
        instances::{ChangeRequest, CreateRequest, EngineError, OperationInfo, Progress},
        manifest,
    },
    error::{ApiError, ApiResult},
    state::AppState,
};

/// JSON body whose rejections are JSON errors too (400 for syntax, 422 for shape).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::invalid(format!(
                "invalid request body: {}",
                e.body_text()
            ))),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::bad_request(format!(
                "malformed JSON: {}",
                e.body_text()
            ))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::bad_request(
                "expected Content-Type: application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::too_large(format!(
                    "request body is larger than {} bytes",
                    crate::http::BODY_LIMIT
                )))
            }
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Template(t) => {
                let line = t.line();
                ApiError::invalid(t.to_string()).with_details(json!({"line": line}))
            }
            EngineError::Change(c) => ApiError::invalid(c.to_string()),
            EngineError::Invalid(m) => ApiError::invalid(m),
            EngineError::NotFound(m) => ApiError::not_found(m),
            e @ EngineError::StaleRevision { current, .. } => {
                ApiError::conflict(e.to_string()).with_details(json!({"currentRevision": current}))
            }
            e @ (EngineError::StalePlan | EngineError::Busy(_) | EngineError::Exists(_)) => {
                ApiError::conflict(e.to_string())
            }
            EngineError::Preflight(ApplyError::MissingKinds { kinds, crds }) => {
                let message = ApplyError::MissingKinds {
                    kinds: kinds.clone(),
                    crds: crds.clone(),
                }
                .to_string();
                ApiError::invalid(message)
                    .with_details(json!({"missingKinds": kinds, "missingCrds": crds}))
            }
            EngineError::Preflight(other) => ApiError::unavailable(other.to_string()),
            EngineError::Unavailable(m) => {
                ApiError::unavailable(format!("the cluster is unreachable: {m}"))
            }
            EngineError::History(h) => ApiError::internal(h),
        }
    }
}

/// Who is asking: `X-Berth-Actor`, else `api`.
fn actor(headers: &HeaderMap) -> String {
    headers
        .get("x-berth-actor")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().chars().take(64).collect::<String>())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "api".to_string())
}

/// `?wait=true` makes an operation answer when it is done.
#[derive(Deserialize, Default)]
pub struct WaitQuery {
    #[serde(default)]
    wait: bool,
}

/// An operation's answer: `done` (200, or 201 for a create) when the caller waited for it,
/// 202 Accepted while it still runs in the background.
fn operation_response(op: OperationInfo, waited: bool, done: StatusCode) -> Response {
    (if waited { done } else { StatusCode::ACCEPTED }, Json(op)).into_response()
}

/// GET /api/v1/templates
pub async fn list_templates(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"templates": s.engine.templates().list()}))
}

/// GET /api/v1/templates/{id}
pub async fn get_template(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = s
        .engine
        .templates()
        .info(&id)
        .ok_or_else(|| ApiError::not_found(format!("template {id}")))?;
    Ok(Json(serde_json::to_value(t).map_err(ApiError::internal)?))
}

/// GET /api/v1/instances
pub async fn list_instances(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let list = s
        .engine
        .history()
        .instances(false)
        .await
        .map_err(|e| ApiError::from(EngineError::from(e)))?;
    Ok(Json(json!({"instances": list})))
}

/// POST /api/v1/instances
pub async fn create_instance(
    State(s): State<AppState>,
    Query(q): Query<WaitQuery>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateRequest>,
) -> ApiResult<Response> {
    match s.engine.create(req, &actor(&headers), q.wait).await? {
        Ok(op) => Ok(operation_response(op, q.wait, StatusCode::CREATED)),
        Err(plan) => Ok((StatusCode::OK, Json(plan)).into_response()),
    }
}

/// GET /api/v1/instances/{namespace}/{name}
pub async fn get_instance(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(Json(s.engine.get(&ns, &name).await?).into_response())
}

/// DELETE /api/v1/instances/{namespace}/{name}
pub async fn delete_instance(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    Ok(Json(s.engine.delete(&ns, &name, &actor(&headers)).await?).into_response())
}

/// POST /api/v1/instances/{namespace}/{name}/changes/preview
pub async fn preview_change(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.engine.preview(&ns, &name, &req).await?).into_response())
}

/// POST /api/v1/instances/{namespace}/{name}/changes
pub async fn apply_change(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<WaitQuery>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> ApiResult<Response> {
    if req.plan_hash.is_none() {
        return Err(ApiError::invalid(
            "applying a change needs the planHash of its preview: POST .../changes/preview first and confirm",
        ));
    }
    let op = s
        .engine
        .apply_change(&ns, &name, &req, &actor(&headers), q.wait)
        .await?;
    Ok(operation_response(op, q.wait, StatusCode::OK))
}

/// GET /api/v1/instances/{namespace}/{name}/revisions
pub async fn list_revisions(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let list = s
        .engine
        .history()
        .revisions(&ns, &name)
        .await
        .map_err(EngineError::from)?;
    Ok(Json(json!({"revisions": list})).into_response())
}

/// GET /api/v1/instances/{namespace}/{name}/revisions/{number}
pub async fn get_revision(
    State(s): State<AppState>,
    Path((ns, name, n)): Path<(String, String, i64)>,
) -> ApiResult<Response> {
    Ok(Json(
        s.engine
            .history()
            .revision(&ns, &name, n)
            .await
            .map_err(EngineError::from)?,
    )
    .into_response())
}

/// `?against=N` for a diff.
#[derive(Deserialize)]
pub struct DiffQuery {
    against: i64,
}

/// GET /api/v1/instances/{namespace}/{name}/revisions/{number}/diff?against=M — from M to number.
pub async fn diff_revisions(
    State(s): State<AppState>,
    Path((ns, name, n)): Path<(String, String, i64)>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Response> {
    let history = s.engine.history();
    let to = history
        .revision(&ns, &name, n)
        .await
        .map_err(EngineError::from)?;
    let from = history
        .revision(&ns, &name, q.against)
        .await
        .map_err(EngineError::from)?;
    let diff = manifest::unified_diff(
        &from.manifests,
        &to.manifests,
        &format!("revision-{}", q.against),
        &format!("revision-{n}"),
    );
    Ok(Json(json!({"from": q.against, "to": n, "diff": diff})).into_response())
}

/// `?wait=true&force=true` for a rollback.
#[derive(Deserialize, Default)]
pub struct RollbackQuery {
    #[serde(default)]
    wait: bool,
    #[serde(default)]
    force: bool,
}

/// POST /api/v1/instances/{namespace}/{name}/revisions/{number}/rollback
pub async fn rollback(
    State(s): State<AppState>,
    Path((ns, name, n)): Path<(String, String, i64)>,
    Query(q): Query<RollbackQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let op = s
        .engine
        .rollback(&ns, &name, n, &actor(&headers), q.force, q.wait)
        .await?;
    Ok(operation_response(op, q.wait, StatusCode::OK))
}

/// GET /api/v1/operations/{id}
pub async fn get_operation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.engine.operation(&id).await?).into_response())
}

/// GET /api/v1/instances/{namespace}/{name}/events — Server-Sent Events: `health` whenever the
/// instance's live objects change (and once at the start), `progress` for each applied object,
/// `finished` when an operation ends.
pub async fn events(
    State(s): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>> {
    let first = s.engine.get(&ns, &name).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    let engine = s.engine.clone();
    let instance = format!("{ns}/{name}");
    tokio::spawn(async move {
        let mut last = serde_json::to_string(&first).unwrap_or_default();
        if tx
            .send(Event::default().event("health").data(last.clone()))
            .await
            .is_err()
        {
            return;
        }
        let mut progress = engine.subscribe_progress();
        let mut changes = engine.subscribe_changes();
        loop {
            let changed = async {
                match changes.as_mut() {
                    Some(c) => c.recv().await.ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                p = progress.recv() => {
                    let event = match p {
                        Ok(p @ Progress::Object { .. }) if progress_for(&p) == instance => Event::default().event("progress").json_data(&p),
                        Ok(p @ Progress::Finished { .. }) if progress_for(&p) == instance => Event::default().event("finished").json_data(&p),
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return,
                    };
                    if let Ok(e) = event && tx.send(e).await.is_err() { return; }
                }
                c = changed => {
                    if c.as_deref() != Some(instance.as_str()) { continue; }
                    // Let a burst of watch events settle into one update.
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    let Ok(view) = engine.get(&ns, &name).await else { continue };
                    let now = serde_json::to_string(&view).unwrap_or_default();
                    if now != last {
                        last = now.clone();
                        if tx.send(Event::default().event("health").data(now)).await.is_err() { return; }
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    let stream = ReceiverStream::new(rx).map(Ok);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn progress_for(p: &Progress) -> &str {
    match p {
        Progress::Object { instance, .. } | Progress::Finished { instance, .. } => instance,
    }
}
