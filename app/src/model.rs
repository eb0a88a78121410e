//! Types the server and the UI share. Plain data: no kube, no sqlx.

use serde::{Deserialize, Serialize};

/// What kind of card a component gets on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardKind {
    /// A workload of the application itself.
    App,
    /// A database (SQL, key-value, analytics).
    Database,
    /// A message broker or its coordinator.
    Queue,
    /// Object storage.
    Storage,
    /// Ingress, public URLs and launcher entries.
    Network,
}

impl CardKind {
    /// Lowercase name, as used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::App => "app",
            CardKind::Database => "database",
            CardKind::Queue => "queue",
            CardKind::Storage => "storage",
            CardKind::Network => "network",
        }
    }
}

/// Identifies one Kubernetes object of a rendered template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `apps/v1`, `v1`, ...
    pub api_version: String,
    /// `Deployment`, `Service`, ...
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// A unit the UI shows as one card: a workload, database or bucket, with the objects that
/// belong to it (its Services, ConfigMaps, Secrets, volume claims, init Jobs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Short, stable id within the instance: `web`, `capture`, `pg`, ...
    pub id: String,
    /// The kind of card.
    pub card: CardKind,
    /// The object that defines it (the workload, database cluster, bucket or ingress).
    pub primary: ObjectRef,
    /// Every object that belongs to it, the primary first.
    pub objects: Vec<ObjectRef>,
    /// Ids of the components it needs, sorted.
    pub depends_on: Vec<String>,
}

/// Health of an object or a component, from best to worst as gitops-engine ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthState {
    /// Running as asked.
    Healthy,
    /// Paused or suspended on purpose.
    Suspended,
    /// On its way to healthy (rolling out, starting, waiting for a dependency).
    Progressing,
    /// Expected but not in the cluster.
    Missing,
    /// Failing: crash loops, image pull errors, failed Jobs.
    Degraded,
    /// Cannot be told (the cluster is unreachable, or the status is unreadable).
    Unknown,
}

impl HealthState {
    /// Rank for "worst of": higher is worse.
    pub fn severity(self) -> u8 {
        match self {
            HealthState::Healthy => 0,
            HealthState::Suspended => 1,
            HealthState::Progressing => 2,
            HealthState::Missing => 3,
            HealthState::Degraded => 4,
            HealthState::Unknown => 5,
        }
    }
}

/// A health state with a one-line reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The state.
    pub state: HealthState,
    /// Why, e.g. "0/1 ready: image pull back-off".
    pub reason: String,
}

impl Health {
    /// A health value.
    pub fn new(state: HealthState, reason: impl Into<String>) -> Health {
        Health {
            state,
            reason: reason.into(),
        }
    }
}

/// Live health of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectHealth {
    /// The object.
    pub object: ObjectRef,
    /// Its health.
    pub health: Health,
}

/// A component with its live status, as a card shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    /// The component (objects and dependencies).
    #[serde(flatten)]
    pub component: Component,
    /// The worst health of its objects, with the reason that matters most.
    pub health: Health,
    /// Pods ready and pods in all, for workloads.
    pub pods_ready: u32,
    /// Pods in all.
    pub pods_total: u32,
    /// Container restarts summed over its pods.
    pub restarts: u32,
    /// Each object's health. (Not `objects`: the flattened component already has that key.)
    pub object_health: Vec<ObjectHealth>,
}

/// What applying did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl OperationStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
            OperationStatus::Interrupted => "interrupted",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> OperationStatus {
        match s {
            "running" => OperationStatus::Running,
            "succeeded" => OperationStatus::Succeeded,
            "interrupted" => OperationStatus::Interrupted,
            _ => OperationStatus::Failed,
        }
    }
}

/// One entry of an instance's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub change: Option<serde_json::Value>,
    /// Overall health when it finished.
    pub health: Option<HealthState>,
}

/// An instance as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// An instance with its components' live status, as the instance page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDetail {
    /// Stored facts.
    pub summary: InstanceSummary,
    /// The worst component's health.
    pub health: Health,
    /// One card per component.
    pub components: Vec<ComponentStatus>,
}
