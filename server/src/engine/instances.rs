//! Instances end to end: create (render, plan, apply), read with live health, change sets
//! (preview, then a confirming apply), rollback and delete. Every operation is a revision in
//! [`History`]; the cluster work runs in the background and reports progress on a broadcast
//! channel, which the SSE endpoint forwards.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use app::model::{
    Component, ComponentStatus, Health, HealthState, InstanceSummary, ObjectAction, ObjectRef,
    ObjectResult, OperationStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, broadcast};

use super::{
    apply::{Applier, ApplyError, Resolved},
    changes::{self, ChangeError, Edit},
    history::{History, HistoryError, RevisionState},
    manifest::{self, Redactor},
};
use crate::{
    cluster::Cluster,
    components,
    health::{self, ComponentLive, Live, watch::Watches},
    template::{RenderRequest, TemplateError, validate},
    templates::Templates,
};

/// Platform values and defaults that templates read.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Namespace used when a request names none.
    pub default_namespace: String,
    /// `SEALOS_CLOUD_DOMAIN`.
    pub cloud_domain: String,
    /// `SEALOS_CERT_SECRET_NAME`.
    pub cert_secret_name: String,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            default_namespace: "berth".into(),
            cloud_domain: "berth.localhost".into(),
            cert_secret_name: "wildcard-cert".into(),
        }
    }
}

/// What can go wrong; `http::api` chooses the status codes.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The template does not render with these inputs.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A change set is invalid.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// Bad request content.
    #[error("{0}")]
    Invalid(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The change was made against an older revision.
    #[error("revision {given} is not the current revision ({current}); reload and try again")]
    StaleRevision { given: i64, current: i64 },
    /// The plan differs from the one previewed.
    #[error("the plan changed since it was previewed; preview again")]
    StalePlan,
    /// Another operation on this instance is running.
    #[error("an operation is already running on {0}")]
    Busy(String),
    /// The instance already exists.
    #[error("{0}")]
    Exists(String),
    /// Kinds not served by the cluster.
    #[error(transparent)]
    Preflight(ApplyError),
    /// The cluster cannot be reached.
    #[error("the cluster is unreachable: {0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    History(HistoryError),
}

impl From<HistoryError> for EngineError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::NotFound(m) => EngineError::NotFound(m),
            HistoryError::Exists(m) => EngineError::Exists(format!("instance {m} already exists")),
            other => EngineError::History(other),
        }
    }
}

impl From<ApplyError> for EngineError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Kube(k) => EngineError::Unavailable(k.to_string()),
            missing => EngineError::Preflight(missing),
        }
    }
}

/// `POST /instances`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    /// Template id.
    pub template: String,
    /// Namespace (default from configuration).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Instance name (default: the template's generated `app_name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Input values.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Only plan and dry-run; apply nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overwrite fields another manager changed.
    #[serde(default)]
    pub force: bool,
}

/// A change set: `POST /instances/{ns}/{name}/changes[/preview]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRequest {
    /// The revision the change was made against.
    pub base_revision: i64,
    /// The edits.
    pub edits: Vec<Edit>,
    /// The preview's plan hash (required to apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_hash: Option<String>,
    /// Overwrite fields changed outside Berth (drift).
    #[serde(default)]
    pub force: bool,
}

/// What a preview shows before anything changes.
#[derive(Debug, Clone, Serialize)]
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
}

/// The answer to a create, change, rollback or delete.
#[derive(Debug, Clone, Serialize)]
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

/// A plan from a dry-run create.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlan {
    /// Namespace.
    pub namespace: String,
    /// Instance name.
    pub name: String,
    /// The objects that would be applied, secrets redacted.
    pub manifests: Vec<Value>,
    /// Their components.
    pub components: Vec<Component>,
    /// Server-side dry run per object.
    pub dry_run: Vec<ObjectResult>,
}

/// An instance with its live status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Stored facts.
    #[serde(flatten)]
    pub summary: InstanceSummary,
    /// Overall health: the worst component's.
    pub health: Health,
    /// Components as cards.
    pub components: Vec<ComponentStatus>,
}

