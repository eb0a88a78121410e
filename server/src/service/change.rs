//! Change sets and rollbacks. The plan is pure (`crate::plan`); around it the service reads the
//! recorded state once, resolves kinds once (cached discovery), and dry-runs each object once:
//! a preview dry-runs what changes, and a confirmation that follows it within a minute applies
//! from that dry run (`previewed.rs`). Otherwise a confirmed change plans again, dry-runs what it
//! applies and applies from that dry run's findings without asking again.

use std::{collections::BTreeSet, sync::Arc};

use app::model::{
    ChangeRequest, InstanceSummary, ObjectAction, OperationInfo, OperationStatus, Preview,
};
use serde_json::json;

use super::{
    Error, Result, Service,
    locks::OpGuard,
    phase,
    previewed::{self, Position, Previewed},
    redact,
    run::{Kind, Prepared, Work},
};
use crate::{
    apply::{Applier, Planned, Resolved},
    kube::failure::Failure,
    manifest,
    plan::{self, Plan, Rerendered},
    store::RevisionState,
};

/// Which instance a planned revision is for, and how history names it.
struct Target<'a> {
    kind: Kind,
    namespace: &'a str,
    name: &'a str,
    template: String,
    change: serde_json::Value,
    /// The instance's recorded state: its objects are its own.
    recorded: &'a RevisionState,
    /// Take over objects Berth did not create.
    adopt: bool,
}

impl Target<'_> {
    /// The operation that records `state` (with its redacted manifests, when already made) as
    /// this target's new revision and runs `work`.
    fn prepare(
        self,
        (state, shown): (RevisionState, Option<Vec<serde_json::Value>>),
        applier: Applier,
        work: Work,
    ) -> Prepared {
        Prepared {
            kind: self.kind,
            namespace: self.namespace.into(),
            name: self.name.into(),
            template: self.template,
            change: Some(self.change),
            state: Arc::new(state),
            shown,
            applier,
            work,
        }
    }
}

/// A rollback to `to` of the instance whose current revision is `current`.
fn rollback_target<'a>(
    (namespace, name): (&'a str, &'a str),
    summary: &InstanceSummary,
    current: &'a RevisionState,
    to: i64,
) -> Target<'a> {
    Target {
        kind: Kind::Rollback,
        namespace,
        name,
        template: summary.template.clone(),
        change: json!({"rollbackTo": to, "from": summary.revision}),
        recorded: current,
        adopt: false,
    }
}

/// What a change request asks for, as its preview and its confirmation must agree.
fn request_digest(req: &ChangeRequest) -> [u8; 32] {
    previewed::digest(&(
        req.base_revision,
        &req.edits,
        req.strict,
        req.force,
        req.adopt,
    ))
}

/// What a rollback asks for.
fn rollback_digest(to: i64, force: bool) -> [u8; 32] {
    previewed::digest(&("rollback", to, force))
}

/// Where the instance's history stands.
fn position(summary: &InstanceSummary) -> Position {
    (
        summary.revision,
        summary.unfinished.as_ref().map(|u| u.number),
    )
}

fn keys(objects: &[serde_json::Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| manifest::group_key(&manifest::key(o)))
        .collect()
}

impl Service {
    /// Reads the current revision and plans the change set on it.
    async fn plan_change(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
    ) -> Result<(InstanceSummary, Arc<RevisionState>, Plan)> {
        let (summary, recorded) = self.current(namespace, name).await?;
        let planned = self.plan_on(&summary, &recorded, req)?;
        Ok((summary, recorded, planned))
    }

    /// Plans the change set on the instance's current revision `recorded`.
    fn plan_on(
        &self,
        summary: &InstanceSummary,
        recorded: &RevisionState,
        req: &ChangeRequest,
    ) -> Result<Plan> {
        if req.base_revision != summary.revision {
            return Err(Error::StaleRevision {
                given: req.base_revision,
                current: summary.revision,
            });
        }
        let (namespace, name) = (summary.namespace.as_str(), summary.name.as_str());
        let render = |inputs: &_| {
            self.render(
                &summary.template,
                namespace,
                Some(name),
                inputs,
                &recorded.defaults,
                req.strict,
            )
            .map(|r| Rerendered {
                objects: r.objects,
                defaults: r.defaults,
                warnings: r.warnings,
            })
        };
        Ok(plan::plan_change(
            summary.revision,
            recorded,
            &req.edits,
            name,
            namespace,
            render,
        )?)
    }

