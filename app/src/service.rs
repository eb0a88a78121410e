//! (server only) Everything Berth does, as one trait. The server implements it once; the REST
//! handlers and the UI's server functions are both thin callers of it, so neither holds logic of
//! its own. Keeps kube, sqlx and tokio out of this crate.

use std::{future::Future, pin::Pin};

use futures::Stream;

use crate::{
    error::ServiceError,
    model::{
        ChangeRequest, ClusterHealth, CreatePlan, CreateRequest, Edit, InstanceSummary,
        InstanceView, IntentAnswer, ManifestEditRequest, OperationInfo, Preview, Progress,
        RevisionDiff, RevisionRecord, RevisionSummary, TemplateInfo,
    },
};

/// A boxed future, as trait methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed stream of live updates.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;
/// Every answer: a value or a [`ServiceError`].
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// What a create answers: an operation that started, or (for a dry run) the plan.
#[derive(Debug, Clone)]
pub enum Created {
    /// The deploy runs (or, when waited for, ran).
    Started(OperationInfo),
    /// Only planned and dry-run; nothing was applied or recorded.
    Planned(CreatePlan),
}

/// A live update about one instance.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// The instance's health changed (sent once at the start, then on every change).
    Health(Box<InstanceView>),
    /// An operation on it made progress or finished.
    Progress(Progress),
    /// A Kubernetes Event about one of its objects (its message redacted).
    KubeEvent(crate::model::KubeEvent),
}

/// The operations Berth offers. `actor` is who asks; it is recorded in history.
pub trait Berth: Send + Sync {
    /// Every template, in id order.
    fn templates(&self) -> BoxFuture<'_, Result<Vec<TemplateInfo>>>;
    /// One template with its inputs.
    fn template(&self, id: String) -> BoxFuture<'_, Result<TemplateInfo>>;
    /// Checks and stores a template's source (a `Template` CR and its documents) as a new
    /// template, offered at once and after a restart.
    fn import_template(&self, actor: String, source: String)
    -> BoxFuture<'_, Result<TemplateInfo>>;
    /// Whether the cluster answers now.
    fn cluster(&self) -> BoxFuture<'_, Result<ClusterHealth>>;
    /// Every instance that is not deleted, newest first.
    fn instances(&self) -> BoxFuture<'_, Result<Vec<InstanceSummary>>>;
    /// One instance with its components' live health.
    fn instance(&self, namespace: String, name: String) -> BoxFuture<'_, Result<InstanceView>>;
    /// The kept Kubernetes Events of an instance (of one component, when given), newest first.
    fn k8s_events(
        &self,
        namespace: String,
        name: String,
        component: Option<String>,
    ) -> BoxFuture<'_, Result<crate::model::KubeEventList>>;
    /// Deploys a template (or only plans it, with `dry_run`). `wait` answers once it is done.
    fn create(
        &self,
        actor: String,
        request: CreateRequest,
        wait: bool,
    ) -> BoxFuture<'_, Result<Created>>;
    /// The diff, dry run, drift and plan hash of a change set; changes nothing.
    fn preview(
        &self,
        namespace: String,
        name: String,
        request: ChangeRequest,
    ) -> BoxFuture<'_, Result<Preview>>;
    /// Applies a previewed change set (its plan hash must match).
    fn apply(
        &self,
        actor: String,
        namespace: String,
        name: String,
        request: ChangeRequest,
        wait: bool,
    ) -> BoxFuture<'_, Result<OperationInfo>>;
    /// The instance's revisions, oldest first.
    fn revisions(
        &self,
        namespace: String,
        name: String,
    ) -> BoxFuture<'_, Result<Vec<RevisionSummary>>>;
    /// One revision in full, secrets redacted.
    fn revision(
        &self,
        namespace: String,
        name: String,
        number: i64,
    ) -> BoxFuture<'_, Result<RevisionRecord>>;
    /// The diff from revision `against` to revision `number`.
    fn diff(
        &self,
        namespace: String,
        name: String,
        number: i64,
        against: i64,
    ) -> BoxFuture<'_, Result<RevisionDiff>>;
    /// One object of the current revision as YAML, secrets redacted.
    fn object_yaml(
        &self,
        namespace: String,
        name: String,
        kind: String,
        object: String,
    ) -> BoxFuture<'_, Result<String>>;
    /// The edit that turns one object into the given YAML (a merge patch), checked.
    fn manifest_patch(
        &self,
        namespace: String,
        name: String,
        request: ManifestEditRequest,
    ) -> BoxFuture<'_, Result<Edit>>;
    /// The diff, dry run, drift and plan hash of a rollback to revision `to`; changes nothing.
    fn rollback_preview(
        &self,
        namespace: String,
        name: String,
        to: i64,
        force: bool,
    ) -> BoxFuture<'_, Result<Preview>>;
    /// Re-applies revision `to` as a new revision; with `plan_hash`, only the previewed plan.
    #[allow(clippy::too_many_arguments)]
    fn rollback(
        &self,
        actor: String,
        namespace: String,
        name: String,
        to: i64,
        plan_hash: Option<String>,
        force: bool,
        wait: bool,
    ) -> BoxFuture<'_, Result<OperationInfo>>;
    /// Applies the newest revision again when it was interrupted, failed or cancelled.
    fn resume(
        &self,
        actor: String,
        namespace: String,
        name: String,
        number: i64,
    ) -> BoxFuture<'_, Result<OperationInfo>>;
    /// Asks a running operation to stop before its next object.
    fn cancel(&self, id: String) -> BoxFuture<'_, Result<OperationInfo>>;
    /// Reads a request in plain language into a previewed change, a question or a refusal;
    /// changes nothing.
    fn intent(
        &self,
        namespace: String,
        name: String,
        text: String,
    ) -> BoxFuture<'_, Result<IntentAnswer>>;
    /// Deletes every object the instance owns; its history stays.
    fn delete(
        &self,
        actor: String,
        namespace: String,
        name: String,
        wait: bool,
    ) -> BoxFuture<'_, Result<OperationInfo>>;
    /// An operation's state: live while it runs, then from history.
    fn operation(&self, id: String) -> BoxFuture<'_, Result<OperationInfo>>;
    /// Live updates about one instance: its health now, then every change and every step of
    /// its operations, until the stream is dropped.
    fn watch(&self, namespace: String, name: String)
    -> BoxFuture<'_, Result<BoxStream<LiveEvent>>>;
}

/// What a server function needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Deploy, change and roll back (the `operator` role).
    Change,
    /// Also delete and import templates (the `admin` role).
    Admin,
}

/// The caller of a server function, as the server authenticated them (provided as context).
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The token's name: the actor history records.
    pub name: String,
    /// Whether its role may deploy, change and roll back.
    pub may_change: bool,
    /// Whether its role may delete.
    pub may_delete: bool,
}

impl SignedIn {
    /// The caller's name, when its role allows `need`; else a 403 that says what is missing.
    pub fn require(&self, need: Need) -> Result<String> {
        let (allowed, role) = match need {
            Need::Change => (self.may_change, "operator"),
            Need::Admin => (self.may_delete, "admin"),
        };
        if allowed {
            Ok(self.name.clone())
        } else {
            Err(ServiceError::new(
                crate::error::ErrorCode::Forbidden,
                format!("this needs the {role} role; {} does not have it", self.name),
            ))
        }
    }
}
