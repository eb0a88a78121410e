//! Deleting: an instance's objects (only those it owns), the claims its StatefulSets left, and a
//! Job being replaced.

use std::time::Duration;

use app::model::{ObjectAction, ObjectRef, ObjectResult};
use futures::{StreamExt, stream};
use kube::{
    Api,
    api::{DeleteParams, DynamicObject, PropagationPolicy},
};

use super::{Applier, Owner, PARALLELISM, Resolved, failed};
use crate::kube::{INSTANCE_LABEL, installation_selector};

impl Applier {
    /// Deletes `name` with `dp` and waits (up to `timeout`) until it is gone.
    pub(super) async fn delete_and_wait(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        dp: &DeleteParams,
        timeout: Duration,
    ) -> Result<(), kube::Error> {
        match api.delete(name, dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while api.get_opt(name).await?.is_some() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// Deletes the objects `owner` (`<namespace>/<instance>`) owns, latest tier first (ingress
    /// before workloads before databases), and reports each with `action`. Objects already gone
    /// count as deleted; an object someone else owns is left alone and reported so.
    pub async fn delete(
        &self,
        objects: &[Resolved],
        namespace: &str,
        owner: &str,
        action: ObjectAction,
    ) -> Vec<ObjectResult> {
        let mut sorted: Vec<&Resolved> = objects.iter().collect();
        sorted.sort_by_key(|r| std::cmp::Reverse(r.tier));
        let dp = background();
        let futs: Vec<_> = sorted
            .into_iter()
            .map(|r| {
                let dp = dp.clone();
                async move {
                    let api = self.api(r, namespace);
                    let done = |message: Option<&str>| ObjectResult {
                        object: r.key.clone(),
                        action,
                        message: message.map(str::to_string),
                    };
                    match api.get_opt(&r.key.name).await {
                        Ok(None) => return done(Some("already gone")),
                        Ok(Some(live)) => {
                            match Owner::of(&live.metadata, namespace, self.installation()) {
                                Owner::Instance(o) if o == owner => {}
                                other => {
                                    return ObjectResult {
                                        object: r.key.clone(),
                                        action: ObjectAction::Unchanged,
                                        message: Some(format!("left alone: {}", other.describe())),
                                    };
                                }
                            }
                        }
                        Err(e) => return failed(&r.key, &e),
                    }
                    match api.delete(&r.key.name, &dp).await {
                        Ok(_) => done(None),
                        Err(kube::Error::Api(s)) if s.code == 404 => done(Some("already gone")),
                        Err(e) => failed(&r.key, &e),
                    }
                }
            })
            .collect();
        stream::iter(futs).buffered(PARALLELISM).collect().await
    }

    /// Deletes the volume claims a StatefulSet's claim templates created for `instance` (the
    /// StatefulSet itself leaves them behind). Returns what it deleted.
    pub async fn delete_claims(
        &self,
        namespace: &str,
        instance: &str,
    ) -> Result<Vec<ObjectResult>, kube::Error> {
        let api: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
            Api::namespaced(self.client().clone(), namespace);
        let selector = format!(
            "{INSTANCE_LABEL}={instance},{}",
            installation_selector(self.installation())
        );
        let claims = api
            .list(&kube::api::ListParams::default().labels(&selector))
            .await?;
        let mut out = Vec::new();
        for c in claims.items {
            let name = c.metadata.name.unwrap_or_default();
            let key = ObjectRef {
                api_version: "v1".into(),
                kind: "PersistentVolumeClaim".into(),
                name: name.clone(),
            };
            out.push(match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => ObjectResult {
                    object: key,
                    action: ObjectAction::Deleted,
                    message: None,
                },
                Err(kube::Error::Api(s)) if s.code == 404 => ObjectResult {
                    object: key,
                    action: ObjectAction::Deleted,
                    message: Some("already gone".into()),
                },
                Err(e) => failed(&key, &e),
            });
        }
        Ok(out)
    }
}

/// Dependents are deleted by the garbage collector after their owner.
pub(super) fn background() -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    }
}