    /// Resolves the desired objects and the prune set in one discovery pass.
    async fn resolve_plan(
        &self,
        applier: &Applier,
        (namespace, name): (&str, &str),
        plan: &mut Plan,
    ) -> Result<(Vec<Resolved>, Vec<Resolved>)> {
        let mut all = plan.state.manifests.clone();
        all.extend(plan.prune.iter().cloned());
        let mut resolved = applier.resolve(&all, &plan.components).await?;
        // What an unfinished revision left behind is pruned too (and shown as pruned).
        let strays = self.strays(applier, namespace, name, &resolved).await?;
        if !strays.is_empty() {
            resolved.extend(applier.resolve(&strays, &plan.components).await?);
            plan.prune.extend(strays);
        }
        let prune = resolved.split_off(plan.state.manifests.len());
        Ok((resolved, prune))
    }

    /// Objects the instance owns in the cluster that none of `known` is: left by a revision that
    /// failed, was cancelled or was interrupted.
    pub(super) async fn strays(
        &self,
        applier: &Applier,
        namespace: &str,
        name: &str,
        known: &[Resolved],
    ) -> Result<Vec<serde_json::Value>> {
        // Only a revision that did not finish leaves strays: with none in history, no listing.
        if !self.store.has_unfinished(namespace, name).await? {
            return Ok(Vec::new());
        }
        let keep = known
            .iter()
            .map(|r| (r.key.kind.clone(), r.key.name.clone()))
            .collect();
        Ok(applier.strays(known, namespace, name, &keep).await?)
    }

    /// Previews a change set: the diff, the server-side dry run of what changes, drift, and the
    /// plan hash that the confirming call must send back. Changes nothing.
    pub async fn preview(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
    ) -> Result<Preview> {
        let (summary, recorded, plan) = self.plan_change(namespace, name, req).await?;
        let keep = (Kind::Change, request_digest(req), position(&summary));
        self.dry_run_preview(
            namespace, name, &recorded, &plan, req.force, req.adopt, keep,
        )
        .await
    }

    /// Dry-runs what `plan` changes over `recorded` (checking ownership first) and shows it.
    /// Its work is kept for the confirmation (`previewed.rs`) when the dry run refused nothing
    /// and the cluster holds the recorded revision, so that only what changes is applied.
    #[allow(clippy::too_many_arguments)]
    async fn dry_run_preview(
        &self,
        namespace: &str,
        name: &str,
        recorded: &RevisionState,
        plan: &Plan,
        force: bool,
        adopt: bool,
        (kind, request, position): (Kind, [u8; 32], Position),
    ) -> Result<Preview> {
        let applier = self.applier()?;
        let mut plan = plan.clone();
        let (resolved, prune) = self
            .resolve_plan(&applier, (namespace, name), &mut plan)
            .await?;
        let changed = keys(&plan.changed);
        let to_check: Vec<Resolved> = resolved
            .into_iter()
            .filter(|r| changed.contains(&manifest::group_key(&r.key)))
            .collect();
        let planned = applier.plan(&to_check, namespace, force).await;
        let mine = keys(&recorded.manifests);
        self.check_ownership(&applier, namespace, name, &to_check, &planned, &mine, adopt)
            .await?;
        let shown = self.redacted(&plan.state);
        let preview = self.preview_of(recorded, &plan, &shown, &planned);
        let refused = planned
            .iter()
            .any(|p| p.result.action == ObjectAction::Failed);
        if !refused
            && self
                .cluster_has_recorded(kind, (namespace, name), plan.base_revision)
                .await?
        {
            let work = (to_check, planned, prune);
            let kept = Previewed::new(request, position, (plan, shown), work);
            self.previews.keep(namespace, name, kept);
        }
        Ok(preview)
    }

    /// Applies a change set previewed before (same edits, same base revision, same plan hash).
    pub async fn apply_change(
        &self,
        namespace: &str,
        name: &str,
        req: &ChangeRequest,
        actor: &str,
        wait: bool,
    ) -> Result<OperationInfo> {
        if req.plan_hash.is_none() {
            return Err(Error::Invalid(
                "applying a change needs the planHash of its preview: POST .../changes/preview first and confirm".into(),
            ));
        }
        let started = std::time::Instant::now();
        let guard = self.lock(namespace, name).await?;
        let (summary, recorded) = self.current(namespace, name).await?;
        phase(started, "change: locked and read");
        let change = json!({"edits": redact::edits(&req.edits), "baseRevision": req.base_revision});
        let hash = req.plan_hash.as_deref().unwrap_or_default();
        let kept = self.previews.take(
            (namespace, name),
            &request_digest(req),
            hash,
            position(&summary),
        );
        let target = Target {
            kind: Kind::Change,
            namespace,
            name,
            template: summary.template.clone(),
            change,
            recorded: &recorded,
            adopt: req.adopt,
        };
        if let Some(kept) = kept {
            return self
                .apply_previewed(target, kept, req.force, actor, guard, wait)
                .await;
        }
        let plan = self.plan_on(&summary, &recorded, req)?;
        if hash != plan.plan_hash {
            return Err(Error::StalePlan);
        }
        self.apply_plan(target, plan, req.force, actor, guard, wait)
            .await
    }

