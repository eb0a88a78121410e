//! An instance as its page shows it: the stored facts, and each component's live health from
//! the watches (never from polling). Before a watch has synced, or with the cluster unreachable,
//! health is Unknown with the reason.

use std::{
    collections::BTreeSet,
    sync::{Arc, PoisonError},
    time::{Duration, Instant},
};

use app::model::{
    Component, ComponentStatus, EventSummary, Health, HealthState, InstanceSummary, InstanceView,
    KubeEvent, OperationInfo, PodBrief,
};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde_json::Value;

use super::{Error, Result, Service, redact, spec};
use crate::{
    advice, components,
    health::{self, ComponentLive, Live, watch::Watches},
    kube::{COMPONENT_KEY, str_at},
    manifest::Redactor,
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

    /// The operation running on an instance: here, or (sharing a PostgreSQL) on another replica,
    /// as its revision records it so far.
    async fn running_on(&self, namespace: &str, name: &str) -> Option<OperationInfo> {
        if let Some(op) = self.ops.running_on(namespace, name) {
            return Some(op);
        }
        if self.store.backend() != crate::store::Backend::Postgres {
            return None;
        }
        let number = self.store.running_revision(namespace, name).await.ok()??;
        self.operation(&OperationInfo::id_of(namespace, name, number))
            .await
            .ok()
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
        let mut seen = self
            .components_status(namespace, name, &state.manifests, &comps)
            .await;
        // One redactor for the whole view: the specs, the hints' evidence, the Events.
        let redactor = self.redactor(&state);
        let shown = redact::redacted_by(&redactor, &state);
        let template = self.templates.get(&summary.template);
        let (rules, groups) = template
            .as_ref()
            .map(|t| (t.hints.as_slice(), t.scale.as_slice()))
            .unwrap_or_default();
        for (status, _, _) in &mut seen {
            status.spec = spec::of(&shown, &status.component);
            status.spec.scale = advice::scale::advice(groups, &status.component.id);
        }
        if self.watches.is_some() && !seen.is_empty() {
            self.add_hints(namespace, &state.manifests, rules, &redactor, &mut seen)
                .await;
        }
        if let Some(events) = &self.events {
            events.need(namespace);
            let kept = events.of_instance(namespace, name);
            for (status, _, _) in &mut seen {
                status.events = summarize(&kept, &status.component.id, &redactor);
            }
        }
        let components: Vec<ComponentStatus> = seen.into_iter().map(|(s, _, _)| s).collect();
        let health = health::worst(components.iter().map(|c| {
            let mut h = c.health.clone();
            h.reason = format!("{}: {}", c.component.id, h.reason);
            h
        }));
        Ok(InstanceView {
            running: self.running_on(namespace, name).await,
            summary,
            health,
            components,
        })
    }

    /// The overall health of an instance whose objects are `manifests`, from the watch caches
    /// alone: what `get` shows, without the specs, hints and Events.
    pub(super) async fn health_of(
        &self,
        namespace: &str,
        name: &str,
        manifests: &[Value],
    ) -> HealthState {
        let comps = components::derive(manifests, name);
        let seen = self
            .components_status(namespace, name, manifests, &comps)
            .await;
        health::worst(seen.into_iter().map(|(s, _, _)| s.health)).state
    }

    /// Evaluates the template's and Berth's hint rules over what the caches hold, and puts each
    /// component's hints (their evidence redacted) on its status.
    async fn add_hints(
        &self,
        namespace: &str,
        manifests: &[Value],
        rules: &[advice::Rule],
        redactor: &Redactor,
        seen: &mut [(ComponentStatus, Vec<Value>, Vec<Value>)],
    ) {
        let missing = self.missing_tls_secrets(namespace, manifests).await;
        let facts = advice::Facts {
            components: seen
                .iter()
                .map(|(status, pods, live)| advice::Seen {
                    status,
                    pods: pods.iter().collect(),
                    live: live.iter().collect(),
                })
                .collect(),
            manifests,
            missing_secrets: &missing,
        };
        let hints = advice::evaluate(rules, &facts);
        for ((status, _, _), hints) in seen.iter_mut().zip(hints) {
            status.hints = hints
                .into_iter()
                .map(|mut h| {
                    h.evidence = h
                        .evidence
                        .iter()
                        .map(|e| redact::message(redactor, e))
                        .collect();
                    h
                })
                .collect();
        }
    }

    /// Each component's status, with its pods and its live objects (the claims of its
    /// StatefulSets included), which the hints read.
    async fn components_status(
        &self,
        namespace: &str,
        name: &str,
        manifests: &[Value],
        comps: &[Component],
    ) -> Vec<(ComponentStatus, Vec<Value>, Vec<Value>)> {
        let Some(watches) = &self.watches else {
            return unknown(comps, "no cluster configured");
        };
        if let Err(since) = self.cluster.reachability().await {
            return unknown(comps, &format!("cluster unreachable since {since}"));
        }
        self.watch_kinds(watches, manifests, comps).await;
        let pods = watches.of_instance("Pod", namespace, name).await;
        let claims = watches
            .of_instance("PersistentVolumeClaim", namespace, name)
            .await;
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
            let mut live: Vec<Value> = objects
                .iter()
                .filter_map(|(_, l)| match l {
                    Live::Present(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            live.extend(
                claims
                    .iter()
                    .filter(|p| {
                        str_at(p, &pod_label) == c.id
                            && !c.objects.iter().any(|r| {
                                r.kind == "PersistentVolumeClaim"
                                    && p["metadata"]["name"] == r.name.as_str()
                            })
                    })
                    .cloned(),
            );
            let mut status = health::component_status(&ComponentLive {
                component: c,
                objects,
                pods: own_pods.clone(),
            });
            status.pods = own_pods.iter().map(pod_brief).collect();
            out.push((status, own_pods, live));
        }
        out
    }

    /// The TLS Secrets that the instance's Ingresses name and that do not exist. What is known
    /// is kept for a few seconds ([`TLS_SEEN_FOR`]): views are read on every watch change.
    async fn missing_tls_secrets(&self, namespace: &str, manifests: &[Value]) -> BTreeSet<String> {
        let names: BTreeSet<String> = manifests
            .iter()
            .filter(|o| o["kind"] == "Ingress")
            .flat_map(|i| {
                i.pointer("/spec/tls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .map(|t| str_at(t, "/secretName").to_string())
            .filter(|n| !n.is_empty())
            .collect();
        let Ok(client) = self.cluster.client() else {
            return BTreeSet::new();
        };
        if names.is_empty() || self.cluster.reachability().await.is_err() {
            return BTreeSet::new();
        }
        let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let mut missing = BTreeSet::new();
        for n in names {
            let key = format!("{namespace}/{n}");
            let known = self
                .tls_seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                .filter(|(at, _)| at.elapsed() < TLS_SEEN_FOR)
                .map(|(_, exists)| *exists);
            let exists = match known {
                Some(e) => e,
                // A view never waits on it for long (a stalled apiserver holds a connection
                // open): unknown is no hint.
                None => match tokio::time::timeout(TLS_LOOKUP, api.get_metadata_opt(&n)).await {
                    Ok(Ok(found)) => {
                        let e = found.is_some();
                        let mut seen = self.tls_seen.lock().unwrap_or_else(PoisonError::into_inner);
                        // Only what is still fresh is kept (deleted namespaces drop out).
                        seen.retain(|_, (at, _)| at.elapsed() < TLS_SEEN_FOR);
                        seen.insert(key, (Instant::now(), e));
                        e
                    }
                    // Unknown (no permission, unreachable): no hint rather than a wrong one.
                    Ok(Err(_)) | Err(_) => true,
                },
            };
            if !exists {
                missing.insert(n);
            }
        }
        missing
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

/// How long whether a TLS Secret exists is remembered.
const TLS_SEEN_FOR: Duration = Duration::from_secs(5);
/// The longest a view waits to learn whether a TLS Secret exists.
const TLS_LOOKUP: Duration = Duration::from_secs(2);

/// Cards whose live state cannot be known (no cluster, or it is unreachable).
fn unknown(comps: &[Component], why: &str) -> Vec<(ComponentStatus, Vec<Value>, Vec<Value>)> {
    comps
        .iter()
        .map(|c| {
            let mut status = health::component_status(&ComponentLive {
                component: c,
                objects: Vec::new(),
                pods: Vec::new(),
            });
            status.health = Health::new(HealthState::Unknown, why);
            (status, Vec::new(), Vec::new())
        })
        .collect()
}

/// A pod as the log viewer offers it.
fn pod_brief(p: &Value) -> PodBrief {
    let names = |list: &str| -> Vec<String> {
        p.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| str_at(c, "/name").to_string())
            .collect()
    };
    let mut containers = names("initContainers");
    containers.extend(names("containers"));
    PodBrief {
        name: str_at(p, "/metadata/name").to_string(),
        phase: str_at(p, "/status/phase").to_string(),
        ready: p
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True"),
        restarts: p
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| c["restartCount"].as_u64().unwrap_or(0) as u32)
            .sum(),
        containers,
    }
}

/// A component's kept Events in brief (the latest warning redacted).
fn summarize(events: &[KubeEvent], component: &str, redactor: &Redactor) -> EventSummary {
    let mine: Vec<&KubeEvent> = events.iter().filter(|e| e.component == component).collect();
    let warnings: Vec<&&KubeEvent> = mine.iter().filter(|e| e.is_warning()).collect();
    EventSummary {
        total: mine.len() as u32,
        warnings: warnings.len() as u32,
        // Newest first, so the first warning is the latest.
        latest_warning: warnings
            .first()
            .map(|e| redact::message(redactor, &format!("{}: {}", e.reason, e.message))),
    }
}
