//! The types the server and the UI share: everything that crosses the wire, defined once.
//! Plain data (no kube, no sqlx), so the browser build can use them too. With the `openapi`
//! feature (the server's) each also describes itself for the OpenAPI document.

mod change;
mod component;
mod instance;
mod intent;
pub mod number;
mod observe;
mod operation;
pub mod quantity;
mod tagged;
mod template;

pub use change::{ChangeRequest, Edit, EnvValue, ManifestEditRequest, ObjectKey, Preview};
pub use component::{
    CardKind, ClusterHealth, Component, ComponentSpec, ComponentStatus, ContainerSpec, EnvVar,
    Health, HealthState, ObjectHealth, ObjectRef, VolumeSpec,
};
pub use instance::{
    InstanceList, InstanceSummary, InstanceView, RevisionDiff, RevisionList, RevisionRecord,
    RevisionSummary, Unfinished,
};
pub use intent::{IntentAnswer, IntentChoice, IntentHelp, IntentRequest};
pub use observe::{
    EventSummary, Hint, HintAction, KubeEvent, KubeEventList, PodBrief, ScaleAdvice,
};
pub use operation::{
    CreatePlan, CreateRequest, ObjectAction, ObjectResult, OperationInfo, OperationStatus, Progress,
};
pub use template::{InputInfo, TemplateImport, TemplateInfo, TemplateList, TemplateWarning};
