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
