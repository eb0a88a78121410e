//! Applying manifests to the cluster: preflight, dry run, ordered parallel server-side apply,
//! pruning and deletion. Every call goes through one shared client and its cached discovery;
//! every object gets its own result.
//!
//! Order (after gitops-engine's `sync_tasks.go`): namespace; CRDs; config, secrets and RBAC;
//! volume claims; services; what other components depend on (databases, queues, storage), and
//! ingresses, which need only their services; Jobs; workloads; the rest. Objects in the same tier
//! go in parallel. Every apply uses the field manager [`FIELD_MANAGER`].

mod delete;
mod grant;
mod namespace;
mod owner;
mod regrow;
mod send;
mod stop;
mod strays;

pub use grant::NamespaceGrant;
pub use owner::Owner;
pub use stop::{Limits, Stop};

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use app::model::{Component, ObjectAction, ObjectRef, ObjectResult};
use futures::{StreamExt, stream};
use kube::{
    Api, Client,
    api::{DynamicObject, GroupVersionKind, PatchParams},
    core::ApiResource,
    discovery::Scope,
};
use serde_json::Value;

use crate::{
    kube::{
        COMPONENT_KEY, Discovery, FIELD_MANAGER,
        failure::{self, Failure},
        str_at,
    },
    manifest,
};

/// How many objects of one tier are applied at once.
const PARALLELISM: usize = 16;

/// An object with the API it lives under.
#[derive(Clone)]
pub struct Resolved {
    /// The object as Berth applies it.
    pub object: Value,
    /// The same, serialised for the apiserver.
    body: Box<serde_json::value::RawValue>,
    /// Its identity.
    pub key: ObjectRef,
    resource: ApiResource,
    namespaced: bool,
    tier: u8,
}

impl Resolved {
    /// The API resource the object is served under.
    pub fn api_resource(&self) -> ApiResource {
        self.resource.clone()
    }

    /// Its apply tier (lower goes first).
    pub fn tier(&self) -> u8 {
        self.tier
    }
}

/// What the dry run found for one object.
#[derive(Debug, Clone)]
pub struct Planned {
    /// `Planned`, or `Failed` with the API server's message.
    pub result: ObjectResult,
    /// For objects that passed: their current resourceVersion, or None when they are new.
    pub existing: Option<Option<String>>,
    /// For objects that failed: how, by the apiserver's status.
    pub failure: Option<Failure>,
}

impl Planned {
    /// Whether the apiserver refused it as a server-side-apply conflict: another field manager
    /// changed a field Berth owns (drift).
    pub fn is_conflict(&self) -> bool {
        self.failure == Some(Failure::Conflict)
    }
}

/// Errors before anything is applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Kinds the cluster does not serve.
    #[error("the cluster does not serve {}; install the CRDs {} first (nothing was applied)", .kinds.join(", "), .crds.join(", "))]
    MissingKinds {
        /// `Kind (group/version)` for each.
        kinds: Vec<String>,
        /// CRD names (`plural.group`) that would serve them.
        crds: Vec<String>,
    },
    /// The API server could not be asked, or refused the question.
    #[error("cluster request failed: {0}")]
    Kube(#[from] kube::Error),
}

/// Applies objects through one shared client.
#[derive(Clone)]
pub struct Applier {
    discovery: Discovery,
    /// This installation's id: stamped on every object applied, and required of every object
    /// changed or deleted.
    installation: std::sync::Arc<str>,
    limits: Limits,
    /// Taken by each object in turn while a pace is set, so a paced apply goes one by one.
    paced: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The role Berth binds to itself where it deploys, when installed with least privilege.
    grant: Option<std::sync::Arc<NamespaceGrant>>,
}

impl Applier {
    /// An applier for installation `installation` over `discovery` (and its client), with the
    /// default [`Limits`].
    pub fn new(discovery: Discovery, installation: &str) -> Applier {
        Applier {
            discovery,
            installation: installation.into(),
            limits: Limits::default(),
            paced: Default::default(),
            grant: None,
        }
    }

    /// The same applier, binding `grant`'s role to Berth in each namespace it deploys into.
    pub fn with_grant(self, grant: Option<NamespaceGrant>) -> Applier {
        Applier {
            grant: grant.map(std::sync::Arc::new),
            ..self
        }
    }

    /// The same applier with other time limits.
    pub fn with_limits(self, limits: Limits) -> Applier {
        Applier { limits, ..self }
    }

