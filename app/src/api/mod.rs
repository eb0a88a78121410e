//! Server functions the pages call, through [`call`]. Thin: on the server they ask the [`Berth`]
//! service the server provides as context; in the browser they are HTTP calls to `/ui/...`, with
//! their arguments as JSON. Errors arrive typed, as [`ServiceError`]. Every one that changes
//! something checks the signed-in caller's role first, as the REST API does, and records the
//! caller as the actor.
//!
//! [`Berth`]: crate::service::Berth

mod call;

pub use call::call;

use crate::codec::Json;
use leptos::prelude::*;

use crate::{
    error::ServiceError,
    model::{
        ChangeRequest, ClusterHealth, CreatePlan, CreateRequest, Edit, InstanceSummary,
        InstanceView, IntentAnswer, ObjectKey, OperationInfo, Preview, RevisionDiff,
        RevisionSummary, TemplateInfo,
    },
};

/// The service the server provides; an error (not a panic) where it provides none, such as a
/// render outside `berth serve`.
#[cfg(feature = "ssr")]
fn service() -> Result<std::sync::Arc<dyn crate::service::Berth>, ServiceError> {
    use_context::<std::sync::Arc<dyn crate::service::Berth>>().ok_or_else(|| {
        ServiceError::new(
            crate::error::ErrorCode::Internal,
            "no service in this render",
        )
    })
}

/// The signed-in caller's name, when their role allows `need`; else a typed 403.
#[cfg(feature = "ssr")]
fn actor(need: crate::service::Need) -> Result<String, ServiceError> {
    let who = use_context::<crate::service::SignedIn>()
        .ok_or_else(|| ServiceError::new(crate::error::ErrorCode::Unauthorized, "sign in first"))?;
    who.require(need)
}

/// Every instance that is not deleted, newest first.
#[server(prefix = "/ui", endpoint = "instances", input = Json, output = Json)]
pub async fn list_instances() -> Result<Vec<InstanceSummary>, ServiceError> {
    service()?.instances().await
}

