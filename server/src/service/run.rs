//! The one path every operation takes once it is validated, planned and dry-run: record the
//! revision, then run it in the background, reporting each object's result to subscribers and
//! the outcome to the store. Deploys, changes, rollbacks and deletes all go through [`launch`].
//! A caller that does not wait gets the running operation at once; the work goes on if it
//! disconnects.
//!
//! [`launch`]: Service::launch

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use app::model::{ObjectAction, ObjectRef, ObjectResult, OperationInfo, OperationStatus, Progress};
use serde_json::Value;
use tokio::sync::{OwnedMutexGuard, broadcast};

use super::{Error, Result, Service, locks::OpGuard, phase, record::Results, redact};
use crate::{
    apply::{Applier, Planned, Resolved, Stop},
    kube::instance_key,
    store::{NewRevision, Outcome, RevisionState},
};

/// Operations running now (with the signal that stops each), the per-instance locks, the
/// progress channel, and whether Berth is shutting down.
#[derive(Clone)]
pub struct Operations {
    live: Arc<Mutex<HashMap<String, (OperationInfo, Stop)>>>,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    pub(super) progress: broadcast::Sender<Progress>,
    draining: Arc<AtomicBool>,
}

impl Default for Operations {
    fn default() -> Self {
        Operations {
            live: Arc::default(),
            locks: Arc::default(),
            progress: broadcast::channel(1024).0,
            draining: Arc::default(),
        }
    }
}

impl Operations {
    /// Progress of every operation from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Takes the instance's lock, or fails with [`Error::Busy`] while another operation holds
    /// it. Locks nobody holds are dropped on the way, so the map only has live instances.
    pub(super) fn lock(&self, namespace: &str, name: &str) -> Result<OwnedMutexGuard<()>> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        let key = instance_key(namespace, name);
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            locks.retain(|k, l| *k == key || Arc::strong_count(l) > 1);
            locks.entry(key.clone()).or_default().clone()
        };
        lock.try_lock_owned().map_err(|_| Error::Busy(key))
    }

    fn set(&self, info: &OperationInfo, stop: &Stop) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(info.id.clone(), (info.clone(), stop.clone()));
    }

    pub(super) fn push(&self, id: &str, result: &ObjectResult) {
        if let Some((op, _)) = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(id)
        {
            op.results.push(result.clone());
        }
    }

    /// Asks a running operation to stop before its next object; false when none runs as `id`.
    pub fn cancel(&self, id: &str) -> bool {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.get(id).map(|(_, stop)| stop.cancel()).is_some()
    }

    /// Stops taking new operations (Berth is shutting down).
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The operation running on an instance, if one is.
    pub fn running_on(&self, namespace: &str, name: &str) -> Option<OperationInfo> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.values()
            .map(|(op, _)| op)
            .find(|op| op.namespace == namespace && op.name == name)
            .cloned()
    }

    /// The instances (`(namespace, name)`) operations run on now.
    pub fn instances_running(&self) -> Vec<(String, String)> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.values()
            .map(|(op, _)| (op.namespace.clone(), op.name.clone()))
            .collect()
    }

    /// How many operations are running.
    pub fn running(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(super) fn remove(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    fn get(&self, id: &str) -> Option<OperationInfo> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .map(|(op, _)| op.clone())
    }
}

/// What kind of revision an operation records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Deploy,
    Change,
    Rollback,
    Resume,
    Delete,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Deploy => "deploy",
            Kind::Change => "change",
            Kind::Rollback => "rollback",
            Kind::Resume => "resume",
            Kind::Delete => "delete",
        }
    }
}

/// An operation ready to record and run: validated, planned and dry-run.
pub(super) struct Prepared {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub template: String,
    /// The change set as history shows it (already redacted).
    pub change: Option<Value>,
    /// The revision's full state (for a delete: the state being removed).
    pub state: Arc<RevisionState>,
    /// Its manifests redacted, when they were made already (by a preview, or during a create's
    /// dry run).
    pub shown: Option<Vec<Value>>,
    pub applier: Applier,
    pub work: Work,
}

impl Work {
    /// How many objects it applies or deletes.
    fn len(&self) -> usize {
        match self {
            Work::Apply { objects, prune, .. } => objects.len() + prune.len(),
            Work::Delete { objects, .. } => objects.len(),
        }
    }
}

/// What running the operation does.
pub(super) enum Work {
    /// Apply `objects` as the dry run (`planned`) found them, then delete `prune`.
    Apply {
        objects: Vec<Resolved>,
        planned: Vec<Planned>,
        prune: Vec<Resolved>,
        force: bool,
        /// The namespace was just made sure of (a create); otherwise it is created if missing.
        namespace_ready: bool,
    },
    /// Delete `objects` and the claims the instance's StatefulSets made.
    /// `last` when no other instance lives in the namespace: Berth's own binding there goes too.
    Delete { objects: Vec<Resolved>, last: bool },
}