    /// The installation it applies for.
    pub fn installation(&self) -> &str {
        &self.installation
    }

    /// Its time limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The client.
    pub fn client(&self) -> &Client {
        self.discovery.client()
    }

    /// Resolves every object's kind through (cached) discovery. Fails, naming them, when any
    /// kind is not served: a preflight, so a stack is never half applied for want of an
    /// operator. `components` tell which objects others depend on, which go earlier.
    pub async fn resolve(
        &self,
        objects: &[Value],
        components: &[Component],
    ) -> Result<Vec<Resolved>, ApplyError> {
        let mut gvks: Vec<GroupVersionKind> = Vec::new();
        for o in objects {
            let gvk = gvk_of(o);
            if !gvks.contains(&gvk) {
                gvks.push(gvk);
            }
        }
        let found = self.discovery.resolve(&gvks).await?;
        let missing: Vec<&GroupVersionKind> = found
            .iter()
            .filter(|(_, served)| served.is_none())
            .map(|(g, _)| g)
            .collect();
        if !missing.is_empty() {
            let mut missing = missing;
            missing.sort_by_key(|g| (g.group.clone(), g.kind.clone()));
            return Err(ApplyError::MissingKinds {
                kinds: missing
                    .iter()
                    .map(|g| format!("{} ({})", g.kind, api_version(g)))
                    .collect(),
                crds: missing
                    .iter()
                    .filter(|g| !g.group.is_empty())
                    .map(|g| format!("{}s.{}", g.kind.to_lowercase(), g.group))
                    .collect(),
            });
        }
        let served: HashMap<GroupVersionKind, _> = found
            .into_iter()
            .filter_map(|(g, s)| s.map(|s| (g, s)))
            .collect();
        let depended_on: BTreeSet<&str> = components
            .iter()
            .flat_map(|c| c.depends_on.iter().map(String::as_str))
            .collect();
        let label = format!("/metadata/labels/{}", COMPONENT_KEY.replace('/', "~1"));
        let mut out = Vec::with_capacity(objects.len());
        for o in objects {
            let gvk = gvk_of(o);
            let Some((resource, caps)) = served.get(&gvk).cloned() else {
                continue;
            };
            let backing = depended_on.contains(str_at(o, &label));
            let mut object = o.clone();
            manifest::stamp_installation(&mut object, &self.installation);
            out.push(Resolved {
                tier: tier(&gvk, backing),
                body: send::body(&object)?,
                object,
                key: manifest::key(o),
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            });
        }
        Ok(out)
    }

    fn api(&self, r: &Resolved, namespace: &str) -> Api<DynamicObject> {
        if r.namespaced {
            Api::namespaced_with(self.client().clone(), namespace, &r.resource)
        } else {
            Api::all_with(self.client().clone(), &r.resource)
        }
    }

    /// Server-side dry run of every object, in parallel. `Planned` for each that would apply.
    /// A Job whose template changed is reported as to be replaced (Jobs are immutable).
    pub async fn dry_run(
        &self,
        objects: &[Resolved],
        namespace: &str,
        force: bool,
    ) -> Vec<ObjectResult> {
        self.plan(objects, namespace, force)
            .await
            .into_iter()
            .map(|p| p.result)
            .collect()
    }

