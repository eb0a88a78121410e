//! Live objects from kube-runtime reflectors (watches, not polling). One reflector per kind, over
//! every namespace, limited to objects labelled `app.kubernetes.io/managed-by=berth` and with
//! this installation's id (another Berth's objects are never cached). Each change
//! is announced on a broadcast channel as `"<namespace>/<instance>"`, which the SSE endpoint turns
//! into fresh health for that instance's subscribers. Operator kinds (KubeBlocks `Cluster`,
//! `ObjectStorageBucket`) get a reflector once an instance uses them and the cluster serves them.

use std::{collections::HashMap, sync::Arc};

use futures::StreamExt;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind},
    runtime::{WatchStreamExt, reflector, reflector::Store, watcher},
};
use serde_json::Value;
use tokio::sync::{RwLock, broadcast};

use crate::kube::{INSTANCE_LABEL, installation_selector};

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

/// Reflector stores by kind, and the change announcements.
#[derive(Clone)]
pub struct Watches {
    client: Client,
    /// The label selector of this installation's objects.
    selector: Arc<str>,
    stores: Arc<RwLock<HashMap<String, Store<DynamicObject>>>>,
    changes: broadcast::Sender<String>,
}

impl Watches {
    /// Starts the reflectors for the core kinds. They retry with backoff while the cluster is
    /// unreachable.
    pub fn start(client: Client, installation: &str) -> Watches {
        let (changes, _) = broadcast::channel(1024);
        let w = Watches {
            client,
            selector: installation_selector(installation).into(),
            stores: Arc::new(RwLock::new(HashMap::new())),
            changes,
        };
        for (group, version, kind, plural) in CORE_KINDS {
            let gvk = GroupVersionKind::gvk(group, version, kind);
            let w2 = w.clone();
            let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
            tokio::spawn(async move { w2.run(resource).await });
        }
        w
    }

    /// Starts a reflector for an operator kind, once.
    pub async fn ensure_kind(&self, resource: ApiResource) {
        if self.stores.read().await.contains_key(&resource.kind) {
            return;
        }
        let w = self.clone();
        tokio::spawn(async move { w.run(resource).await });
    }

    async fn run(&self, resource: ApiResource) {
        let writer = reflector::store::Writer::<DynamicObject>::new(resource.clone());
        let reader = writer.as_reader();
        {
            let mut stores = self.stores.write().await;
            if stores.contains_key(&resource.kind) {
                return;
            }
            stores.insert(resource.kind.clone(), reader);
        }
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
        let config = watcher::Config::default().labels(&self.selector);
        let changes = self.changes.clone();
        reflector(writer, watcher(api, config))
            .default_backoff()
            .touched_objects()
            .for_each(|o| {
                if let Ok(o) = o {
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

    /// Whether `kind` is watched and its first list has arrived.
    pub async fn is_ready(&self, kind: &str) -> bool {
        let store = self.stores.read().await.get(kind).cloned();
        match store {
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
        self.stores.read().await.contains_key(kind)
    }

    /// The live object, as JSON, if watched and present.
    pub async fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let store = self.stores.read().await.get(kind).cloned()?;
        store
            .state()
            .into_iter()
            .find(|o| {
                o.metadata.name.as_deref() == Some(name)
                    && o.metadata.namespace.as_deref() == Some(namespace)
            })
            .map(|o| to_json(&o, kind))
    }

    /// Every watched object of `kind` in `namespace` labelled with `instance`.
    pub async fn of_instance(&self, kind: &str, namespace: &str, instance: &str) -> Vec<Value> {
        let Some(store) = self.stores.read().await.get(kind).cloned() else {
            return Vec::new();
        };
        store
            .state()
            .into_iter()
            .filter(|o| {
                o.metadata.namespace.as_deref() == Some(namespace)
                    && o.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(INSTANCE_LABEL))
                        .map(String::as_str)
                        == Some(instance)
            })
            .map(|o| to_json(&o, kind))
            .collect()
    }
}

fn to_json(o: &DynamicObject, kind: &str) -> Value {
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
