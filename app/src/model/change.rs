//! Change sets: typed edits to an instance, and the preview shown before any of them is applied.
//! The cards, the change box and the REST API all produce the same [`Edit`]s.

use serde::{Deserialize, Serialize};

use super::{ObjectRef, ObjectResult, TemplateWarning};

/// One edit. Each is a setter: applying it twice gives the same manifests.
///
/// Written as serde derives it; read by `tagged.rs`, without buffering the object first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Edit {
    /// Set a workload's replica count.
    #[serde(rename_all = "camelCase")]
    Replicas {
        /// Component id.
        component: String,
        /// The new count.
        replicas: u32,
    },
    /// Set CPU and memory requests and limits (each optional) of a workload's containers.
    #[serde(rename_all = "camelCase")]
    Resources {
        /// Component id.
        component: String,
        /// Only this container; all containers when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
        /// CPU request (`500m`, `2`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpu_request: Option<String>,
        /// CPU limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpu_limit: Option<String>,
        /// Memory request (`512Mi`, `1Gi`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_request: Option<String>,
        /// Memory limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_limit: Option<String>,
    },
    /// Set or unset an environment variable.
    #[serde(rename_all = "camelCase")]
    Env {
        /// Component id.
        component: String,
        /// Only this container; all containers when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
        /// Variable name.
        name: String,
        /// Its new value.
        value: EnvValue,
        /// Keep a literal value in a Secret Berth owns (`<workload>-berth-env`) and reference
        /// it from the containers; history and previews show `<secret: changed>`.
        #[serde(default, skip_serializing_if = "is_false")]
        secret: bool,
    },
    /// Grow a volume (never shrink).
    #[serde(rename_all = "camelCase")]
    Storage {
        /// Component id.
        component: String,
        /// The claim template's (or claim's) name; the only one when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        volume: Option<String>,
        /// The new size (`20Gi`).
        size: String,
    },
    /// Change an image's tag (or the whole reference).
    #[serde(rename_all = "camelCase")]
    Image {
        /// Component id.
        component: String,
        /// Only this container; all containers when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
        /// A tag (`1.2.3`) or a full reference (`repo/name:tag`).
        image: String,
    },
    /// Change the public host of the instance's Ingress rules.
    #[serde(rename_all = "camelCase")]
    Domain {
        /// The new host.
        host: String,
    },
    /// Restart a workload's pods (a rollout, by changing a pod-template annotation).
    #[serde(rename_all = "camelCase")]
    Restart {
        /// Component id.
        component: String,
        /// The revision the restart was made in; Berth fills it in, so that the restart is not
        /// repeated when the edit is re-applied after a later re-render.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<i64>,
    },
    /// Scale a workload to 0, remembering its replica count (in an annotation) for `resume`.
    #[serde(rename_all = "camelCase")]
    Pause {
        /// Component id.
        component: String,
    },
    /// Scale a paused workload back to the count it had.
    #[serde(rename_all = "camelCase")]
    Resume {
        /// Component id.
        component: String,
    },
    /// Change a template input (the instance is re-rendered with it, generated passwords kept).
    #[serde(rename_all = "camelCase")]
    Input {
        /// Input name.
        name: String,
        /// Its new value.
        value: String,
    },
    /// Change one object directly with a JSON merge patch (RFC 7386), for what no other edit
    /// covers. It may not change the object's kind, name or namespace, nor Berth's labels and
    /// annotations; Secrets are not edited this way.
    #[serde(rename_all = "camelCase")]
    Manifest {
        /// The object.
        object: ObjectKey,
        /// The merge patch (`null` removes a field; lists are replaced whole).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        merge_patch: serde_json::Value,
    },
}

/// Names one object of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    /// `Deployment`, `ConfigMap`, ...
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
}

/// An object's edited YAML, to turn into a [`Edit::Manifest`] (the merge patch from the object
/// as the current revision has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestEditRequest {
    /// The object.
    pub object: ObjectKey,
    /// Its whole new YAML.
    pub yaml: String,
}

