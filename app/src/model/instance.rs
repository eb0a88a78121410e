//! Instances and their history, as lists, pages and the history view show them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ComponentStatus, Health, HealthState, ObjectResult, OperationInfo, OperationStatus};

/// One entry of an instance's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevisionSummary {
    /// 1, 2, 3, ...
    pub number: i64,
    /// `deploy`, `change`, `rollback` or `delete`.
    pub kind: String,
    /// Who asked for it.
    pub actor: String,
    /// When it was asked for (RFC 3339).
    pub created_at: String,
    /// When it finished (RFC 3339).
    pub finished_at: Option<String>,
    /// How it went.
    pub status: OperationStatus,
    /// A line about the outcome.
    pub message: String,
    /// The change set, for changes and rollbacks.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub change: Option<serde_json::Value>,
    /// Overall health when it finished (recorded a moment after its end).
    pub health: Option<HealthState>,
}

/// An instance as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstanceSummary {
    /// Namespace.
    pub namespace: String,
    /// Name (the template's `app_name`).
    pub name: String,
    /// Template id.
    pub template: String,
    /// Newest revision that finished applying.
    pub revision: i64,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When it was deleted, if it was.
    pub deleted_at: Option<String>,
    /// Who made the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    /// When the current revision was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// The newest revision, when it was interrupted or failed after the current one: it can be
    /// resumed (applied again) or rolled back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<Unfinished>,
}

/// A revision that did not finish: interrupted by a crash or a shutdown, failed, or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Unfinished {
    /// Its number.
    pub number: i64,
    /// deploy, change, rollback, resume or delete.
    pub kind: String,
    /// interrupted, failed or cancelled.
    pub status: OperationStatus,
    /// How far it got, and why it stopped.
    pub message: String,
}

/// An instance with its components' live status: the instance page and
/// `GET /api/v1/instances/{namespace}/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Stored facts.
    #[serde(flatten)]
    pub summary: InstanceSummary,
    /// The worst component's health.
    pub health: Health,
    /// One card per component.
    pub components: Vec<ComponentStatus>,
    /// The operation running on it now, with its results so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<OperationInfo>,
}

/// One revision in full: what was applied (secrets redacted) and what happened to each object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevisionRecord {
    /// Summary fields.
    #[serde(flatten)]
    pub summary: RevisionSummary,
    /// Input values, secret ones redacted.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub inputs: Value,
    /// The manifests, secrets redacted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub manifests: Vec<Value>,
    /// Per-object results.
    pub results: Vec<ObjectResult>,
}

/// The difference between two revisions' manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevisionDiff {
    /// The older side.
    pub from: i64,
    /// The newer side.
    pub to: i64,
    /// A unified diff of the redacted manifests.
    pub diff: String,
}

/// `GET /api/v1/instances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceList {
    /// Every instance that is not deleted, newest first.
    pub instances: Vec<InstanceSummary>,
}

/// `GET /api/v1/instances/{namespace}/{name}/revisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionList {
    /// Oldest first.
    pub revisions: Vec<RevisionSummary>,
}
