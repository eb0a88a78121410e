//! Components and their health: what a card on the canvas shows.

use serde::{Deserialize, Serialize};

/// What kind of card a component gets on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectHealth {
    /// The object.
    pub object: ObjectRef,
    /// Its health.
    pub health: Health,
}

/// A component with its live status, as a card shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// What the current revision asks for: replicas, resources, image, env, storage, URLs.
    #[serde(default)]
    pub spec: ComponentSpec,
    /// Its pods, for the log viewer.
    #[serde(default)]
    pub pods: Vec<super::PodBrief>,
    /// Its Kubernetes Events in brief.
    #[serde(default)]
    pub events: super::EventSummary,
    /// Troubleshooting hints that apply now.
    #[serde(default)]
    pub hints: Vec<super::Hint>,
}

/// Whether Berth can reach its cluster right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterHealth {
    /// Whether the API server answered.
    pub reachable: bool,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A component's settings as the current revision declares them (secrets redacted), what the
/// card shows and edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    /// Desired replicas, for a workload that has a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    /// Its containers (init containers aside).
    #[serde(default)]
    pub containers: Vec<ContainerSpec>,
    /// Its volumes: claims and claim templates.
    #[serde(default)]
    pub volumes: Vec<VolumeSpec>,
    /// Public URLs that reach it through an Ingress.
    #[serde(default)]
    pub urls: Vec<String>,
    /// How it grows, when the template says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<super::ScaleAdvice>,
}

/// One container's image, resources and environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// CPU request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_request: Option<String>,
    /// CPU limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<String>,
    /// Memory request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_request: Option<String>,
    /// Memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
    /// Environment variables, in order.
    #[serde(default)]
    pub env: Vec<EnvVar>,
}

/// One environment variable as shown: a literal value, or where the value comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// The literal value (redacted when it is secret), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where the value comes from instead: `secret <name>/<key>`, `configMap <name>/<key>`,
    /// `field <path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// One volume and its requested size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpec {
    /// The claim (or claim template) name.
    pub name: String,
    /// Requested size (`10Gi`).
    pub size: String,
}
