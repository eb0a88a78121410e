//! Who owns an object in the cluster, read from its ownership annotation (or, for objects Berth
//! labelled before it wrote one, from its labels).

use app::model::ObjectRef;
use futures::{StreamExt, stream};

use super::{Applier, PARALLELISM, Resolved};
use crate::kube::{INSTANCE_LABEL, MANAGED_BY, OWNER_ANNOTATION, failure, instance_key};

/// Who owns an object in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// It does not exist.
    Absent,
    /// A Berth instance, as `<namespace>/<name>`.
    Instance(String),
    /// It exists and Berth did not create it.
    NotBerth,
    /// It could not be read.
    Unknown(String),
}

impl Owner {
    /// The owner recorded on a live object: the ownership annotation, else (objects Berth
    /// labelled before it wrote the annotation) its managed-by and instance labels.
    pub fn of(meta: &kube::api::ObjectMeta, namespace: &str) -> Owner {
        if let Some(owner) = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(OWNER_ANNOTATION))
        {
            return Owner::Instance(owner.clone());
        }
        let labels = meta.labels.clone().unwrap_or_default();
        match (labels.get(MANAGED_BY.0), labels.get(INSTANCE_LABEL)) {
            (Some(m), Some(instance)) if m == MANAGED_BY.1 => {
                Owner::Instance(instance_key(namespace, instance))
            }
            _ => Owner::NotBerth,
        }
    }

    /// In words, for messages.
    pub fn describe(&self) -> String {
        match self {
            Owner::Absent => "it does not exist".into(),
            Owner::Instance(o) => format!("it belongs to instance {o}"),
            Owner::NotBerth => "Berth did not create it".into(),
            Owner::Unknown(why) => format!("its owner cannot be read ({why})"),
        }
    }
}

impl Applier {
    /// Who owns each object as it is in the cluster now: `Owner::Absent` when it does not exist.
    pub async fn owners(&self, objects: &[&Resolved], namespace: &str) -> Vec<(ObjectRef, Owner)> {
        let futs: Vec<_> = objects
            .iter()
            .map(|r| {
                let api = self.api(r, namespace);
                let key = r.key.clone();
                async move {
                    let owner = match api.get_opt(&key.name).await {
                        Ok(Some(live)) => Owner::of(&live.metadata, namespace),
                        Ok(None) => Owner::Absent,
                        Err(e) => Owner::Unknown(failure::message(&e)),
                    };
                    (key, owner)
                }
            })
            .collect();
        stream::iter(futs).buffered(PARALLELISM).collect().await
    }
}
