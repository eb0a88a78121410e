//! Kubernetes Events about Berth's objects. One watch per namespace that holds an instance being
//! looked at (started by [`Events::need`], stopped by a sweep every half minute once no instance
//! there was looked at for [`super::watch::IDLE`]). An Event is kept only when the object it is about is one of this
//! installation's (a Pod, Deployment, StatefulSet, Job, claim or Ingress in the health caches, or
//! a ReplicaSet of such a Deployment), at most [`PER_NAMESPACE`] per namespace and for
//! [`KEEP`]. Each kept Event is published to the instance's subscribers and announced as a
//! change, so that cards' warning counts follow.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use app::model::KubeEvent;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, watcher},
};
use tokio::{sync::broadcast, task::AbortHandle};

use super::watch::{IDLE, Watches};
use crate::kube::instance_key;

/// How long an Event is kept after it last happened.
pub const KEEP: Duration = Duration::from_secs(3600);
/// The most Events kept per namespace (the oldest go first).
pub const PER_NAMESPACE: usize = 300;

/// One kept Event, and the instance it is about.
struct Kept {
    instance: String,
    event: KubeEvent,
    seen: Instant,
}

/// One namespace's watch and its Events by uid.
struct Namespace {
    task: AbortHandle,
    needed: Instant,
    events: HashMap<String, Kept>,
}

/// The Event watches, what they keep, and the stream of new Events.
#[derive(Clone)]
pub struct Events {
    client: Client,
    watches: Watches,
    namespaces: Arc<Mutex<HashMap<String, Namespace>>>,
    published: broadcast::Sender<(String, KubeEvent)>,
}

impl Events {
    /// Event watches that resolve objects through `watches`' caches.
    pub fn new(client: Client, watches: Watches) -> Events {
        let (published, _) = broadcast::channel(256);
        let events = Events {
            client,
            watches,
            namespaces: Arc::default(),
            published,
        };
        let sweeper = events.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(IDLE / 2);
            loop {
                every.tick().await;
                sweeper.sweep("");
            }
        });
        events
    }

    /// Stops the watches of namespaces nobody looked at for [`IDLE`] (but `keep`'s).
    fn sweep(&self, keep: &str) {
        self.lock().retain(|ns, n| {
            let kept = ns == keep || n.needed.elapsed() < IDLE;
            if !kept {
                tracing::debug!(namespace = %ns, "nobody looks at this namespace: its Events watch stops");
                n.task.abort();
            }
            kept
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Namespace>> {
        self.namespaces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes sure `namespace` is watched, marks it needed now, and stops the watches of
    /// namespaces nobody looked at for [`IDLE`].
    pub fn need(&self, namespace: &str) {
        self.sweep(namespace);
        let mut namespaces = self.lock();
        if let Some(n) = namespaces.get_mut(namespace) {
            n.needed = Instant::now();
            return;
        }
        let task = tokio::spawn(self.clone().run(namespace.to_string())).abort_handle();
        namespaces.insert(
            namespace.to_string(),
            Namespace {
                task,
                needed: Instant::now(),
                events: HashMap::new(),
            },
        );
    }

    /// New Events, each with its instance's key (`"<namespace>/<name>"`).
    pub fn subscribe(&self) -> broadcast::Receiver<(String, KubeEvent)> {
        self.published.subscribe()
    }

    /// The kept Events of one instance, newest first.
    pub fn of_instance(&self, namespace: &str, name: &str) -> Vec<KubeEvent> {
        let key = instance_key(namespace, name);
        let namespaces = self.lock();
        let mut out: Vec<KubeEvent> = namespaces
            .get(namespace)
            .into_iter()
            .flat_map(|n| n.events.values())
            .filter(|k| k.instance == key && k.seen.elapsed() < KEEP)
            .map(|k| k.event.clone())
            .collect();
        out.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
        out
    }

    async fn run(self, namespace: String) {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .touched_objects();
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            let Ok(event) = item else { continue };
            if let Some((instance, kept)) = self.resolve(&namespace, &event).await {
                self.keep(&namespace, &event, instance, kept);
            }
        }
    }

    /// The instance and the card form of an Event about one of Berth's objects.
    async fn resolve(&self, namespace: &str, e: &Event) -> Option<(String, KubeEvent)> {
        let involved = &e.involved_object;
        let kind = involved.kind.as_deref()?;
        let name = involved.name.as_deref()?;
        let (instance, component) = match kind {
            // A Deployment's ReplicaSet is `<deployment>-<hash>`.
            "ReplicaSet" => {
                let (deployment, _) = name.rsplit_once('-')?;
                self.watches
                    .labels_of("Deployment", namespace, deployment)
                    .await?
            }
            _ => self.watches.labels_of(kind, namespace, name).await?,
        };
        let last_seen = e
            .last_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
            .or_else(|| {
                e.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
            })
            .unwrap_or_default();
        Some((
            instance_key(namespace, &instance),
            KubeEvent {
                kind: e.type_.clone().unwrap_or_else(|| "Normal".into()),
                reason: e.reason.clone().unwrap_or_default(),
                message: e.message.clone().unwrap_or_default(),
                object: format!("{kind}/{name}"),
                component,
                count: e.count.unwrap_or(1).max(1) as u32,
                last_seen,
            },
        ))
    }

    fn keep(&self, namespace: &str, e: &Event, instance: String, event: KubeEvent) {
        let uid = e
            .metadata
            .uid
            .clone()
            .unwrap_or_else(|| event.object.clone());
        {
            let mut namespaces = self.lock();
            let Some(n) = namespaces.get_mut(namespace) else {
                return;
            };
            if n.events.get(&uid).is_some_and(|k| k.event == event) {
                return;
            }
            n.events.retain(|_, k| k.seen.elapsed() < KEEP);
            if n.events.len() >= PER_NAMESPACE
                && let Some(oldest) = n
                    .events
                    .iter()
                    .min_by_key(|(_, k)| k.seen)
                    .map(|(uid, _)| uid.clone())
            {
                n.events.remove(&oldest);
            }
            n.events.insert(
                uid,
                Kept {
                    instance: instance.clone(),
                    event: event.clone(),
                    seen: Instant::now(),
                },
            );
        }
        let _ = self.published.send((instance.clone(), event));
        self.watches.announce(instance);
    }
}
