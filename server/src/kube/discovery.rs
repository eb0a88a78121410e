//! Which API serves a kind, asked once: `pinned_kind` per group/version/kind, with every answer
//! the apiserver gave kept for the life of the process (kinds do not move while Berth runs). A
//! kind the cluster does not serve is not cached, so installing its CRD later is seen at once.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use futures::{StreamExt, stream};
use kube::{
    Client,
    api::GroupVersionKind,
    core::ApiResource,
    discovery::{self, ApiCapabilities},
};

/// How many kinds are looked up at once.
const PARALLELISM: usize = 16;

/// A served kind: its API resource and capabilities (scope).
pub type Served = (ApiResource, ApiCapabilities);

/// Cached discovery over one client. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct Discovery {
    client: Client,
    cache: Arc<RwLock<HashMap<String, Served>>>,
}

fn key(gvk: &GroupVersionKind) -> String {
    format!("{}/{}/{}", gvk.group, gvk.version, gvk.kind)
}

impl Discovery {
    /// Discovery over `client`, with an empty cache.
    pub fn new(client: Client) -> Discovery {
        Discovery {
            client,
            cache: Arc::default(),
        }
    }

    /// The client it asks.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Resolves each kind: `Ok(None)` for a kind the cluster does not serve, an error when the
    /// apiserver could not be asked. Kinds already known cost no request.
    pub async fn resolve(
        &self,
        gvks: &[GroupVersionKind],
    ) -> Result<Vec<(GroupVersionKind, Option<Served>)>, kube::Error> {
        let known: Vec<Option<Served>> = {
            let cache = self
                .cache
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            gvks.iter().map(|g| cache.get(&key(g)).cloned()).collect()
        };
        let unknown: Vec<GroupVersionKind> = gvks
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(g, _)| g.clone())
            .collect();
        let asked: Vec<(GroupVersionKind, Result<Served, kube::Error>)> = stream::iter(unknown)
            .map(|gvk| async move {
                let r = discovery::pinned_kind(&self.client, &gvk).await;
                (gvk, r)
            })
            .buffer_unordered(PARALLELISM)
            .collect()
            .await;
        let mut found: HashMap<String, Option<Served>> = HashMap::new();
        for (gvk, r) in asked {
            match r {
                Ok(served) => {
                    self.cache
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(key(&gvk), served.clone());
                    found.insert(key(&gvk), Some(served));
                }
                Err(kube::Error::Api(ref s)) if s.code == 404 => {
                    found.insert(key(&gvk), None);
                }
                Err(kube::Error::Discovery(_)) => {
                    found.insert(key(&gvk), None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(gvks
            .iter()
            .zip(known)
            .map(|(g, k)| {
                let served = k.or_else(|| found.get(&key(g)).cloned().flatten());
                (g.clone(), served)
            })
            .collect())
    }
}