/// Progress pushed to subscribers.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Progress {
    /// One object was applied (or failed).
    #[serde(rename_all = "camelCase")]
    Object {
        instance: String,
        revision: i64,
        result: ObjectResult,
    },
    /// The operation finished.
    #[serde(rename_all = "camelCase")]
    Finished {
        instance: String,
        revision: i64,
        status: OperationStatus,
        message: String,
    },
}

/// The engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    history: History,
    templates: Templates,
    platform: Platform,
    cluster: Cluster,
    watches: Option<Watches>,
    operations: Arc<std::sync::Mutex<HashMap<String, OperationInfo>>>,
    locks: Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>>,
    progress: broadcast::Sender<Progress>,
}

fn instance_id(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

fn operation_id(ns: &str, name: &str, revision: i64) -> String {
    format!("{ns}:{name}:{revision}")
}

impl Engine {
    /// An engine over its parts. Health watches start when the cluster has a client.
    pub fn new(
        history: History,
        templates: Templates,
        platform: Platform,
        cluster: Cluster,
    ) -> Engine {
        let watches = cluster.client().ok().map(|c| Watches::start(c.clone()));
        let (progress, _) = broadcast::channel(4096);
        Engine {
            history,
            templates,
            platform,
            cluster,
            watches,
            operations: Arc::default(),
            locks: Arc::default(),
            progress,
        }
    }

    /// The history store.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The template registry.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Progress of every operation.
    pub fn subscribe_progress(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Changes of watched objects, as `"<namespace>/<instance>"`.
    pub fn subscribe_changes(&self) -> Option<broadcast::Receiver<String>> {
        self.watches.as_ref().map(Watches::subscribe)
    }

    fn applier(&self) -> Result<Applier, EngineError> {
        self.cluster
            .client()
            .map(|c| Applier::new(c.clone()))
            .map_err(|reason| EngineError::Unavailable(reason.to_string()))
    }

    fn platform_values(&self, namespace: &str) -> BTreeMap<String, String> {
        [
            ("SEALOS_NAMESPACE", namespace.to_string()),
            ("SEALOS_CLOUD_DOMAIN", self.platform.cloud_domain.clone()),
            (
                "SEALOS_CERT_SECRET_NAME",
                self.platform.cert_secret_name.clone(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn lock_for(&self, id: &str) -> Arc<Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Renders, labels and validates a template for an instance: (name, manifests, components, defaults).
    fn render(
        &self,
        template: &str,
        namespace: &str,
        name: Option<&str>,
        inputs: &BTreeMap<String, String>,
        fixed_defaults: &BTreeMap<String, String>,
    ) -> Result<(String, Vec<Value>, Vec<Component>, BTreeMap<String, String>), EngineError> {
        let t = self
            .templates
            .get(template)
            .ok_or_else(|| EngineError::NotFound(format!("template {template}")))?;
        if let Some(problem) = validate::dns1123_label(namespace) {
            return Err(EngineError::Invalid(format!(
                "namespace {namespace:?} is invalid: {problem}"
            )));
        }
        if let Some(problem) = name.and_then(validate::dns1123_label) {
            return Err(EngineError::Invalid(format!(
                "name {:?} is invalid: {problem}",
                name.unwrap_or_default()
            )));
        }
        let request = RenderRequest {
            inputs: inputs.clone(),
            platform: self.platform_values(namespace),
            app_name: name.map(str::to_string),
            seed: None,
            fixed_defaults: fixed_defaults.clone(),
        };
        let rendered = t.render(&request)?;
        for o in &rendered.objects {
            validate::check_object(o)?;
        }
        let name = rendered.defaults.get("app_name").cloned().ok_or_else(|| {
            EngineError::Invalid(format!("template {template} has no defaults.app_name"))
        })?;
        let mut objects: Vec<Value> = rendered.objects.into_iter().map(|o| o.object).collect();
        let comps = components::derive(&objects, &name);
        manifest::label(&mut objects, &comps, &name, namespace);
        Ok((name, objects, comps, rendered.defaults))
    }

    fn redactor(
        objects: &[Value],
        defaults: &BTreeMap<String, String>,
        inputs: &BTreeMap<String, String>,
    ) -> Redactor {
        // Generated defaults are secrets, except the names and hosts derived from them; so are
        // inputs whose names say they are.
        let generated = defaults
            .iter()
            .filter(|(k, _)| !(k.ends_with("name") || k.ends_with("host")))
            .map(|(_, v)| v.clone());
        let typed = inputs
            .iter()
            .filter(|(k, _)| looks_secret(k))
            .map(|(_, v)| v.clone());
        Redactor::new(objects, generated.chain(typed))
    }

    fn redact_inputs(inputs: &BTreeMap<String, String>) -> Value {
        Value::Object(
            inputs
                .iter()
                .map(|(k, v)| {
                    let secret = looks_secret(k);
                    (
                        k.clone(),
                        Value::String(if secret && !v.is_empty() {
                            "<redacted>".into()
                        } else {
                            v.clone()
                        }),
                    )
                })
                .collect(),
        )
    }

    /// Creates an instance: render, preflight, then apply in the background (or only plan when
    /// `dry_run`). `wait` returns after the apply finished.
    pub async fn create(
        &self,
        req: CreateRequest,
        actor: &str,
        wait: bool,
    ) -> Result<Result<OperationInfo, CreatePlan>, EngineError> {
        let namespace = req
            .namespace
            .clone()
            .unwrap_or_else(|| self.platform.default_namespace.clone());
        let (name, objects, comps, defaults) = self.render(
            &req.template,
            &namespace,
            req.name.as_deref(),
            &req.inputs,
            &BTreeMap::new(),
        )?;
        let applier = self.applier()?;
        if !req.dry_run
            && self
                .history
                .instance(&namespace, &name)
                .await
                .is_ok_and(|i| i.deleted_at.is_none())
        {
            return Err(EngineError::Exists(format!(
                "instance {namespace}/{name} already exists"
            )));
        }
        let t_resolve = std::time::Instant::now();
        let resolved = applier.resolve(&objects, &comps).await?;
        tracing::info!(resolve_ms = t_resolve.elapsed().as_millis(), "preflight");
        let redactor = Self::redactor(&objects, &defaults, &req.inputs);
        if req.dry_run {
            let dry_run = if applier
                .namespace_exists(&namespace)
                .await
                .map_err(|e| EngineError::Unavailable(e.to_string()))?
            {
                applier.dry_run(&resolved, &namespace, req.force).await
            } else {
                resolved
                    .iter()
                    .map(|r| ObjectResult {
                        object: r.key.clone(),
                        action: ObjectAction::Planned,
                        message: Some(format!("namespace {namespace} will be created first")),
                    })
                    .collect()
            };
            return Ok(Err(CreatePlan {
                namespace,
                name,
                manifests: objects.iter().map(|o| redactor.redact(o)).collect(),
                components: comps,
                dry_run,
            }));
        }
        let lock = self.lock_for(&instance_id(&namespace, &name));
        let guard = lock
            .clone()
            .try_lock_owned()
            .map_err(|_| EngineError::Busy(instance_id(&namespace, &name)))?;
        self.history
            .create_instance(&namespace, &name, &req.template, actor)
            .await?;
        let state = RevisionState {
            inputs: req.inputs.clone(),
            defaults,
            edits: Vec::new(),
            manifests: objects.clone(),
        };
        let redacted: Vec<Value> = objects.iter().map(|o| redactor.redact(o)).collect();
        let revision = self
            .history
            .begin_revision(
                &namespace,
                &name,
                "deploy",
                actor,
                None,
                &Self::redact_inputs(&req.inputs),
                &redacted,
                &state,
            )
            .await?;
        let info = self.start(
            applier,
            namespace,
            name,
            revision,
            resolved,
            Vec::new(),
            req.force,
            guard,
        );
        self.finish_or_return(info, wait).await
    }

    async fn finish_or_return<T>(
        &self,
        (info, handle): (OperationInfo, tokio::task::JoinHandle<OperationInfo>),
        wait: bool,
    ) -> Result<Result<OperationInfo, T>, EngineError> {
        if wait {
            return Ok(Ok(handle.await.unwrap_or(info)));
        }
        Ok(Ok(info))
    }

    /// Starts an operation in the background.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        applier: Applier,
        namespace: String,
        name: String,
        revision: i64,
        resolved: Vec<Resolved>,
        prune: Vec<Resolved>,
        force: bool,
        guard: tokio::sync::OwnedMutexGuard<()>,
    ) -> (OperationInfo, tokio::task::JoinHandle<OperationInfo>) {
        let id = operation_id(&namespace, &name, revision);
        let info = OperationInfo {
            id: id.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            revision,
            status: OperationStatus::Running,
            message: "applying".into(),
            results: Vec::new(),
        };
        self.operations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), info.clone());
        let engine = self.clone();
        let handle = tokio::spawn(async move {
            let _guard = guard;
            let instance = instance_id(&namespace, &name);
            let progress = |r: &ObjectResult| {
                if let Some(op) = engine
                    .operations
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_mut(&id)
                {
                    op.results.push(r.clone());
                }
                let _ = engine.progress.send(Progress::Object {
                    instance: instance.clone(),
                    revision,
                    result: r.clone(),
                });
            };
            let (status, message, results) = engine
                .run(&applier, &namespace, &resolved, &prune, force, &progress)
                .await;
            if let Err(e) = engine
                .history
                .finish_revision(
                    &namespace, &name, revision, status, &message, &results, None,
                )
                .await
            {
                tracing::error!(error = %e, "cannot record the end of an operation");
            }
            // The health right after applying, on the revision just recorded.
            let t_health = std::time::Instant::now();
            if let Ok(h) = engine.instance_health(&namespace, &name).await
                && let Err(e) = engine
                    .history
                    .set_health(&namespace, &name, revision, h.state)
                    .await
            {
                tracing::error!(error = %e, "cannot record the health after an operation");
            }
            tracing::info!(
                health_ms = t_health.elapsed().as_millis(),
                "health recorded"
            );
            let _ = engine.progress.send(Progress::Finished {
                instance,
                revision,
                status,
                message: message.clone(),
            });
            let done = OperationInfo {
                id: id.clone(),
                namespace,
                name,
                revision,
                status,
                message,
                results,
            };
            // History now has the outcome; the live map only holds running operations.
            engine
                .operations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
            done
        });
        (info, handle)
    }

    async fn run(
        &self,
        applier: &Applier,
        namespace: &str,
        resolved: &[Resolved],
        prune: &[Resolved],
        force: bool,
        progress: &(dyn Fn(&ObjectResult) + Sync),
    ) -> (OperationStatus, String, Vec<ObjectResult>) {
        if let Err(e) = applier.ensure_namespace(namespace).await {
            return (
                OperationStatus::Failed,
                format!("cannot create namespace {namespace}: {e}"),
                Vec::new(),
            );
        }
        let started = std::time::Instant::now();
        let plan = applier.plan(resolved, namespace, force).await;
        let dry_run_ms = started.elapsed().as_millis();
        let refused: Vec<ObjectResult> = plan
            .iter()
            .map(|p| p.result.clone())
            .filter(|r| r.action == ObjectAction::Failed)
            .collect();
        if !refused.is_empty() {
            let drift = refused.iter().any(super::apply::is_conflict);
            let message = if drift {
                format!(
                    "dry run found {} object(s) changed outside Berth; nothing was applied (apply with force to overwrite)",
                    refused.len()
                )
            } else {
                format!(
                    "dry run refused {} object(s); nothing was applied",
                    refused.len()
                )
            };
            refused.iter().for_each(progress);
            return (OperationStatus::Failed, message, refused);
        }
        let mut results = applier
            .apply(resolved, &plan, namespace, force, progress)
            .await;
        tracing::info!(
            namespace,
            objects = resolved.len(),
            dry_run_ms,
            apply_ms = started.elapsed().as_millis() - dry_run_ms,
            "applied"
        );
        if results.iter().all(|r| r.action != ObjectAction::Failed) && !prune.is_empty() {
            let pruned = applier.delete(prune, namespace, ObjectAction::Pruned).await;
            pruned.iter().for_each(progress);
            results.extend(pruned);
        }
        summarize(results)
    }

    /// The current revision's state and components (from the sealed history).
    async fn current(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(InstanceSummary, RevisionState, Vec<Component>), EngineError> {
        let summary = self.history.instance(namespace, name).await?;
        if summary.deleted_at.is_some() {
            return Err(EngineError::NotFound(format!(
                "instance {namespace}/{name} was deleted (its history is still readable)"
            )));
        }
        let number = if summary.revision > 0 {
            summary.revision
        } else {
            1
        };
        let state = self.history.revision_state(namespace, name, number).await?;
        let comps = components::derive(&state.manifests, name);
        Ok((summary, state, comps))
    }

    /// An instance with its components' live health.
    pub async fn get(&self, namespace: &str, name: &str) -> Result<InstanceView, EngineError> {
        let summary = self.history.instance(namespace, name).await?;
        if summary.deleted_at.is_some() {
            return Ok(InstanceView {
                summary,
                health: Health::new(HealthState::Missing, "deleted"),
                components: Vec::new(),
            });
        }
        let (summary, state, comps) = self.current(namespace, name).await?;
        let components = self
            .components_status(namespace, name, &state.manifests, &comps)
            .await;
        let health = health::worst(components.iter().map(|c| {
            let mut h = c.health.clone();
            h.reason = format!("{}: {}", c.component.id, h.reason);
            h
        }));
        Ok(InstanceView {
            summary,
            health,
            components,
        })
    }

    async fn instance_health(&self, namespace: &str, name: &str) -> Result<Health, EngineError> {
        Ok(self.get(namespace, name).await?.health)
    }

    async fn components_status(
        &self,
        namespace: &str,
        name: &str,
        manifests: &[Value],
        comps: &[Component],
    ) -> Vec<ComponentStatus> {
        let Some(watches) = &self.watches else {
            return comps
                .iter()
                .map(|c| unknown_status(c, "no cluster configured"))
                .collect();
        };
        if !self.cluster_reachable().await {
            return comps
                .iter()
                .map(|c| unknown_status(c, "the cluster is unreachable"))
                .collect();
        }
        // Operator kinds get their reflector on first use.
        for o in manifests {
            let kind = o["kind"].as_str().unwrap_or_default();
            if matches!(kind, "Cluster" | "ObjectStorageBucket")
                && !watches.watches(kind).await
                && let Ok(applier) = self.applier()
                && let Ok(resolved) = applier.resolve(std::slice::from_ref(o), comps).await
                && let Some(r) = resolved.first()
            {
                watches.ensure_kind(r.api_resource()).await;
            }
        }
        let pods = watches.of_instance("Pod", namespace, name).await;
        let mut out = Vec::new();
        for c in comps {
            let mut objects = Vec::new();
            for r in &c.objects {
                let desired_service = (r.kind == "Service")
                    .then(|| {
                        manifests.iter().find(|o| {
                            o["kind"] == "Service" && o["metadata"]["name"] == r.name.as_str()
                        })
                    })
                    .flatten();
                let live = if let Some(svc) = desired_service {
                    if watches.is_ready("Pod").await {
                        Live::Derived(health::service(svc, &pods))
                    } else {
                        Live::NotSynced
                    }
                } else if !watches.watches(&r.kind).await {
                    Live::NotWatched
                } else if !watches.is_ready(&r.kind).await {
                    Live::NotSynced
                } else {
                    watches
                        .get(&r.kind, namespace, &r.name)
                        .await
                        .map(Live::Present)
                        .unwrap_or(Live::Absent)
                };
                objects.push((r.clone(), live));
            }
            let own_pods: Vec<Value> = pods
                .iter()
                .filter(|p| {
                    p.pointer(&format!(
                        "/metadata/labels/{}",
                        manifest::COMPONENT_LABEL.replace('/', "~1")
                    ))
                    .and_then(Value::as_str)
                        == Some(c.id.as_str())
                })
                .cloned()
                .collect();
            out.push(health::component_status(&ComponentLive {
                component: c,
                objects,
                pods: own_pods,
            }));
        }
        out
    }

    async fn cluster_reachable(&self) -> bool {
        self.cluster.status().await.reachable
    }

    /// Previews a change set: the diff, the server-side dry run, drift, and the plan hash that
    /// the confirming call must send back.
    pub async fn preview(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
    ) -> Result<Preview, EngineError> {
        let plan = self.plan_change(namespace, name, req).await?;
        Ok(plan.preview)
    }

    /// Applies a change set previewed before (same edits, same base revision, same plan hash).
    pub async fn apply_change(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
        actor: &str,
        wait: bool,
    ) -> Result<OperationInfo, EngineError> {
        let lock = self.lock_for(&instance_id(namespace, name));
        let guard = lock
            .clone()
            .try_lock_owned()
            .map_err(|_| EngineError::Busy(instance_id(namespace, name)))?;
        let plan = self.plan_change(namespace, name, req).await?;
        if req.plan_hash.as_deref() != Some(plan.preview.plan_hash.as_str()) {
            return Err(EngineError::StalePlan);
        }
        let redactor = Self::redactor(
            &plan.state.manifests,
            &plan.state.defaults,
            &plan.state.inputs,
        );
        let redacted: Vec<Value> = plan
            .state
            .manifests
            .iter()
            .map(|o| redactor.redact(o))
            .collect();
        let change = json!({"edits": req.edits, "baseRevision": req.base_revision});
        let revision = self
            .history
            .begin_revision(
                namespace,
                name,
                "change",
                actor,
                Some(&change),
                &Self::redact_inputs(&plan.state.inputs),
                &redacted,
                &plan.state,
            )
            .await?;
        let info = self.start(
            plan.applier,
            namespace.to_string(),
            name.to_string(),
            revision,
            plan.resolved,
            plan.prune,
            req.force,
            guard,
        );
        match self.finish_or_return::<()>(info, wait).await? {
            Ok(i) => Ok(i),
            Err(()) => unreachable!("finish_or_return never returns a plan"),
        }
    }

    async fn plan_change(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
    ) -> Result<ChangePlan, EngineError> {
        let (summary, state, comps) = self.current(namespace, name).await?;
        if req.base_revision != summary.revision {
            return Err(EngineError::StaleRevision {
                given: req.base_revision,
                current: summary.revision,
            });
        }
        if req.edits.is_empty() {
            return Err(EngineError::Invalid("the change set has no edits".into()));
        }
        let mut new = state.clone();
        let mut inputs_changed = false;
        for e in &req.edits {
            if let Edit::Input { name: input, value } = e {
                new.inputs.insert(input.clone(), value.clone());
                inputs_changed = true;
            }
        }
        let component_edits: Vec<Edit> = req
            .edits
            .iter()
            .filter(|e| !matches!(e, Edit::Input { .. }))
            .cloned()
            .collect();
        if inputs_changed {
            let (_, objects, new_comps, defaults) = self.render(
                &summary.template,
                namespace,
                Some(name),
                &new.inputs,
                &state.defaults,
            )?;
            new.manifests = objects;
            new.defaults = defaults;
            // Earlier edits stay in effect on the re-rendered manifests.
            changes::apply_edits(&mut new.manifests, &new_comps, &state.edits)?;
        }
        let comps_now = if inputs_changed {
            components::derive(&new.manifests, name)
        } else {
            comps
        };
        changes::apply_edits(&mut new.manifests, &comps_now, &component_edits)?;
        new.edits.extend(component_edits);
        let comps_after = components::derive(&new.manifests, name);
        manifest::label(&mut new.manifests, &comps_after, name, namespace);

        let before: BTreeMap<String, &Value> = state
            .manifests
            .iter()
            .map(|o| (manifest::group_key(&manifest::key(o)), o))
            .collect();
        let after_keys: BTreeSet<String> = new
            .manifests
            .iter()
            .map(|o| manifest::group_key(&manifest::key(o)))
            .collect();
        let changed_objects: Vec<Value> = new
            .manifests
            .iter()
            .filter(|o| {
                before
                    .get(&manifest::group_key(&manifest::key(o)))
                    .is_none_or(|b| *b != *o)
            })
            .cloned()
            .collect();
        let prune_objects: Vec<Value> = state
            .manifests
            .iter()
            .filter(|o| !after_keys.contains(&manifest::group_key(&manifest::key(o))))
            .cloned()
            .collect();

        let redact_before = Self::redactor(&state.manifests, &state.defaults, &state.inputs);
        let redact_after = Self::redactor(&new.manifests, &new.defaults, &new.inputs);
        let diff = manifest::unified_diff(
            &state
                .manifests
                .iter()
                .map(|o| redact_before.redact(o))
                .collect::<Vec<_>>(),
            &new.manifests
                .iter()
                .map(|o| redact_after.redact(o))
                .collect::<Vec<_>>(),
            &format!("revision-{}", summary.revision),
            "proposed",
        );
        let applier = self.applier()?;
        // One discovery pass for every kind; the dry run covers only what changes.
        let resolved = applier.resolve(&new.manifests, &comps_after).await?;
        let changed_keys: BTreeSet<String> = changed_objects
            .iter()
            .map(|o| manifest::group_key(&manifest::key(o)))
            .collect();
        let resolved_changed: Vec<Resolved> = resolved
            .iter()
            .filter(|r| changed_keys.contains(&manifest::group_key(&r.key)))
            .cloned()
            .collect();
        let dry_run = applier
            .dry_run(&resolved_changed, namespace, req.force)
            .await;
        let drift: Vec<ObjectResult> = dry_run
            .iter()
            .filter(|r| super::apply::is_conflict(r))
            .cloned()
            .collect();
        let prune = if prune_objects.is_empty() {
            Vec::new()
        } else {
            applier.resolve(&prune_objects, &comps_after).await?
        };
        let plan_hash = {
            let mut h = Sha256::new();
            h.update(summary.revision.to_le_bytes());
            h.update(serde_json::to_vec(&new.manifests).unwrap_or_default());
            h.update(serde_json::to_vec(&prune_objects).unwrap_or_default());
            hex::encode(h.finalize())[..16].to_string()
        };
        let preview = Preview {
            base_revision: summary.revision,
            diff,
            changed: changed_objects.iter().map(manifest::key).collect(),
            prune: prune_objects.iter().map(manifest::key).collect(),
            dry_run,
            drift,
            plan_hash,
        };
        Ok(ChangePlan {
            preview,
            state: new,
            applier,
            resolved,
            prune,
        })
    }

    /// Rolls back to revision `to`: re-applies its manifests (config and env included) as a new
    /// revision, pruning what it did not have.
    pub async fn rollback(
        &self,
        namespace: &str,
        name: &str,
        to: i64,
        actor: &str,
        force: bool,
        wait: bool,
    ) -> Result<OperationInfo, EngineError> {
        let lock = self.lock_for(&instance_id(namespace, name));
        let guard = lock
            .clone()
            .try_lock_owned()
            .map_err(|_| EngineError::Busy(instance_id(namespace, name)))?;
        let (summary, current, _) = self.current(namespace, name).await?;
        let target = self.history.revision(namespace, name, to).await?;
        if target.summary.kind == "delete" || target.summary.status != OperationStatus::Succeeded {
            return Err(EngineError::Invalid(format!(
                "revision {to} is a {} that {}; only successful deploys, changes and rollbacks can be restored",
                target.summary.kind,
                target.summary.status.as_str()
            )));
        }
        let state = self.history.revision_state(namespace, name, to).await?;
        let comps = components::derive(&state.manifests, name);
        let keys: BTreeSet<String> = state
            .manifests
            .iter()
            .map(|o| manifest::group_key(&manifest::key(o)))
            .collect();
        let prune_objects: Vec<Value> = current
            .manifests
            .iter()
            .filter(|o| !keys.contains(&manifest::group_key(&manifest::key(o))))
            .cloned()
            .collect();
        let applier = self.applier()?;
        let resolved = applier.resolve(&state.manifests, &comps).await?;
        let prune = if prune_objects.is_empty() {
            Vec::new()
        } else {
            applier.resolve(&prune_objects, &comps).await?
        };
        let redactor = Self::redactor(&state.manifests, &state.defaults, &state.inputs);
        let redacted: Vec<Value> = state.manifests.iter().map(|o| redactor.redact(o)).collect();
        let change = json!({"rollbackTo": to, "from": summary.revision});
        let revision = self
            .history
            .begin_revision(
                namespace,
                name,
                "rollback",
                actor,
                Some(&change),
                &Self::redact_inputs(&state.inputs),
                &redacted,
                &state,
            )
            .await?;
        let info = self.start(
            applier,
            namespace.to_string(),
            name.to_string(),
            revision,
            resolved,
            prune,
            force,
            guard,
        );
        match self.finish_or_return::<()>(info, wait).await? {
            Ok(i) => Ok(i),
            Err(()) => unreachable!("finish_or_return never returns a plan"),
        }
    }

    /// Deletes every object the instance owns (and the claims its StatefulSets made), records a
    /// `delete` revision, and reports what it removed. Waits for the deletes to be accepted.
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
        actor: &str,
    ) -> Result<OperationInfo, EngineError> {
        let lock = self.lock_for(&instance_id(namespace, name));
        let _guard = lock
            .try_lock()
            .map_err(|_| EngineError::Busy(instance_id(namespace, name)))?;
        let (_, state, comps) = self.current(namespace, name).await?;
        let applier = self.applier()?;
        let resolved = applier.resolve(&state.manifests, &comps).await?;
        let redactor = Self::redactor(&state.manifests, &state.defaults, &state.inputs);
        let redacted: Vec<Value> = state.manifests.iter().map(|o| redactor.redact(o)).collect();
        let revision = self
            .history
            .begin_revision(
                namespace,
                name,
                "delete",
                actor,
                None,
                &Self::redact_inputs(&state.inputs),
                &redacted,
                &state,
            )
            .await?;
        let mut results = applier
            .delete(&resolved, namespace, ObjectAction::Deleted)
            .await;
        match applier.delete_claims(namespace, name).await {
            Ok(claims) => results.extend(claims),
            Err(e) => results.push(ObjectResult {
                object: ObjectRef {
                    api_version: "v1".into(),
                    kind: "PersistentVolumeClaim".into(),
                    name: format!("{name}-*"),
                },
                action: ObjectAction::Failed,
                message: Some(e.to_string()),
            }),
        }
        let (status, message, results) = summarize(results);
        self.history
            .finish_revision(namespace, name, revision, status, &message, &results, None)
            .await?;
        let info = OperationInfo {
            id: operation_id(namespace, name, revision),
            namespace: namespace.into(),
            name: name.into(),
            revision,
            status,
            message,
            results,
        };
        Ok(info)
    }

    /// An operation's state: live while it runs (from memory), then from history.
    pub async fn operation(&self, id: &str) -> Result<OperationInfo, EngineError> {
        if let Some(op) = self
            .operations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
        {
            return Ok(op.clone());
        }
        let mut parts = id.splitn(3, ':');
        let (Some(ns), Some(name), Some(rev)) = (
            parts.next(),
            parts.next(),
            parts.next().and_then(|r| r.parse::<i64>().ok()),
        ) else {
            return Err(EngineError::NotFound(format!("operation {id}")));
        };
        let r = self.history.revision(ns, name, rev).await?;
        Ok(OperationInfo {
            id: id.into(),
            namespace: ns.into(),
            name: name.into(),
            revision: rev,
            status: r.summary.status,
            message: r.summary.message,
            results: r.results,
        })
    }
}

struct ChangePlan {
    preview: Preview,
    state: RevisionState,
    applier: Applier,
    resolved: Vec<Resolved>,
    prune: Vec<Resolved>,
}

/// A card whose live state cannot be known (no cluster, or it is unreachable).
fn unknown_status(c: &Component, why: &str) -> ComponentStatus {
    let mut status = health::component_status(&ComponentLive {
        component: c,
        objects: Vec::new(),
        pods: Vec::new(),
    });
    status.health = Health::new(HealthState::Unknown, why);
    status
}

/// Overall status and a one-line summary of per-object results.
fn summarize(results: Vec<ObjectResult>) -> (OperationStatus, String, Vec<ObjectResult>) {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in &results {
        let k = match r.action {
            ObjectAction::Created => "created",
            ObjectAction::Configured => "configured",
            ObjectAction::Unchanged => "unchanged",
            ObjectAction::Pruned => "pruned",
            ObjectAction::Deleted => "deleted",
            ObjectAction::Failed => "failed",
            ObjectAction::Planned => "planned",
        };
        *counts.entry(k).or_default() += 1;
    }
    let failed = counts.get("failed").copied().unwrap_or(0);
    let message = format!(
        "{} objects: {}",
        results.len(),
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    (
        if failed == 0 {
            OperationStatus::Succeeded
        } else {
            OperationStatus::Failed
        },
        message,
        results,
    )
}

/// Whether an input's name says it holds a secret.
fn looks_secret(name: &str) -> bool {
    let n = name.to_lowercase();
    ["password", "secret", "token", "key", "credential"]
        .iter()
        .any(|w| n.contains(w))
}
