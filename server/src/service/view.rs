//! An instance as its page shows it: the stored facts, and each component's live health from
//! the watches (never from polling). Before a watch has synced, or with the cluster unreachable,
//! health is Unknown with the reason.

use std::sync::Arc;

use app::model::{Component, ComponentStatus, Health, HealthState, InstanceSummary, InstanceView};
use serde_json::Value;

use super::{Error, Result, Service, spec};
use crate::{
    components,
    health::{self, ComponentLive, Live, watch::Watches},
    kube::{COMPONENT_KEY, str_at},
    store::RevisionState,
};

impl Service {
    /// Every instance that is not deleted, newest first.
    pub async fn instances(&self) -> Result<Vec<InstanceSummary>> {
        Ok(self.store.instances(false).await?)
    }

    /// The current revision's facts and full state (from the sealed history).
    pub(super) async fn current(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(InstanceSummary, Arc<RevisionState>)> {
        let summary = self.store.instance(namespace, name).await?;
        if summary.deleted_at.is_some() {
            return Err(Error::NotFound(format!(
                "instance {namespace}/{name} was deleted (its history is still readable)"
            )));
        }
        let number = summary.revision.max(1);
        let state = self.store.revision_state(namespace, name, number).await?;
        Ok((summary, state))
    }

    /// An instance with its components' live health.
    pub async fn get(&self, namespace: &str, name: &str) -> Result<InstanceView> {
        let summary = self.store.instance(namespace, name).await?;
        if summary.deleted_at.is_some() {
            return Ok(InstanceView {
                summary,
                health: Health::new(HealthState::Missing, "deleted"),
                components: Vec::new(),
                running: None,
            });
        }
        let (summary, state) = self.current(namespace, name).await?;
        let comps = components::derive(&state.manifests, name);
        let mut components = self
            .components_status(namespace, name, &state.manifests, &comps)
            .await;
        let shown = self.redacted(&state);
        for status in &mut components {
            status.spec = spec::of(&shown, &status.component);
        }
        let health = health::worst(components.iter().map(|c| {
            let mut h = c.health.clone();
            h.reason = format!("{}: {}", c.component.id, h.reason);
            h
        }));
        Ok(InstanceView {
            running: self.ops.running_on(namespace, name),
            summary,
            health,
            components,
        })
    }

    async fn components_status(
        &self,
        namespace: &str,
        name: &str,
        manifests: &[Value],
        comps: &[Component],
    ) -> Vec<ComponentStatus> {
        let Some(watches) = &self.watches else {
            return unknown(comps, "no cluster configured");
        };
        if let Err(since) = self.cluster.reachability().await {
            return unknown(comps, &format!("cluster unreachable since {since}"));
        }
        self.watch_kinds(watches, manifests, comps).await;
        let pods = watches.of_instance("Pod", namespace, name).await;
        let pod_label = format!("/metadata/labels/{}", COMPONENT_KEY.replace('/', "~1"));
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
                .filter(|p| str_at(p, &pod_label) == c.id)
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

    /// The kinds of the instance's objects are watched (the core kinds at once; operator kinds,
    /// KubeBlocks `Cluster` and `ObjectStorageBucket`, once discovery serves them), and marked
    /// as needed so that the sweep keeps them.
    async fn watch_kinds(&self, watches: &Watches, manifests: &[Value], comps: &[Component]) {
        let kinds: Vec<&str> = manifests.iter().map(|o| str_at(o, "/kind")).collect();
        watches.need_kinds(&kinds).await;
        for o in manifests {
            let kind = str_at(o, "/kind");
            if matches!(kind, "Cluster" | "ObjectStorageBucket")
                && !watches.watches(kind).await
                && let Ok(applier) = self.applier()
                && let Ok(resolved) = applier.resolve(std::slice::from_ref(o), comps).await
                && let Some(r) = resolved.first()
            {
                watches.need(vec![r.api_resource()]).await;
            }
        }
    }

    /// Changes of watched objects, as `"<namespace>/<instance>"`.
    pub fn subscribe_changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.watches.as_ref().map(Watches::subscribe)
    }
}

/// Cards whose live state cannot be known (no cluster, or it is unreachable).
fn unknown(comps: &[Component], why: &str) -> Vec<ComponentStatus> {
    comps
        .iter()
        .map(|c| {
            let mut status = health::component_status(&ComponentLive {
                component: c,
                objects: Vec::new(),
                pods: Vec::new(),
            });
            status.health = Health::new(HealthState::Unknown, why);
            status
        })
        .collect()
}