/// One instance with its components' live health, or `None` when it does not exist.
#[server(prefix = "/ui", endpoint = "instance", input = Json, output = Json)]
pub async fn get_instance(
    namespace: String,
    name: String,
) -> Result<Option<InstanceView>, ServiceError> {
    match service()?.instance(namespace, name).await {
        Ok(view) => Ok(Some(view)),
        Err(e) if e.code == crate::error::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The kept Kubernetes Events of one component of an instance, newest first.
#[server(prefix = "/ui", endpoint = "k8s-events", input = Json, output = Json)]
pub async fn k8s_events(
    namespace: String,
    name: String,
    component: String,
) -> Result<crate::model::KubeEventList, ServiceError> {
    service()?
        .k8s_events(namespace, name, Some(component))
        .await
}

/// Every template, in id order.
#[server(prefix = "/ui", endpoint = "templates", input = Json, output = Json)]
pub async fn list_templates() -> Result<Vec<TemplateInfo>, ServiceError> {
    service()?.templates().await
}

/// What deploying `request` would apply: rendered, resolved and dry-run, nothing recorded.
#[server(prefix = "/ui", endpoint = "plan_deploy", input = Json, output = Json)]
pub async fn plan_deploy(request: CreateRequest) -> Result<CreatePlan, ServiceError> {
    let actor = actor(crate::service::Need::Change)?;
    let request = CreateRequest {
        dry_run: true,
        ..request
    };
    match service()?.create(actor, request, false).await? {
        crate::service::Created::Planned(plan) => Ok(plan),
        crate::service::Created::Started(_) => Err(ServiceError::new(
            crate::error::ErrorCode::Internal,
            "a dry run started an operation",
        )),
    }
}

/// Deploys `request`; answers as soon as the operation has started.
#[server(prefix = "/ui", endpoint = "deploy", input = Json, output = Json)]
pub async fn deploy(request: CreateRequest) -> Result<OperationInfo, ServiceError> {
    let actor = actor(crate::service::Need::Change)?;
    let request = CreateRequest {
        dry_run: false,
        ..request
    };
    match service()?.create(actor, request, false).await? {
        crate::service::Created::Started(op) => Ok(op),
        crate::service::Created::Planned(_) => Err(ServiceError::new(
            crate::error::ErrorCode::Internal,
            "a deploy only planned",
        )),
    }
}

/// The diff, dry run, drift and plan hash of a change set.
#[server(prefix = "/ui", endpoint = "preview_change", input = Json, output = Json)]
pub async fn preview_change(
    namespace: String,
    name: String,
    request: ChangeRequest,
) -> Result<Preview, ServiceError> {
    actor(crate::service::Need::Change)?;
    service()?.preview(namespace, name, request).await
}

/// Applies a previewed change set; answers once it has started.
#[server(prefix = "/ui", endpoint = "apply_change", input = Json, output = Json)]
pub async fn apply_change(
    namespace: String,
    name: String,
    request: ChangeRequest,
) -> Result<OperationInfo, ServiceError> {
    let actor = actor(crate::service::Need::Change)?;
    service()?
        .apply(actor, namespace, name, request, false)
        .await
}

/// What the change box made of `text`: a previewed change, a question or a refusal. Changes
/// nothing; the change is applied like any other, with its preview's plan hash.
#[server(prefix = "/ui", endpoint = "read_intent", input = Json, output = Json)]
pub async fn read_intent(
    namespace: String,
    name: String,
    text: String,
) -> Result<IntentAnswer, ServiceError> {
    actor(crate::service::Need::Change)?;
    service()?.intent(namespace, name, text).await
}

/// The instance's revisions, oldest first.
#[server(prefix = "/ui", endpoint = "revisions", input = Json, output = Json)]
pub async fn list_revisions(
    namespace: String,
    name: String,
) -> Result<Vec<RevisionSummary>, ServiceError> {
    service()?.revisions(namespace, name).await
}

/// The diff from revision `against` to revision `number`.
#[server(prefix = "/ui", endpoint = "diff", input = Json, output = Json)]
pub async fn diff_revisions(
    namespace: String,
    name: String,
    number: i64,
    against: i64,
) -> Result<RevisionDiff, ServiceError> {
    service()?.diff(namespace, name, number, against).await
}

/// The preview of a rollback to revision `to`.
#[server(prefix = "/ui", endpoint = "preview_rollback", input = Json, output = Json)]
pub async fn preview_rollback(
    namespace: String,
    name: String,
    to: i64,
) -> Result<Preview, ServiceError> {
    actor(crate::service::Need::Change)?;
    service()?
        .rollback_preview(namespace, name, to, false)
        .await
}

/// Rolls back to revision `to`, exactly as previewed (`plan_hash`); answers once it started.
#[server(prefix = "/ui", endpoint = "rollback", input = Json, output = Json)]
pub async fn rollback(
    namespace: String,
    name: String,
    to: i64,
    plan_hash: String,
) -> Result<OperationInfo, ServiceError> {
    let actor = actor(crate::service::Need::Change)?;
    service()?
        .rollback(actor, namespace, name, to, Some(plan_hash), false, false)
        .await
}

/// Applies the newest revision again when it was interrupted, failed or cancelled; answers
/// once it started.
#[server(prefix = "/ui", endpoint = "resume", input = Json, output = Json)]
pub async fn resume_revision(
    namespace: String,
    name: String,
    number: i64,
) -> Result<OperationInfo, ServiceError> {
    let actor = actor(crate::service::Need::Change)?;
    service()?.resume(actor, namespace, name, number).await
}

/// Asks a running operation to stop before its next object.
#[server(prefix = "/ui", endpoint = "cancel", input = Json, output = Json)]
pub async fn cancel_operation(id: String) -> Result<OperationInfo, ServiceError> {
    actor(crate::service::Need::Change)?;
    service()?.cancel(id).await
}

/// Deletes the instance's objects (its history stays); answers once it started.
#[server(prefix = "/ui", endpoint = "delete", input = Json, output = Json)]
pub async fn delete_instance(
    namespace: String,
    name: String,
) -> Result<OperationInfo, ServiceError> {
    let actor = actor(crate::service::Need::Admin)?;
    service()?.delete(actor, namespace, name, false).await
}

/// One object of the current revision as YAML, secrets redacted.
#[server(prefix = "/ui", endpoint = "object_yaml", input = Json, output = Json)]
pub async fn object_yaml(
    namespace: String,
    name: String,
    kind: String,
    object: String,
) -> Result<String, ServiceError> {
    service()?.object_yaml(namespace, name, kind, object).await
}

/// The `manifest` edit that turns the object into `yaml`, checked (a bad YAML names its line).
#[server(prefix = "/ui", endpoint = "manifest_edit", input = Json, output = Json)]
pub async fn manifest_edit(
    namespace: String,
    name: String,
    object: ObjectKey,
    yaml: String,
) -> Result<Edit, ServiceError> {
    actor(crate::service::Need::Change)?;
    service()?
        .manifest_patch(
            namespace,
            name,
            crate::model::ManifestEditRequest { object, yaml },
        )
        .await
}

/// Imports a template from its source (admin only); its problems name their line.
#[server(prefix = "/ui", endpoint = "import_template", input = Json, output = Json)]
pub async fn import_template(source: String) -> Result<TemplateInfo, ServiceError> {
    let actor = actor(crate::service::Need::Admin)?;
    service()?.import_template(actor, source).await
}

/// Whether the cluster answers now.
#[server(prefix = "/ui", endpoint = "cluster", input = Json, output = Json)]
pub async fn cluster_status() -> Result<ClusterHealth, ServiceError> {
    service()?.cluster().await
}

/// One template with its inputs.
#[server(prefix = "/ui", endpoint = "template", input = Json, output = Json)]
pub async fn get_template(id: String) -> Result<TemplateInfo, ServiceError> {
    service()?.template(id).await
}
