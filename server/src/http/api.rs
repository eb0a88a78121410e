//! The REST API under `/api/v1`: thin handlers that read the request, call the [`Service`], and
//! answer. Each carries its OpenAPI description, from which `/api/v1/openapi.json` is generated;
//! the errors every route may answer are added to each in `openapi.rs`.
//!
//! [`Service`]: crate::service::Service

use std::convert::Infallible;

use app::{
    model::{
        ChangeRequest, CreatePlan, CreateRequest, Edit, InstanceList, InstanceView,
        ManifestEditRequest, OperationInfo, Preview, RevisionDiff, RevisionList, RevisionRecord,
        TemplateImport, TemplateInfo, TemplateList,
    },
    service::{Created, LiveEvent},
};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::Deserialize;
use tokio_stream::{Stream, StreamExt};
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::{Caller, Role},
    error::ApiResult,
    state::AppState,
};

/// `?wait=true` makes an operation answer when it is done.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Answer when the operation has finished (200/201) instead of at once (202).
    #[serde(default)]
    pub wait: bool,
}

/// `?against=N` for a diff.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older revision.
    against: i64,
}

/// `?wait=true&force=true` for a rollback.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollbackQuery {
    /// Answer when the rollback has finished.
    #[serde(default)]
    wait: bool,
    /// Overwrite fields changed outside Berth.
    #[serde(default)]
    force: bool,
    /// The rollback preview's plan hash: when given, only exactly that plan applies (409 if the
    /// instance changed since).
    #[serde(default, rename = "planHash")]
    plan_hash: Option<String>,
}

/// An operation's answer: `done` (200, or 201 for a create) when the caller waited for it,
/// 202 Accepted while it still runs in the background.
pub fn operation(op: OperationInfo, waited: bool, done: StatusCode) -> Response {
    let status = if waited { done } else { StatusCode::ACCEPTED };
    (status, Json(op)).into_response()
}

/// Every template, in id order.
#[utoipa::path(get, path = "/templates", tag = "templates",
    responses((status = 200, description = "every template", body = TemplateList)))]
pub async fn list_templates(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TemplateList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(TemplateList {
        templates: s.service.template_list(),
    }))
}

/// Imports a template (admin): checked as `berth template check` checks a file, its first
/// problem named at its line (422), stored, and offered at once and after restarts.
#[utoipa::path(post, path = "/templates", tag = "templates",
    request_body = TemplateImport,
    responses((status = 201, description = "imported", body = TemplateInfo)))]
pub async fn import_template(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TemplateImport>,
) -> ApiResult<(StatusCode, Json<TemplateInfo>)> {
    caller.require(Role::Admin)?;
    let info = s.service.import_template(&req.source, &caller.name).await?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// A template with the inputs its deploy form asks for.
#[utoipa::path(get, path = "/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "template id")),
    responses((status = 200, description = "the template", body = TemplateInfo)))]
pub async fn get_template(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TemplateInfo>> {
    caller.require(Role::Viewer)?;
    Ok(Json(s.service.template_info(&id)?))
}

/// Every instance that is not deleted, newest first.
#[utoipa::path(get, path = "/instances", tag = "instances",
    responses((status = 200, description = "the instances", body = InstanceList)))]
pub async fn list_instances(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<InstanceList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(InstanceList {
        instances: s.service.instances().await?,
    }))
}

/// Deploys a template as a new instance; with `dryRun`, only plans it.
#[utoipa::path(post, path = "/instances", tag = "instances", params(WaitQuery),
    request_body = CreateRequest,
    responses(
        (status = 200, description = "dry run: what would be applied", body = CreatePlan),
        (status = 201, description = "deployed (with wait=true)", body = OperationInfo),
        (status = 202, description = "deploying", body = OperationInfo),
))]
pub async fn create_instance(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WaitQuery>,
    ApiJson(req): ApiJson<CreateRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Operator)?;
    Ok(match s.service.create(req, &caller.name, q.wait).await? {
        Created::Started(op) => operation(op, q.wait, StatusCode::CREATED),
        Created::Planned(plan) => (StatusCode::OK, Json(plan)).into_response(),
    })
}

/// An instance with its components' live health.
#[utoipa::path(get, path = "/instances/{namespace}/{name}", tag = "instances",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the instance", body = InstanceView)))]
pub async fn get_instance(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<InstanceView>> {
    caller.require(Role::Viewer)?;
    Ok(Json(s.service.get(&ns, &name).await?))
}

/// Deletes every object the instance owns; its history stays.
#[utoipa::path(delete, path = "/instances/{namespace}/{name}", tag = "instances",
    params(("namespace" = String, Path), ("name" = String, Path), WaitQuery),
    responses(
        (status = 200, description = "deleted (with wait=true)", body = OperationInfo),
        (status = 202, description = "deleting", body = OperationInfo),
))]
pub async fn delete_instance(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Admin)?;
    let op = s.service.delete(&ns, &name, &caller.name, q.wait).await?;
    Ok(operation(op, q.wait, StatusCode::OK))
}

/// Previews a change set: diff, dry run, drift and plan hash. Changes nothing.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/changes/preview", tag = "changes",
    params(("namespace" = String, Path), ("name" = String, Path)),
    request_body = ChangeRequest,
    responses((status = 200, description = "the preview", body = Preview)))]
pub async fn preview_change(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> ApiResult<Json<Preview>> {
    caller.require(Role::Operator)?;
    Ok(Json(s.service.preview(&ns, &name, &req).await?))
}

/// One object of the instance's current revision as YAML (secrets redacted).
#[utoipa::path(get, path = "/instances/{namespace}/{name}/objects/{kind}/{object}", tag = "changes",
    params(("namespace" = String, Path), ("name" = String, Path), ("kind" = String, Path), ("object" = String, Path)),
    responses((status = 200, description = "the object's YAML", body = String, content_type = "application/yaml")))]