    /// Plans a rollback to revision `to` over the current revision.
    async fn plan_rollback_to(
        &self,
        namespace: &str,
        name: &str,
        to: i64,
    ) -> Result<(InstanceSummary, Arc<RevisionState>, Plan)> {
        let (summary, current) = self.current(namespace, name).await?;
        let target = self.store.revision(namespace, name, to).await?;
        if target.summary.kind == "delete" || target.summary.status != OperationStatus::Succeeded {
            return Err(Error::Invalid(format!(
                "revision {to} is a {} that {}; only successful deploys, changes and rollbacks can be restored",
                target.summary.kind,
                target.summary.status.as_str()
            )));
        }
        let target_state = self.store.revision_state(namespace, name, to).await?;
        let plan = plan::plan_rollback(summary.revision, &current, &target_state, name);
        Ok((summary, current, plan))
    }

    /// Previews a rollback to revision `to`, as a change is previewed: the diff, the dry run of
    /// what changes, drift, and the plan hash the confirming call may send back. Changes nothing.
    pub async fn rollback_preview(
        &self,
        namespace: &str,
        name: &str,
        to: i64,
        force: bool,
    ) -> Result<Preview> {
        let (summary, current, plan) = self.plan_rollback_to(namespace, name, to).await?;
        let keep = (
            Kind::Rollback,
            rollback_digest(to, force),
            position(&summary),
        );
        self.dry_run_preview(namespace, name, &current, &plan, force, false, keep)
            .await
    }

    /// Rolls back to revision `to`: re-applies its manifests (config and env included) as a new
    /// revision, pruning what it did not have. With `plan_hash` (from its preview), only exactly
    /// the previewed plan applies.
    #[allow(clippy::too_many_arguments)]
    pub async fn rollback(
        &self,
        namespace: &str,
        name: &str,
        to: i64,
        plan_hash: Option<&str>,
        actor: &str,
        force: bool,
        wait: bool,
    ) -> Result<OperationInfo> {
        let guard = self.lock(namespace, name).await?;
        if let Some(hash) = plan_hash {
            let (summary, current) = self.current(namespace, name).await?;
            let digest = rollback_digest(to, force);
            if let Some(kept) =
                self.previews
                    .take((namespace, name), &digest, hash, position(&summary))
            {
                let target = rollback_target((namespace, name), &summary, &current, to);
                return self
                    .apply_previewed(target, kept, force, actor, guard, wait)
                    .await;
            }
        }
        let (summary, current, plan) = self.plan_rollback_to(namespace, name, to).await?;
        if plan_hash.is_some_and(|h| h != plan.plan_hash) {
            return Err(Error::StalePlan);
        }
        let target = rollback_target((namespace, name), &summary, &current, to);
        self.apply_plan(target, plan, force, actor, guard, wait)
            .await
    }

    /// Applies again the newest revision when it was interrupted, failed or cancelled, as a new
    /// `resume` revision with the same state: what it had applied stays, the rest is applied,
    /// and what the current revision has that it does not is pruned, as for a rollback.
    pub async fn resume(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        actor: &str,
        wait: bool,
    ) -> Result<OperationInfo> {
        let guard = self.lock(namespace, name).await?;
        let (summary, current) = self.current(namespace, name).await?;
        let unfinished = summary.unfinished.as_ref().filter(|u| u.number == number);
        let Some(u) = unfinished.filter(|u| u.kind != "delete") else {
            return Err(Error::Invalid(format!(
                "revision {number} cannot be resumed: only the newest revision, when it was interrupted, failed or cancelled (and is not a delete), can be"
            )));
        };
        let target_state = self.store.revision_state(namespace, name, u.number).await?;
        let plan = plan::plan_rollback(summary.revision, &current, &target_state, name);
        let target = Target {
            kind: Kind::Resume,
            namespace,
            name,
            template: summary.template.clone(),
            change: json!({"resume": number, "from": summary.revision}),
            recorded: &current,
            adopt: false,
        };
        self.apply_plan(target, plan, false, actor, guard, wait)
            .await
    }