impl Service {
    /// Records the revision (a deploy also its instance, in the same transaction), then runs
    /// the work in the background under `guard`. With `wait`, answers when it is done.
    pub(super) async fn launch(
        &self,
        p: Prepared,
        actor: &str,
        guard: OpGuard,
        wait: bool,
    ) -> Result<OperationInfo> {
        let started = std::time::Instant::now();
        let redacted_manifests = match &p.shown {
            Some(shown) => shown,
            None => &self.redacted(&p.state),
        };
        phase(started, "launch: redacted");
        let revision = self
            .store
            .begin_revision(&NewRevision {
                namespace: &p.namespace,
                name: &p.name,
                template: &p.template,
                kind: p.kind.as_str(),
                actor,
                change: p.change.as_ref(),
                redacted_inputs: &redact::inputs(&p.state.inputs),
                redacted_manifests,
                state: &p.state,
                planned: p.work.len(),
            })
            .await?;
        phase(started, "launch: revision recorded");
        let info = OperationInfo {
            id: OperationInfo::id_of(&p.namespace, &p.name, revision),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            revision,
            status: OperationStatus::Running,
            message: "applying".into(),
            results: Vec::new(),
        };
        let stop = Stop::after(p.applier.limits().deadline);
        self.ops.set(&info, &stop);
        let service = self.clone();
        let handle = tokio::spawn(async move {
            let _guard = guard;
            service.run(p, revision, stop).await
        });
        // Whether or not the caller waits, a panic in the task fails its revision.
        let supervised = {
            let service = self.clone();
            let info = info.clone();
            async move {
                match handle.await {
                    Ok(done) => done,
                    Err(e) => service.panicked(info, &e.to_string()).await,
                }
            }
        };
        if !wait {
            tokio::spawn(supervised);
            return Ok(info);
        }
        Ok(supervised.await)
    }

    async fn run(&self, p: Prepared, revision: i64, stop: Stop) -> OperationInfo {
        let started = std::time::Instant::now();
        // What is about to be applied is watched from the start, so its progress shows.
        if let (Some(watches), Work::Apply { objects, .. }) = (&self.watches, &p.work) {
            let kinds: Vec<&str> = objects.iter().map(|r| r.key.kind.as_str()).collect();
            watches.need_kinds(&kinds).await;
        }
        let id = OperationInfo::id_of(&p.namespace, &p.name, revision);
        let instance = instance_key(&p.namespace, &p.name);
        let redactor = self.redactor(&p.state);
        // Written before anyone is told of them; the last one goes into the end's write.
        let expected = match &p.work {
            Work::Apply { .. } => p.work.len(),
            Work::Delete { .. } => 0,
        };
        let recorder = Results::start(self, (&p.namespace, &p.name), revision, expected);
        let progress = |r: &ObjectResult| recorder.push(redact::result(&redactor, r));
        let (mut status, mut message, results) = match &p.work {
            Work::Apply {
                objects,
                planned,
                prune,
                force,
                namespace_ready,
            } => {
                let owner = instance_key(&p.namespace, &p.name);
                run_apply(
                    &p.applier,
                    &owner,
                    &p.namespace,
                    objects,
                    planned,
                    prune,
                    (*force, *namespace_ready),
                    &progress,
                    &stop,
                )
                .await
            }
            Work::Delete { objects, last } => {
                run_delete(&p.applier, &p.namespace, &p.name, objects, *last, &progress).await
            }
        };
        phase(started, "run: applied");
        let held = recorder.flush().await;
        phase(started, "run: results written");
        if stop.is_cancelled() && status != OperationStatus::Succeeded {
            status = OperationStatus::Cancelled;
            let applied = results
                .iter()
                .filter(|r| r.action != ObjectAction::Failed)
                .count();
            message = format!(
                "cancelled after {applied} of {} objects; the rest were not applied",
                results.len()
            );
        }
        let results: Vec<ObjectResult> = results
            .iter()
            .map(|r| redact::result(&redactor, r))
            .collect();
        let outcome = Outcome {
            status,
            message: &message,
            results: &results,
        };
        match self
            .record_end(&p.namespace, &p.name, revision, &outcome)
            .await
        {
            Ok(()) => {
                // The results held back are in the record now: they can be told.
                self.tell(&p.namespace, &p.name, revision, held).await;
                if status == OperationStatus::Succeeded && p.kind != Kind::Delete {
                    let state = p.state.clone();
                    self.store
                        .keep_opened(&p.namespace, &p.name, revision, state);
                }
                if p.kind != Kind::Delete {
                    self.record_health_later(&p.namespace, &p.name, revision, &p.state);
                }
            }
            Err(why) => {
                status = OperationStatus::Failed;
                message = format!(
                    "{message}; but its end could not be recorded ({why}): it shows as interrupted once Berth restarts, and can be resumed"
                );
            }
        }
        phase(started, "run: end recorded");
        self.announce(Progress::Finished {
            instance,
            revision,
            status,
            message: message.clone(),
        })
        .await;
        // History now has the outcome; the live map only holds running operations.
        self.ops.remove(&id);
        OperationInfo {
            id,
            namespace: p.namespace,
            name: p.name,
            revision,
            status,
            message,
            results,
        }
    }