pub async fn object_yaml(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, kind, object)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let yaml = s.service.object_yaml(&ns, &name, &kind, &object).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/yaml")],
        yaml,
    )
        .into_response())
}

/// Turns an object's edited YAML into a `manifest` edit (the merge patch from the current
/// revision), checked as a change set will check it. Changes nothing.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/manifest-edits", tag = "changes",
    params(("namespace" = String, Path), ("name" = String, Path)),
    request_body = ManifestEditRequest,
    responses((status = 200, description = "the edit to put in a change set", body = Edit)))]
pub async fn manifest_edit(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ManifestEditRequest>,
) -> ApiResult<Json<Edit>> {
    caller.require(Role::Operator)?;
    Ok(Json(s.service.manifest_patch(&ns, &name, &req).await?))
}

/// Applies a previewed change set (it must carry the preview's `planHash`). Confirmed within a
/// minute of its preview, with nothing moved since, it applies from that preview's dry run.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/changes", tag = "changes",
    params(("namespace" = String, Path), ("name" = String, Path), WaitQuery),
    request_body = ChangeRequest,
    responses(
        (status = 200, description = "applied (with wait=true)", body = OperationInfo),
        (status = 202, description = "applying", body = OperationInfo),
))]
pub async fn apply_change(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<WaitQuery>,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> ApiResult<Response> {
    caller.require(Role::Operator)?;
    let op = s
        .service
        .apply_change(&ns, &name, &req, &caller.name, q.wait)
        .await?;
    Ok(operation(op, q.wait, StatusCode::OK))
}

/// The instance's revisions, oldest first.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/revisions", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the revisions", body = RevisionList)))]
pub async fn list_revisions(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<RevisionList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(RevisionList {
        revisions: s.service.revisions(&ns, &name).await?,
    }))
}

/// One revision: its change, manifests (redacted) and per-object results.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/revisions/{number}", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path), ("number" = i64, Path)),
    responses((status = 200, description = "the revision", body = RevisionRecord)))]
pub async fn get_revision(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, n)): ApiPath<(String, String, i64)>,
) -> ApiResult<Json<RevisionRecord>> {
    caller.require(Role::Viewer)?;
    Ok(Json(s.service.revision(&ns, &name, n).await?))
}

/// The diff from revision `against` to revision `number`.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/revisions/{number}/diff", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path), ("number" = i64, Path), DiffQuery),
    responses((status = 200, description = "the diff", body = RevisionDiff)))]
pub async fn diff_revisions(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, n)): ApiPath<(String, String, i64)>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<RevisionDiff>> {
    caller.require(Role::Viewer)?;
    Ok(Json(s.service.diff(&ns, &name, n, q.against).await?))
}

/// Rolls back to a revision: re-applies it as a new revision.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/revisions/{number}/rollback", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path), ("number" = i64, Path), RollbackQuery),
    responses(
        (status = 200, description = "rolled back (with wait=true)", body = OperationInfo),
        (status = 202, description = "rolling back", body = OperationInfo),
))]
pub async fn rollback(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, n)): ApiPath<(String, String, i64)>,
    ApiQuery(q): ApiQuery<RollbackQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Operator)?;
    let op = s
        .service
        .rollback(
            &ns,
            &name,
            n,
            q.plan_hash.as_deref(),
            &caller.name,
            q.force,
            q.wait,
        )
        .await?;
    Ok(operation(op, q.wait, StatusCode::OK))
}

/// Previews a rollback as a change is previewed: diff, dry run, drift and plan hash. Changes
/// nothing.
#[utoipa::path(post, path = "/instances/{namespace}/{name}/revisions/{number}/rollback/preview", tag = "history",
    params(("namespace" = String, Path), ("name" = String, Path), ("number" = i64, Path), RollbackQuery),
    responses((status = 200, description = "the preview", body = Preview)))]
pub async fn preview_rollback(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name, n)): ApiPath<(String, String, i64)>,
    ApiQuery(q): ApiQuery<RollbackQuery>,
) -> ApiResult<Json<Preview>> {
    caller.require(Role::Operator)?;
    Ok(Json(
        s.service.rollback_preview(&ns, &name, n, q.force).await?,
    ))
}

/// An operation's progress and results: live while it runs, then from history.
#[utoipa::path(get, path = "/operations/{id}", tag = "instances",
    params(("id" = String, Path, description = "`<namespace>:<name>:<revision>`")),
    responses((status = 200, description = "the operation", body = OperationInfo)))]
pub async fn get_operation(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<OperationInfo>> {
    caller.require(Role::Viewer)?;
    Ok(Json(s.service.operation(&id).await?))
}

/// Server-Sent Events: `health` (an `InstanceView`) at once and whenever the instance's live
/// objects change, `progress` (a `Progress`) for each applied object, `finished` when an
/// operation ends, `k8s-event` (a `KubeEvent`) for each new Kubernetes Event about its objects.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/events", tag = "instances",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "an event stream", content_type = "text/event-stream", body = String)))]
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Role::Viewer)?;
    let live = s.service.watch(&ns, &name).await?;
    let events = live.filter_map(|e| {
        let event = match e {
            LiveEvent::Health(view) => Event::default().event("health").json_data(&view),
            LiveEvent::Progress(p @ app::model::Progress::Object { .. }) => {
                Event::default().event("progress").json_data(&p)
            }
            LiveEvent::Progress(p) => Event::default().event("finished").json_data(&p),
            LiveEvent::KubeEvent(e) => Event::default().event("k8s-event").json_data(&e),
        };
        event.ok().map(Ok)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
