//! Deploying a template as a new instance. Everything is checked before anything is recorded:
//! the render, the kinds the cluster serves, a server-side dry run of every object, and that no
//! object of the same name belongs to someone else. A refused create leaves no instance, no
//! revision and no namespace behind.

use app::{
    model::{CreatePlan, CreateRequest, ObjectAction, ObjectResult},
    service::Created,
};

use super::{
    Error, Result, Service, phase, redact,
    render::RenderedInstance,
    run::{Kind, Prepared, Work},
};
use crate::store::RevisionState;

impl Service {
    /// Creates an instance: render, preflight, dry run, then record and apply in the background
    /// (or, with `dry_run`, only plan). `wait` answers once the apply is done.
    pub async fn create(&self, req: CreateRequest, actor: &str, wait: bool) -> Result<Created> {
        let started = std::time::Instant::now();
        let namespace = req
            .namespace
            .clone()
            .unwrap_or_else(|| self.platform.default_namespace.clone());
        // A create takes its namespace's turn first (see `NamespaceTurn`). Taken before the
        // namespace is looked up, it makes sure that no create which made the namespace removes
        // it between this lookup and the end of this create's checks.
        let turn = match req.dry_run {
            true => None,
            false => Some(self.namespace_turn(&namespace).await?),
        };
        // The namespace is looked up while the template renders: a lookup changes nothing, and
        // a render that fails still answers first.
        let applier = self.applier();
        let lookup = async {
            match &applier {
                Ok(applier) => applier.namespace_exists(&namespace).await.map(Some),
                Err(_) => Ok(None),
            }
        };
        let render = self.render_new(
            &req.template,
            &namespace,
            req.name.as_deref(),
            &req.inputs,
            req.strict,
        );
        let (rendered, existed) = tokio::join!(render, lookup);
        phase(started, "create: rendered, namespace looked up");
        let RenderedInstance {
            name,
            objects,
            components,
            defaults,
            warnings,
        } = rendered?;
        let applier = applier?;
        // (Unknown only without an applier, which has answered above.)
        let existed = existed?.unwrap_or_default();
        let exists = || async {
            self.store
                .instance(&namespace, &name)
                .await
                .is_ok_and(|i| i.deleted_at.is_none())
        };
        if !req.dry_run && exists().await {
            return Err(Error::Exists(format!("{namespace}/{name}")));
        }
        phase(started, "create: no instance of that name");
        let resolved = applier.resolve(&objects, &components).await?;
        let state = RevisionState {
            inputs: req.inputs.clone(),
            defaults,
            edits: Vec::new(),
            manifests: objects,
        };
        let redactor = self.redactor(&state);
        if req.dry_run {
            let dry_run = if existed {
                applier.dry_run(&resolved, &namespace, req.force).await
            } else {
                let planned = |r: &crate::apply::Resolved| ObjectResult {
                    object: r.key.clone(),
                    action: ObjectAction::Planned,
                    message: Some(format!("namespace {namespace} will be created first")),
                };
                resolved.iter().map(planned).collect()
            };
            return Ok(Created::Planned(CreatePlan {
                platform: self.platform_values(&namespace),
                namespace,
                name,
                manifests: self.redacted(&state),
                components,
                dry_run: dry_run
                    .iter()
                    .map(|r| redact::result(&redactor, r))
                    .collect(),
                warnings,
            }));
        }
        let guard = self.lock(&namespace, &name).await?;
        phase(started, "create: rendered and resolved");
        let created_namespace = !existed && applier.make_namespace(&namespace).await?;
        // Only a create that made the namespace may remove it: others need not wait.
        let namespace_guard = turn.filter(|_| created_namespace);
        let granted = applier.grant_namespace(&namespace).await?;
        phase(started, "create: namespace checked");
        // What history will show is redacted while the apiserver dry-runs.
        let (planned, shown) =
            tokio::join!(applier.plan(&resolved, &namespace, req.force), async {
                redact::redacted_by(&redactor, &state)
            });
        phase(started, "create: dry run");
        let refused: Vec<_> = planned
            .iter()
            .filter_map(|p| {
                let failure = p.failure?;
                Some((redact::result(&redactor, &p.result), failure))
            })
            .collect();
        let checked = if refused.is_empty() {
            let mine = Default::default();
            self.check_ownership(
                &applier, &namespace, &name, &resolved, &planned, &mine, req.adopt,
            )
            .await
        } else {
            Err(Error::DryRunRefused(refused))
        };
        phase(started, "create: ownership checked");
        if let Err(e) = checked {
            if created_namespace && let Err(e) = applier.remove_namespace(&namespace).await {
                tracing::warn!(%namespace, error = %e, "cannot remove the namespace of a refused create");
            } else if granted && let Err(e) = applier.revoke_namespace(&namespace).await {
                tracing::warn!(%namespace, error = %e, "cannot remove Berth's binding after a refused create");
            }
            return Err(e);
        }
        drop(namespace_guard);
        let prepared = Prepared {
            kind: Kind::Deploy,
            namespace,
            name,
            template: req.template,
            change: None,
            state: std::sync::Arc::new(state),
            shown: Some(shown),
            applier,
            work: Work::Apply {
                objects: resolved,
                planned,
                prune: Vec::new(),
                force: req.force,
                namespace_ready: true,
            },
        };
        Ok(Created::Started(
            self.launch(prepared, actor, guard, wait).await?,
        ))
    }
}