impl Edit {
    /// The component the edit names, if any.
    pub fn component(&self) -> Option<&str> {
        match self {
            Edit::Replicas { component, .. }
            | Edit::Resources { component, .. }
            | Edit::Env { component, .. }
            | Edit::Storage { component, .. }
            | Edit::Image { component, .. }
            | Edit::Restart { component, .. }
            | Edit::Pause { component }
            | Edit::Resume { component } => Some(component),
            Edit::Domain { .. } | Edit::Input { .. } | Edit::Manifest { .. } => None,
        }
    }

    /// The edit in words, for the pending change set and the change box's chips.
    pub fn in_words(&self) -> String {
        match self {
            Edit::Replicas {
                component,
                replicas,
            } => format!("{component}: {replicas} replicas"),
            Edit::Resources {
                component,
                cpu_request,
                cpu_limit,
                memory_request,
                memory_limit,
                ..
            } => {
                let parts: Vec<String> = [
                    ("CPU request", cpu_request),
                    ("CPU limit", cpu_limit),
                    ("memory request", memory_request),
                    ("memory limit", memory_limit),
                ]
                .iter()
                .filter_map(|(what, v)| v.as_ref().map(|v| format!("{what} {v}")))
                .collect();
                format!("{component}: {}", parts.join(", "))
            }
            Edit::Env {
                component,
                name,
                value: EnvValue::Unset,
                ..
            } => format!("{component}: remove {name}"),
            Edit::Env {
                component,
                name,
                secret: true,
                ..
            } => format!("{component}: set {name} (in a Secret)"),
            Edit::Env {
                component, name, ..
            } => format!("{component}: set {name}"),
            Edit::Restart { component, .. } => format!("restart {component}"),
            Edit::Pause { component } => format!("pause {component}"),
            Edit::Resume { component } => format!("resume {component}"),
            Edit::Storage {
                component,
                volume,
                size,
            } => {
                format!(
                    "{component}: grow {} to {size}",
                    volume.as_deref().unwrap_or("storage")
                )
            }
            Edit::Image {
                component, image, ..
            } => format!("{component}: image {image}"),
            Edit::Domain { host } => format!("domain {host}"),
            Edit::Input { name, .. } => format!("input {name}"),
            Edit::Manifest { object, .. } => {
                format!("{} {}: edited as YAML", object.kind, object.name)
            }
        }
    }
}

/// The new value of an environment variable.
///
/// Written as serde derives it; read by `tagged.rs`, without buffering the object first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum EnvValue {
    /// A literal value.
    Value {
        /// The value.
        value: String,
    },
    /// A reference to a key of a Secret (the value itself stays in the Secret).
    #[serde(rename_all = "camelCase")]
    SecretRef {
        /// The Secret's name.
        secret: String,
        /// The key within it.
        key: String,
    },
    /// Remove the variable.
    Unset,
}

/// What a change (or a rollback) would do, shown before anything is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The revision it was made against.
    pub base_revision: i64,
    /// Unified diff of the manifests (secrets redacted).
    pub diff: String,
    /// Objects that change or are new.
    pub changed: Vec<ObjectRef>,
    /// Objects the new revision no longer has; they will be deleted.
    pub prune: Vec<ObjectRef>,
    /// Server-side dry run of the changed objects.
    pub dry_run: Vec<ObjectResult>,
    /// Fields changed outside Berth that this change would overwrite.
    pub drift: Vec<ObjectResult>,
    /// Pass back to apply exactly this plan.
    pub plan_hash: String,
    /// Expressions a re-render rendered as Sealos does (empty unless an input changed).
    pub warnings: Vec<TemplateWarning>,
    /// What the plan keeps as it is, and why: e.g. a volume that keeps its size because storage
    /// cannot shrink.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A change set: `POST /api/v1/instances/{namespace}/{name}/changes[/preview]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRequest {
    /// The revision the change was made against; a stale one is refused with 409.
    pub base_revision: i64,
    /// The edits, applied in order.
    pub edits: Vec<Edit>,
    /// The preview's plan hash: required to apply, so that exactly the previewed plan applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_hash: Option<String>,
    /// Overwrite fields changed outside Berth (drift).
    #[serde(default)]
    pub force: bool,
    /// Refuse expressions that fail or are undefined when an input edit re-renders.
    #[serde(default)]
    pub strict: bool,
    /// Take over objects the change adds that exist and that Berth did not create.
    #[serde(default)]
    pub adopt: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}
