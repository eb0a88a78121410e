//! Live objects from kube-runtime reflectors (watches, not polling). One reflector per kind, over
//! every namespace, limited to objects labelled `app.kubernetes.io/managed-by=berth` and with
//! this installation's id (another Berth's objects are never cached). Each change
//! is announced on a broadcast channel as `"<namespace>/<instance>"`, which the SSE endpoint turns
//! into fresh health for that instance's subscribers. Operator kinds (KubeBlocks `Cluster`,
//! `ObjectStorageBucket`) get a reflector once an instance uses them and the cluster serves them.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
    time::{Duration, Instant},
};

use futures::StreamExt;
use kube::{
    Api, Client,
    api::{ApiResource, GroupVersionKind},
    runtime::{WatchStreamExt, reflector, reflector::Store, watcher},
};
use serde_json::Value;
use tokio::{
    sync::{RwLock, broadcast},
    task::AbortHandle,
};

use super::trim::Cached;
use crate::kube::{COMPONENT_KEY, INSTANCE_LABEL, installation_selector};

/// Kinds always watched: (group, version, kind, plural).
const CORE_KINDS: &[(&str, &str, &str, &str)] = &[
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
    ("batch", "v1", "Job", "jobs"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("", "v1", "Pod", "pods"),
    ("networking.k8s.io", "v1", "Ingress", "ingresses"),
];

/// How long a reflector whose store stays empty lives after it was last needed.
pub const IDLE: Duration = Duration::from_secs(60);

/// One kind's reflector: its store, its task, and when an instance last needed it.
struct Reflector {
    store: Store<Cached>,
    /// The resource its store's keys are made of.
    resource: ApiResource,
    task: AbortHandle,
    needed: std::sync::Mutex<Instant>,
}

impl Reflector {
    fn mark_needed(&self) {
        *self.needed.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self, idle: Duration) -> bool {
        let needed = *self.needed.lock().unwrap_or_else(PoisonError::into_inner);
        needed.elapsed() >= idle && self.store.state().is_empty()
    }
}

/// Reflector stores by kind, and the change announcements.
#[derive(Clone)]
pub struct Watches {
    client: Client,
    /// The label selector of this installation's objects.
    selector: Arc<str>,
    reflectors: Arc<RwLock<HashMap<String, Reflector>>>,
    changes: broadcast::Sender<String>,
}

impl Watches {
    /// Starts the reflectors for the core kinds (an instance about to be viewed after a restart
    /// finds them synced), and the sweep that stops the reflectors no instance uses for
    /// [`IDLE`]. They retry with backoff while the cluster is unreachable.
    pub fn start(client: Client, installation: &str) -> Watches {
        Watches::start_with_idle(client, installation, IDLE)
    }

    /// [`Watches::start`], stopping unused reflectors after `idle` (tests use seconds).
    pub fn start_with_idle(client: Client, installation: &str, idle: Duration) -> Watches {
        let (changes, _) = broadcast::channel(1024);
        let w = Watches {
            client,
            selector: installation_selector(installation).into(),
            reflectors: Arc::default(),
            changes,
        };
        let w2 = w.clone();
        tokio::spawn(async move {
            let core = CORE_KINDS
                .iter()
                .filter_map(|(_, _, k, _)| core_resource(k));
            w2.need(core.collect()).await;
            let mut every = tokio::time::interval(idle / 2);
            loop {
                every.tick().await;
                w2.sweep(idle).await;
            }
        });
        w
    }

    /// Makes sure each kind has a reflector, and marks it needed now.
    pub async fn need(&self, resources: Vec<ApiResource>) {
        let mut missing = Vec::new();
        {
            let reflectors = self.reflectors.read().await;
            for resource in resources {
                match reflectors.get(&resource.kind) {
                    Some(r) => r.mark_needed(),
                    None => missing.push(resource),
                }
            }
        }
        if missing.is_empty() {
            return;
        }
        let mut reflectors = self.reflectors.write().await;
        for resource in missing {
            if reflectors.contains_key(&resource.kind) {
                continue;
            }
            let writer = reflector::store::Writer::<Cached>::new(resource.clone());
            let store = writer.as_reader();
            let task = tokio::spawn(self.clone().run(resource.clone(), writer)).abort_handle();
            reflectors.insert(
                resource.kind.clone(),
                Reflector {
                    store,
                    resource: resource.clone(),
                    task,
                    needed: std::sync::Mutex::new(Instant::now()),
                },
            );
        }
    }

    /// Makes sure the core kinds among `kinds` are watched, with pods and claims, which the
    /// workloads make. Each kind counts once, however many objects of it are named.
    pub async fn need_kinds(&self, kinds: &[&str]) {
        let distinct: std::collections::BTreeSet<&str> = kinds
            .iter()
            .copied()
            .chain(["Pod", "PersistentVolumeClaim"])
            .collect();
        let resources = distinct.into_iter().filter_map(core_resource);
        self.need(resources.collect()).await;
    }

    /// Stops the reflectors that hold nothing and that no instance needed for `idle`.
    async fn sweep(&self, idle: Duration) {
        let mut reflectors = self.reflectors.write().await;
        reflectors.retain(|kind, r| {
            if r.idle_for(idle) {
                tracing::debug!(kind, "no instance uses this kind: its watch stops");
                r.task.abort();
                return false;
            }
            true
        });
    }

    /// The kinds watched now.
    pub async fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.reflectors.read().await.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    async fn run(self, resource: ApiResource, writer: reflector::store::Writer<Cached>) {
        // Each object is trimmed as it is read (`Cached`).
        let api: Api<Cached> = Api::all_with(self.client.clone(), &resource);
        let config = watcher::Config::default().labels(&self.selector);
        let changes = self.changes.clone();
        reflector(writer, watcher(api, config))
            .default_backoff()
            .touched_objects()
            .for_each(|o| {
                if let Ok(Cached(o)) = o {
                    let ns = o.metadata.namespace.clone().unwrap_or_default();
                    if let Some(instance) = o
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(INSTANCE_LABEL))
                    {
                        let _ = changes.send(format!("{ns}/{instance}"));
                    }
                }
                futures::future::ready(())
            })
            .await;
    }

    /// Announcements of changed instances.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    /// Announces that something about the instance `"<namespace>/<instance>"` changed that no
    /// reflector saw (its Events).
    pub fn announce(&self, key: String) {
        let _ = self.changes.send(key);
    }

    /// The instance and component labels of a watched object, if it is one of Berth's.
    pub async fn labels_of(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<(String, String)> {
        let o = self.find(kind, namespace, name).await?;
        let labels = o.0.metadata.labels.as_ref()?;
        Some((
            labels.get(INSTANCE_LABEL)?.clone(),
            labels.get(COMPONENT_KEY).cloned().unwrap_or_default(),
        ))
    }

    /// The store of `kind`'s reflector, if it has one.
    async fn store(&self, kind: &str) -> Option<Store<Cached>> {
        self.reflectors
            .read()
            .await
            .get(kind)
            .map(|r| r.store.clone())
    }

    /// One cached object of `kind`, looked up by its key.
    async fn find(&self, kind: &str, namespace: &str, name: &str) -> Option<Arc<Cached>> {
        let reflectors = self.reflectors.read().await;
        let r = reflectors.get(kind)?;
        let key = reflector::ObjectRef::new_with(name, r.resource.clone()).within(namespace);
        r.store.get(&key)
    }

    /// Whether `kind` is watched and its first list has arrived.
    pub async fn is_ready(&self, kind: &str) -> bool {
        match self.store(kind).await {
            Some(s) => {
                tokio::time::timeout(std::time::Duration::from_millis(1), s.wait_until_ready())
                    .await
                    .is_ok_and(|r| r.is_ok())
            }
            None => false,
        }
    }

    /// Whether `kind` has a reflector at all.
    pub async fn watches(&self, kind: &str) -> bool {
        self.reflectors.read().await.contains_key(kind)
    }

    /// The live object, as JSON, if watched and present.
    pub async fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        self.find(kind, namespace, name)
            .await
            .map(|o| to_json(&o.0, kind))
    }

    /// Every watched object of `kind` in `namespace` labelled with `instance`.
    pub async fn of_instance(&self, kind: &str, namespace: &str, instance: &str) -> Vec<Value> {
        let Some(store) = self.store(kind).await else {
            return Vec::new();
        };
        store
            .state()
            .into_iter()
            .filter(|o| {
                o.0.metadata.namespace.as_deref() == Some(namespace)
                    && o.0
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(INSTANCE_LABEL))
                        .map(String::as_str)
                        == Some(instance)
            })
            .map(|o| to_json(&o.0, kind))
            .collect()
    }
}

/// The API resource of a core kind, if `kind` is one.
fn core_resource(kind: &str) -> Option<ApiResource> {
    CORE_KINDS
        .iter()
        .find(|(_, _, k, _)| *k == kind)
        .map(|(group, version, kind, plural)| {
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
        })
}

fn to_json(o: &kube::api::DynamicObject, kind: &str) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        // Watch events of a typed list carry no TypeMeta on each item: restore the kind.
        m.entry("kind")
            .or_insert_with(|| Value::String(kind.to_string()));
        if m.get("kind").is_some_and(Value::is_null) {
            m.insert("kind".into(), Value::String(kind.to_string()));
        }
    }
    v
}
