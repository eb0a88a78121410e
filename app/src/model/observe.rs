//! What an operator reads on a card besides its health: the Kubernetes Events of its objects, its
//! pods (for logs), the troubleshooting hints Berth derives from what it sees, and the template's
//! scale guidance.

use serde::{Deserialize, Serialize};

/// One Kubernetes Event about one of an instance's objects (or their pods).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KubeEvent {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The machine-readable reason (`BackOff`, `FailedScheduling`, `ScalingReplicaSet`).
    pub reason: String,
    /// What happened, in the reporting controller's words (known secret values redacted).
    pub message: String,
    /// The object it is about: `Pod/web-5d9c-abcde`.
    pub object: String,
    /// The component that object belongs to.
    pub component: String,
    /// How many times it happened.
    pub count: u32,
    /// When it last happened (RFC 3339).
    pub last_seen: String,
}

impl KubeEvent {
    /// Whether it is a warning.
    pub fn is_warning(&self) -> bool {
        self.kind == "Warning"
    }
}

/// A card's Events in brief.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    /// Events kept for the component.
    pub total: u32,
    /// Warnings among them.
    pub warnings: u32,
    /// The latest warning: `BackOff: Back-off pulling image "x"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_warning: Option<String>,
}

/// The Events of an instance, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KubeEventList {
    /// The events.
    pub items: Vec<KubeEvent>,
    /// How long Events are kept, in seconds.
    pub kept_seconds: u64,
}

/// One of a component's pods, as the log viewer offers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PodBrief {
    /// Pod name.
    pub name: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed`.
    pub phase: String,
    /// Whether it is Ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: u32,
    /// Its containers, init containers first.
    pub containers: Vec<String>,
}

/// What to do about a hint, as a button on the card.
///
/// Written as serde derives it; read by `tagged.rs`, without buffering the object first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum HintAction {
    /// Restart a component's pods (the change box's `restart` edit, previewed first).
    Restart {
        /// The component.
        component: String,
    },
    /// Read these components' logs.
    Logs {
        /// The components.
        components: Vec<String>,
    },
}

/// A troubleshooting hint on a card: what Berth sees, why it matters, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Hint {
    /// The rule's id (`image-pull`, `posthog-background-delayed`).
    pub rule: String,
    /// One line: "Background processing is delayed".
    pub title: String,
    /// The likely cause.
    pub cause: String,
    /// The fix.
    pub fix: String,
    /// What Berth saw that fired the rule, one fact per line.
    pub evidence: Vec<String>,
    /// Buttons that help.
    #[serde(default)]
    pub actions: Vec<HintAction>,
}

/// How a component grows, from the template's scale guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScaleAdvice {
    /// The group it scales with (`ingestion`).
    pub group: String,
    /// Its place in the order: 1 is scaled first.
    pub order: u32,
    /// Whether more replicas help (otherwise: more CPU and memory).
    pub out: bool,
    /// The template's note ("monitor queue backlog").
    #[serde(default)]
    pub note: String,
    /// The other components of its group.
    #[serde(default)]
    pub with: Vec<String>,
}
