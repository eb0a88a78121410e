//! What the rest of Berth shares about talking to Kubernetes: the connection ([`Cluster`]) and
//! its HTTP client ([`client`]), cached discovery ([`Discovery`]), how apiserver failures are
//! classified ([`failure`]), and the field manager and the label and annotation keys Berth
//! writes. One grep for a key finds every use.
//!
//! It imports nothing of Berth's: every other module may use it.

pub mod client;
pub mod cluster;
pub mod discovery;
pub mod failure;

pub use cluster::{Cluster, ClusterStatus};
pub use discovery::Discovery;

/// The field manager of every server-side apply Berth makes.
pub const FIELD_MANAGER: &str = "berth";
/// Label on every object Berth manages (the watches select on it).
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "berth");
/// Label naming the Berth installation (its database's id) that applied an object. The watches,
/// stray searches and claim deletes select on it, and an object carrying another installation's
/// id is never changed or deleted.
pub const INSTALLATION_LABEL: &str = "berth.dev/installation";
/// Label naming the instance an object belongs to.
pub const INSTANCE_LABEL: &str = "berth.dev/instance";
/// Key naming an object's component: Berth writes it as a label on everything it applies, and
/// a template may set it as an annotation to choose the component itself.
pub const COMPONENT_KEY: &str = "berth.dev/component";
/// Annotation naming the instance (`<namespace>/<name>`) that owns an object. Berth changes,
/// prunes and deletes only what it owns.
pub const OWNER_ANNOTATION: &str = "berth.dev/owner";
/// Namespaces Berth deploys into only when told to (`--allow-system-namespaces`).
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["kube-system", "kube-public", "kube-node-lease", "default"];
/// Annotation a template may set to choose a component's card kind.
pub const CARD_ANNOTATION: &str = "berth.dev/card";

/// Kinds that keep pods running from a pod template: the workloads components are built around.
pub const WORKLOAD_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "CronJob"];

/// Whether `kind` is one of [`WORKLOAD_KINDS`].
pub fn is_workload(kind: &str) -> bool {
    WORKLOAD_KINDS.contains(&kind)
}

/// Whether `kind` carries a pod template: the workloads, and Jobs.
pub fn has_pod_template(kind: &str) -> bool {
    is_workload(kind) || kind == "Job"
}

/// The label selector of everything `installation` applied.
pub fn installation_selector(installation: &str) -> String {
    format!(
        "{}={},{INSTALLATION_LABEL}={installation}",
        MANAGED_BY.0, MANAGED_BY.1
    )
}

/// `"<namespace>/<name>"`: how an instance is named in locks, broadcasts and the store.
pub fn instance_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// A string field of an object in its JSON form, by JSON pointer; `""` when absent.
pub fn str_at<'v>(object: &'v serde_json::Value, pointer: &str) -> &'v str {
    object
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}