    /// An operation's state: live while it runs, then from history.
    pub async fn operation(&self, id: &str) -> Result<OperationInfo> {
        if let Some(op) = self.ops.get(id) {
            return Ok(op);
        }
        let (namespace, name, revision) = OperationInfo::parse_id(id)
            .ok_or_else(|| Error::NotFound(format!("operation {id}")))?;
        let r = self.store.revision(namespace, name, revision).await?;
        Ok(OperationInfo {
            id: id.into(),
            namespace: namespace.into(),
            name: name.into(),
            revision,
            status: r.summary.status,
            message: r.summary.message,
            results: r.results,
        })
    }

    /// Progress of every operation from now on.
    pub fn subscribe_progress(&self) -> broadcast::Receiver<Progress> {
        self.ops.subscribe()
    }

    /// Deletes every object the instance owns (and the claims its StatefulSets made) as a
    /// `delete` revision. Its history stays readable.
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
        actor: &str,
        wait: bool,
    ) -> Result<OperationInfo> {
        let guard = self.lock(namespace, name).await?;
        self.previews.forget(namespace, name);
        let (summary, state) = self.current(namespace, name).await?;
        let applier = self.applier()?;
        let components = crate::components::derive(&state.manifests, name);
        let mut objects = applier.resolve(&state.manifests, &components).await?;
        // Also what an unfinished revision created and no finished one recorded.
        let strays = self.strays(&applier, namespace, name, &objects).await?;
        if !strays.is_empty() {
            objects.extend(applier.resolve(&strays, &components).await?);
        }
        let last = !self
            .store
            .instances(false)
            .await?
            .iter()
            .any(|i| i.namespace == namespace && i.name != name);
        let prepared = Prepared {
            kind: Kind::Delete,
            namespace: namespace.into(),
            name: name.into(),
            template: summary.template,
            change: None,
            state,
            shown: None,
            applier,
            work: Work::Delete { objects, last },
        };
        self.launch(prepared, actor, guard, wait).await
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_apply(
    applier: &Applier,
    owner: &str,
    namespace: &str,
    objects: &[Resolved],
    planned: &[Planned],
    prune: &[Resolved],
    (force, namespace_ready): (bool, bool),
    progress: &(dyn Fn(&ObjectResult) + Sync),
    stop: &Stop,
) -> (OperationStatus, String, Vec<ObjectResult>) {
    let refused: Vec<&Planned> = planned
        .iter()
        .filter(|p| p.result.action == ObjectAction::Failed)
        .collect();
    if !refused.is_empty() {
        let message = if refused.iter().any(|p| p.is_conflict()) {
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
        let results: Vec<ObjectResult> = refused.iter().map(|p| p.result.clone()).collect();
        results.iter().for_each(progress);
        return (OperationStatus::Failed, message, results);
    }
    if !namespace_ready && let Err(e) = applier.create_namespace(namespace).await {
        return (
            OperationStatus::Failed,
            format!("cannot create namespace {namespace}: {e}"),
            Vec::new(),
        );
    }
    let started = std::time::Instant::now();
    let mut results = applier
        .apply_until(objects, planned, namespace, force, progress, stop)
        .await;
    tracing::info!(
        namespace,
        objects = objects.len(),
        apply_ms = started.elapsed().as_millis(),
        "applied"
    );
    if results.iter().all(|r| r.action != ObjectAction::Failed) && !prune.is_empty() {
        let pruned = applier
            .delete(prune, namespace, owner, ObjectAction::Pruned)
            .await;
        pruned.iter().for_each(progress);
        results.extend(pruned);
    }
    summarize(results)
}

async fn run_delete(
    applier: &Applier,
    namespace: &str,
    name: &str,
    objects: &[Resolved],
    last: bool,
    progress: &(dyn Fn(&ObjectResult) + Sync),
) -> (OperationStatus, String, Vec<ObjectResult>) {
    let owner = instance_key(namespace, name);
    let mut results = applier
        .delete(objects, namespace, &owner, ObjectAction::Deleted)
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
    results.iter().for_each(progress);
    let summary = summarize(results);
    // Nothing of Berth's is left in the namespace: neither are its rights there.
    if last
        && summary.0 == OperationStatus::Succeeded
        && let Err(e) = applier.revoke_namespace(namespace).await
        && !matches!(&e, kube::Error::Api(s) if s.code == 404)
    {
        tracing::warn!(%namespace, error = %e, "cannot remove Berth's binding in the namespace");
    }
    summary
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
    let status = if failed == 0 {
        OperationStatus::Succeeded
    } else {
        OperationStatus::Failed
    };
    (status, message, results)
}
