//! Operations: creating an instance, and what every operation reports while it runs and when it
//! is done.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Component, ObjectRef, TemplateWarning};

/// What applying did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ObjectAction {
    /// It did not exist and was created.
    Created,
    /// It existed and changed.
    Configured,
    /// It existed and nothing changed.
    Unchanged,
    /// The new revision no longer has it, so it was deleted.
    Pruned,
    /// Deleted with its instance.
    Deleted,
    /// The API server refused it.
    Failed,
    /// Would be applied (dry run only).
    Planned,
}

/// The result of applying (or dry-running) one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// The object.
    pub object: ObjectRef,
    /// What happened.
    pub action: ObjectAction,
    /// The API server's message, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// State of an operation (a deploy, change, rollback or delete being carried out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    /// Still being applied.
    Running,
    /// Every object applied.
    Succeeded,
    /// Something failed; see the per-object results.
    Failed,
    /// Berth stopped while it ran; found on the next start.
    Interrupted,
    /// Someone cancelled it; the objects before the cancel were applied.
    Cancelled,
}

impl OperationStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
            OperationStatus::Interrupted => "interrupted",
            OperationStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> OperationStatus {
        match s {
            "running" => OperationStatus::Running,
            "succeeded" => OperationStatus::Succeeded,
            "interrupted" => OperationStatus::Interrupted,
            "cancelled" => OperationStatus::Cancelled,
            _ => OperationStatus::Failed,
        }
    }
}

/// `POST /api/v1/instances`: deploy a template as a new instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    /// Template id.
    pub template: String,
    /// Namespace (Berth's configured default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Instance name (the template's generated `app_name` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Input values by name.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Only plan and dry-run; apply and record nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overwrite fields another field manager changed.
    #[serde(default)]
    pub force: bool,
    /// Refuse expressions that fail or are undefined instead of rendering them as Sealos does
    /// (`''` in resources, `undefined` in defaults); the plan lists each as a warning.
    #[serde(default)]
    pub strict: bool,
    /// Take over objects of the same name that exist and that Berth did not create (never
    /// another instance's).
    #[serde(default)]
    pub adopt: bool,
}

/// The answer to a dry-run create: what would be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatePlan {
    /// Namespace.
    pub namespace: String,
    /// Instance name.
    pub name: String,
    /// The objects that would be applied, secrets redacted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub manifests: Vec<Value>,
    /// Their components.
    pub components: Vec<Component>,
    /// The server-side dry run of each object.
    pub dry_run: Vec<ObjectResult>,
    /// Expressions rendered as Sealos does (`''` or `undefined`), each with its line.
    pub warnings: Vec<TemplateWarning>,
    /// The platform values the template was rendered with (`SEALOS_NAMESPACE`, ...).
    #[serde(default)]
    pub platform: BTreeMap<String, String>,
}

/// A create, change, rollback or delete: running, or finished with its per-object results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OperationInfo {
    /// `<namespace>:<name>:<revision>`.
    pub id: String,
    /// Namespace.
    pub namespace: String,
    /// Instance name.
    pub name: String,
    /// The revision it records.
    pub revision: i64,
    /// `running` until done.
    pub status: OperationStatus,
    /// A line about the outcome.
    pub message: String,
    /// Per-object results so far.
    pub results: Vec<ObjectResult>,
}

impl OperationInfo {
    /// The id of revision `revision` of `namespace/name`'s operation.
    pub fn id_of(namespace: &str, name: &str, revision: i64) -> String {
        format!("{namespace}:{name}:{revision}")
    }

    /// Splits an operation id into (namespace, name, revision).
    pub fn parse_id(id: &str) -> Option<(&str, &str, i64)> {
        let mut parts = id.splitn(3, ':');
        let (ns, name, rev) = (parts.next()?, parts.next()?, parts.next()?);
        Some((ns, name, rev.parse().ok()?))
    }
}

/// Progress of an operation, as subscribers see it.
///
/// Written as serde derives it; read by `tagged.rs`, without buffering the object first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Progress {
    /// One object was applied (or failed).
    #[serde(rename_all = "camelCase")]
    Object {
        /// `<namespace>/<name>`.
        instance: String,
        /// The revision being applied.
        revision: i64,
        /// What happened to the object.
        result: ObjectResult,
    },
    /// The operation finished.
    #[serde(rename_all = "camelCase")]
    Finished {
        /// `<namespace>/<name>`.
        instance: String,
        /// The revision applied.
        revision: i64,
        /// How it ended.
        status: OperationStatus,
        /// A line about the outcome.
        message: String,
    },
}

impl Progress {
    /// The instance (`<namespace>/<name>`) it is about.
    pub fn instance(&self) -> &str {
        match self {
            Progress::Object { instance, .. } | Progress::Finished { instance, .. } => instance,
        }
    }
}