    /// Resolves the plan's objects (one discovery pass), dry-runs each that will be applied
    /// once, then records and runs the revision.
    async fn apply_plan(
        &self,
        target: Target<'_>,
        plan: Plan,
        force: bool,
        actor: &str,
        guard: OpGuard,
        wait: bool,
    ) -> Result<OperationInfo> {
        let started = std::time::Instant::now();
        let applier = self.applier()?;
        let mut plan = plan;
        let (mut objects, prune) = self
            .resolve_plan(&applier, (target.namespace, target.name), &mut plan)
            .await?;
        let instance = (target.namespace, target.name);
        if self
            .cluster_has_recorded(target.kind, instance, plan.base_revision)
            .await?
        {
            // Only what differs from the recorded revision is dry-run and applied, as its
            // preview showed; the rest is in the cluster as recorded.
            let changed = keys(&plan.changed);
            objects.retain(|r| changed.contains(&manifest::group_key(&r.key)));
        }
        phase(started, "change: resolved");
        let planned = applier.plan(&objects, target.namespace, force).await;
        phase(started, "change: dry run");
        // A permission Berth lacks is not a property of the change: refused up front (502,
        // naming the verb and the resource), with nothing recorded.
        let redactor = self.redactor(&plan.state);
        let forbidden: Vec<_> = planned
            .iter()
            .filter(|p| p.failure == Some(Failure::Forbidden))
            .map(|p| (redact::result(&redactor, &p.result), Failure::Forbidden))
            .collect();
        if !forbidden.is_empty() {
            return Err(Error::DryRunRefused(forbidden));
        }
        let mine = keys(&target.recorded.manifests);
        self.check_ownership(
            &applier,
            target.namespace,
            target.name,
            &objects,
            &planned,
            &mine,
            target.adopt,
        )
        .await?;
        let work = Work::Apply {
            objects,
            planned,
            prune,
            force,
            namespace_ready: false,
        };
        let prepared = target.prepare((plan.state, None), applier, work);
        self.launch(prepared, actor, guard, wait).await
    }
}

impl Service {
    /// Records and runs a plan its preview just resolved and dry-ran (`previewed.rs`): only the
    /// changed objects, from that dry run's findings.
    async fn apply_previewed(
        &self,
        target: Target<'_>,
        kept: Previewed,
        force: bool,
        actor: &str,
        guard: OpGuard,
        wait: bool,
    ) -> Result<OperationInfo> {
        let work = Work::Apply {
            objects: kept.objects,
            planned: kept.planned,
            prune: kept.prune,
            force,
            // Its dry run found the namespace; were it deleted since, the apply fails and says
            // so, and resuming makes it again.
            namespace_ready: true,
        };
        let state = (kept.plan.state, Some(kept.shown));
        let prepared = target.prepare(state, self.applier()?, work);
        self.launch(prepared, actor, guard, wait).await
    }

    /// Whether the cluster holds the recorded revision as it was applied: a change or a
    /// rollback planned on the newest revision (which, being current, succeeded), made since
    /// this installation labels what it applies. After a revision that failed, was cancelled or
    /// was interrupted, or on objects from before installation ids, every object is applied.
    async fn cluster_has_recorded(
        &self,
        kind: Kind,
        (namespace, name): (&str, &str),
        base_revision: i64,
    ) -> Result<bool> {
        Ok(matches!(kind, Kind::Change | Kind::Rollback)
            && self
                .store
                .is_newest_of_installation(namespace, name, base_revision)
                .await?)
    }

    /// What a preview shows, everything redacted.
    /// `shown` is the plan's manifests, redacted.
    fn preview_of(
        &self,
        recorded: &RevisionState,
        plan: &Plan,
        shown: &[serde_json::Value],
        planned: &[Planned],
    ) -> Preview {
        let after = self.redactor(&plan.state);
        let diff = manifest::unified_diff(
            &self.redacted(recorded),
            shown,
            &format!("revision-{}", plan.base_revision),
            "proposed",
        );
        let dry_run: Vec<_> = planned
            .iter()
            .map(|p| redact::result(&after, &p.result))
            .collect();
        let drift = planned
            .iter()
            .filter(|p| p.is_conflict())
            .map(|p| redact::result(&after, &p.result))
            .collect();
        Preview {
            base_revision: plan.base_revision,
            diff,
            changed: plan.changed.iter().map(manifest::key).collect(),
            prune: plan.prune.iter().map(manifest::key).collect(),
            dry_run,
            drift,
            plan_hash: plan.plan_hash.clone(),
            warnings: plan.warnings.clone(),
            notes: plan.notes.clone(),
        }
    }
}
