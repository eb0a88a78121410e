//! Who owns an object in the cluster, read from its ownership annotation (or, for objects Berth
//! labelled before it wrote one, from its labels).

use app::model::ObjectRef;
use futures::{StreamExt, stream};

use super::{Applier, PARALLELISM, Resolved};
use crate::kube::{
    INSTALLATION_LABEL, INSTANCE_LABEL, MANAGED_BY, OWNER_ANNOTATION, failure, instance_key,
};

/// Who owns an object in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// It does not exist.
    Absent,
    /// A Berth instance, as `<namespace>/<name>`.
    Instance(String),
    /// Another Berth installation (with another database) applied it, with this id.
    Installation(String),
    /// It exists and Berth did not create it.
    NotBerth,
    /// It could not be read.
    Unknown(String),
}

impl Owner {
    /// The owner recorded on a live object, for installation `installation`: another
    /// installation's id label makes it theirs; else the ownership annotation, else (objects
    /// Berth labelled before it wrote the annotation) its managed-by and instance labels. An
    /// object without an installation label was applied before installation ids; the instance
    /// its annotation names adopts it at its next apply.
    pub fn of(meta: &kube::api::ObjectMeta, namespace: &str, installation: &str) -> Owner {
        if let Some(other) = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(INSTALLATION_LABEL))
            .filter(|id| id.as_str() != installation)
        {
            return Owner::Installation(other.clone());
        }
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
            Owner::Installation(id) => format!("another Berth installation ({id}) manages it"),
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
                        Ok(Some(live)) => Owner::of(&live.metadata, namespace, self.installation()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(labels: &[(&str, &str)], owner: Option<&str>) -> kube::api::ObjectMeta {
        let map = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        kube::api::ObjectMeta {
            labels: Some(map(labels)),
            annotations: owner.map(|o| map(&[(OWNER_ANNOTATION, o)])),
            ..Default::default()
        }
    }

    #[test]
    fn another_installations_id_wins_over_every_other_sign_of_ownership() {
        let berth = [(MANAGED_BY.0, MANAGED_BY.1), (INSTANCE_LABEL, "ph")];
        let with = |id| [berth[0], berth[1], (INSTALLATION_LABEL, id)];
        assert_eq!(
            Owner::of(&meta(&with("mine"), Some("ns/ph")), "ns", "mine"),
            Owner::Instance("ns/ph".into())
        );
        assert_eq!(
            Owner::of(&meta(&with("theirs"), Some("ns/ph")), "ns", "mine"),
            Owner::Installation("theirs".into())
        );
        // Applied before installation ids: the annotation (or the labels) still name it.
        assert_eq!(
            Owner::of(&meta(&berth, Some("ns/ph")), "ns", "mine"),
            Owner::Instance("ns/ph".into())
        );
        assert_eq!(
            Owner::of(&meta(&berth, None), "ns", "mine"),
            Owner::Instance("ns/ph".into())
        );
        assert_eq!(Owner::of(&meta(&[], None), "ns", "mine"), Owner::NotBerth);
    }
}