    /// The dry run, keeping what it learnt about each object's current version.
    pub async fn plan(&self, objects: &[Resolved], namespace: &str, force: bool) -> Vec<Planned> {
        let params = PatchParams {
            dry_run: true,
            force,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let futs: Vec<_> = objects
            .iter()
            .map(|r| {
                let params = params.clone();
                async move {
                    match self.send(r, namespace, &params).await {
                        // A dry-run create has no resourceVersion; an update carries the current one.
                        Ok(version) => Planned {
                            result: ObjectResult {
                                object: r.key.clone(),
                                action: ObjectAction::Planned,
                                message: None,
                            },
                            existing: Some(version),
                            failure: None,
                        },
                        Err(e) if r.key.kind == "Job" && is_immutable(&e) => Planned {
                            result: ObjectResult {
                                object: r.key.clone(),
                                action: ObjectAction::Planned,
                                message: Some(
                                    "will be replaced: a Job's template cannot change".into(),
                                ),
                            },
                            existing: Some(Some("replace".into())),
                            failure: None,
                        },
                        Err(e) if regrow::is_forbidden_update(&r.key.kind, &e) => {
                            self.plan_regrow(r, namespace, &params, e).await
                        }
                        Err(e) => refused(&r.key, &e),
                    }
                }
            })
            .collect();
        stream::iter(futs).buffered(PARALLELISM).collect().await
    }

    /// Applies every object, tier by tier, parallel within a tier. `plan` is the dry run's
    /// knowledge of which objects exist (to report created, configured or unchanged without an
    /// extra read). `progress` is told about each result as it happens. A failing tier stops the
    /// later ones (their objects are reported failed, "not applied").
    pub async fn apply(
        &self,
        objects: &[Resolved],
        plan: &[Planned],
        namespace: &str,
        force: bool,
        progress: &(dyn Fn(&ObjectResult) + Sync),
    ) -> Vec<ObjectResult> {
        self.apply_until(objects, plan, namespace, force, progress, &Stop::never())
            .await
    }

    /// [`Applier::apply`], stopping before the next object once `stop` trips: the objects not
    /// started are failed with the reason. Each call to the apiserver has the applier's
    /// timeout.
    pub async fn apply_until(
        &self,
        objects: &[Resolved],
        plan: &[Planned],
        namespace: &str,
        force: bool,
        progress: &(dyn Fn(&ObjectResult) + Sync),
        stop: &Stop,
    ) -> Vec<ObjectResult> {
        let params = PatchParams {
            force,
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let existing: HashMap<String, Option<String>> = plan
            .iter()
            .filter_map(|p| {
                p.existing
                    .clone()
                    .map(|v| (manifest::group_key(&p.result.object), v))
            })
            .collect();
        let mut tiers: Vec<u8> = objects.iter().map(|r| r.tier).collect();
        tiers.sort_unstable();
        tiers.dedup();
        let mut results: HashMap<String, ObjectResult> = HashMap::new();
        let mut stopped = false;
        for t in tiers {
            let started = std::time::Instant::now();
            let batch: Vec<&Resolved> = objects.iter().filter(|r| r.tier == t).collect();
            let count = batch.len();
            if stopped {
                for r in batch {
                    let res =
                        not_applied(&r.key, stop.reason().unwrap_or("an earlier step failed"));
                    progress(&res);
                    results.insert(manifest::group_key(&r.key), res);
                }
                continue;
            }
            let futs: Vec<_> = batch
                .into_iter()
                .map(|r| {
                    let params = params.clone();
                    let before = existing
                        .get(&manifest::group_key(&r.key))
                        .cloned()
                        .flatten();
                    async move {
                        let _turn = if self.limits.pace.is_zero() {
                            None
                        } else {
                            let turn = self.paced.lock().await;
                            tokio::time::sleep(self.limits.pace).await;
                            Some(turn)
                        };
                        let res = match stop.reason() {
                            Some(why) => not_applied(&r.key, why),
                            None => self.apply_timed(r, namespace, &params, before, stop).await,
                        };
                        progress(&res);
                        res
                    }
                })
                .collect();
            let done: Vec<ObjectResult> = stream::iter(futs)
                .buffer_unordered(PARALLELISM)
                .collect()
                .await;
            stopped = done.iter().any(|r| r.action == ObjectAction::Failed);
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            tracing::debug!(tier = t, objects = count, ms, "apply: tier done");
            for res in done {
                results.insert(manifest::group_key(&res.object), res);
            }
        }
        objects
            .iter()
            .filter_map(|r| results.remove(&manifest::group_key(&r.key)))
            .collect()
    }

    /// Applies one object. `before` is its resourceVersion before the apply (None: it is new).
    pub(super) async fn apply_one(
        &self,
        r: &Resolved,
        namespace: &str,
        params: &PatchParams,
        before: Option<String>,
    ) -> ObjectResult {
        let mut outcome = self.send(r, namespace, params).await;
        if let Err(e) = &outcome
            && r.key.kind == "Job"
            && is_immutable(e)
        {
            // Jobs cannot change their template: replace the old run with the new one.
            if let Err(e) = self
                .delete_and_wait(
                    &self.api(r, namespace),
                    &r.key.name,
                    &delete::background(),
                    Duration::from_secs(60),
                )
                .await
            {
                return failed(&r.key, &e);
            }
            outcome = self.send(r, namespace, params).await;
            if outcome.is_ok() {
                return ObjectResult {
                    object: r.key.clone(),
                    action: ObjectAction::Configured,
                    message: Some("replaced (a Job's template cannot change)".into()),
                };
            }
        }
        if let Err(e) = &outcome
            && regrow::is_forbidden_update(&r.key.kind, e)
            && let Ok(Some(regrow)) = self.regrow_plan(r, namespace).await
        {
            return self.regrow(r, &regrow, namespace, params).await;
        }
        let action = match (&outcome, before) {
            (Err(_), _) => ObjectAction::Failed,
            (Ok(_), None) => ObjectAction::Created,
            (Ok(after), Some(v)) if after.as_deref() == Some(v.as_str()) => ObjectAction::Unchanged,
            (Ok(_), Some(_)) => ObjectAction::Configured,
        };
        match outcome {
            Err(e) => failed(&r.key, &e),
            Ok(_) => ObjectResult {
                object: r.key.clone(),
                action,
                message: None,
            },
        }
    }
}

impl Applier {
    /// The dry run of a StatefulSet update the apiserver refused: a regrow of its volumes when
    /// that is all that changed, else the refusal.
    async fn plan_regrow(
        &self,
        r: &Resolved,
        namespace: &str,
        params: &PatchParams,
        refusal: kube::Error,
    ) -> Planned {
        let regrow = match self.regrow_plan(r, namespace).await {
            Ok(Some(regrow)) => regrow,
            Ok(None) => return refused(&r.key, &refusal),
            Err(e) => return refused(&r.key, &e),
        };
        match self.regrow_dry_run(r, &regrow, namespace, params).await {
            Ok(message) => Planned {
                result: ObjectResult {
                    object: r.key.clone(),
                    action: ObjectAction::Planned,
                    message: Some(message),
                },
                existing: Some(Some("regrow".into())),
                failure: None,
            },
            Err(e) => refused(&r.key, &e),
        }
    }
}

/// A dry run the apiserver refused.
fn refused(key: &ObjectRef, e: &kube::Error) -> Planned {
    Planned {
        result: failed(key, e),
        existing: None,
        failure: Some(failure::classify(e)),
    }
}

/// An object left alone, and why ("an earlier step failed", "cancelled").
fn not_applied(key: &ObjectRef, why: &str) -> ObjectResult {
    ObjectResult {
        object: key.clone(),
        action: ObjectAction::Failed,
        message: Some(format!("not applied: {why}")),
    }
}

/// How a failed object's message starts when the apiserver did not answer at all.
pub(super) const NO_ANSWER: &str = "no answer from the apiserver";

fn failed(key: &ObjectRef, e: &kube::Error) -> ObjectResult {
    let message = match failure::classify(e) {
        Failure::Transport => format!("{NO_ANSWER}: {}", failure::message(e)),
        _ => failure::message(e),
    };
    ObjectResult {
        object: key.clone(),
        action: ObjectAction::Failed,
        message: Some(message),
    }
}

/// A Job's pod template cannot change: the apiserver answers 422 Invalid, "field is immutable".
fn is_immutable(e: &kube::Error) -> bool {
    failure::classify(e) == Failure::Invalid && failure::message(e).contains("field is immutable")
}

fn gvk_of(o: &Value) -> GroupVersionKind {
    let av = o["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = av.rsplit_once('/').unwrap_or(("", av));
    GroupVersionKind::gvk(group, version, o["kind"].as_str().unwrap_or_default())
}

fn api_version(g: &GroupVersionKind) -> String {
    if g.group.is_empty() {
        g.version.clone()
    } else {
        format!("{}/{}", g.group, g.version)
    }
}

/// The apply tier of a kind (lower goes first). `backing`: other components depend on it.
fn tier(gvk: &GroupVersionKind, backing: bool) -> u8 {
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        (_, "Namespace") => 0,
        (_, "CustomResourceDefinition") => 1,
        // Sealos creates its Instance before anything it owns.
        ("app.sealos.io", "Instance") => 2,
        (
            _,
            "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
            | "ConfigMap" | "Secret",
        ) => 2,
        (_, "PersistentVolumeClaim" | "StorageClass" | "PersistentVolume") => 3,
        (_, "Service") => 4,
        ("apps.kubeblocks.io", _) | ("objectstorage.sealos.io", _) => 5,
        (_, "StatefulSet") if backing => 5,
        // An Ingress needs only the Services it routes to. Applied last, as gitops-engine does,
        // PostHog's took 7-43 ms on its own after the workloads, while the controllers were busy
        // making their pods; here it goes beside the databases.
        ("networking.k8s.io", "Ingress") => 5,
        (_, "Job") => 6,
        (_, kind) if crate::kube::is_workload(kind) => 7,
        (_, "Pod" | "ReplicaSet") => 7,
        _ => 8,
    }
}
