//! What a cached object keeps. The watches hold every object of every instance, so each keeps
//! only what the health checks read: its identity, labels, owner references, generation and
//! deletion mark, a few spec fields (replicas, paused, suspend, the storage class, container
//! names) and its status. Managed fields, annotations and the rest of the spec (a pod's env,
//! volumes and probes, a Deployment's template) are skipped as the watch's JSON is read
//! ([`Cached`]), never built: they are most of each object, and every event carries the whole of
//! it.

use std::{borrow::Cow, fmt};

use kube::{
    Resource,
    api::{ApiResource, DynamicObject, ObjectMeta, TypeMeta},
    core::DynamicResourceScope,
};
use serde::{
    Deserialize, Deserializer,
    de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor},
};
use serde_json::{Map, Value};

/// The spec fields kept.
const KEPT_SPEC: [&str; 7] = [
    "replicas",
    "paused",
    "suspend",
    "storageClassName",
    "nodeName",
    "containers",
    "initContainers",
];

/// The metadata fields dropped.
const DROPPED_META: [&str; 2] = ["managedFields", "annotations"];

/// A watched object as the caches keep it (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Cached(pub DynamicObject);

impl Resource for Cached {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::kind(dt)
    }

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::group(dt)
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::version(dt)
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::api_version(dt)
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.0.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.0.metadata
    }
}

impl<'de> Deserialize<'de> for Cached {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Cached;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cached, A::Error> {
        let (mut api_version, mut kind) = (None, None);
        let mut metadata = Value::Null;
        let mut data = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => api_version = Some(map.next_value::<String>()?),
                "kind" => kind = Some(map.next_value::<String>()?),
                "metadata" => {
                    metadata = map.next_value_seed(Only(&|k| !DROPPED_META.contains(&k)))?
                }
                "spec" => {
                    let spec = map.next_value_seed(Only(&|k| KEPT_SPEC.contains(&k)))?;
                    data.insert(key, spec);
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    data.insert(key, value);
                }
            }
        }
        let types = match (api_version, kind) {
            (Some(api_version), Some(kind)) => Some(TypeMeta { api_version, kind }),
            (api_version, kind) => {
                let one = [("apiVersion", api_version), ("kind", kind)];
                for (k, v) in one.into_iter().filter_map(|(k, v)| Some((k, v?))) {
                    data.insert(k.into(), Value::String(v));
                }
                None
            }
        };
        let metadata = ObjectMeta::deserialize(metadata).map_err(serde::de::Error::custom)?;
        Ok(Cached(DynamicObject {
            types,
            metadata,
            data: Value::Object(data),
        }))
    }
}

/// Reads a JSON object (or null), keeping the fields the function names and skipping the rest
/// unbuilt. Its `containers` and `initContainers` keep only each container's name.
struct Only<'a>(&'a dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Only<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Only<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or null")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if !(self.0)(&key) {
                map.next_value::<IgnoredAny>()?;
            } else if key == "containers" || key == "initContainers" {
                let names = match map.next_value::<Option<Vec<Named>>>()? {
                    Some(list) => Value::Array(list.into_iter().map(Named::kept).collect()),
                    None => Value::Null,
                };
                kept.insert(key, names);
            } else {
                let value = map.next_value::<Value>()?;
                kept.insert(key, value);
            }
        }
        Ok(Value::Object(kept))
    }
}

/// A container, read for its name only.
#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

impl Named {
    fn kept(self) -> Value {
        match self.name {
            Some(name) => serde_json::json!({ "name": name }),
            None => serde_json::json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the caches keep of `object`, read from its JSON text as a watch event's is.
    fn kept(object: Value) -> Value {
        let cached: Cached = serde_json::from_str(&object.to_string()).unwrap();
        serde_json::to_value(cached.0).unwrap()
    }

    #[test]
    fn a_pod_keeps_what_health_reads_and_nothing_else() {
        let kept = kept(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}, "generation": 2,
                "annotations": {"big": "x".repeat(4096)},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}],
                "managedFields": [{"manager": "kubelet", "operation": "Update", "fieldsV1": {"f:status": {}}}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "i", "env": [{"name": "SECRET", "value": "v"}]}],
                "volumes": [{"name": "data"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "web", "restartCount": 3}]}
        }));
        assert_eq!(
            kept,
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}, "generation": 2,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}]},
                "spec": {"nodeName": "n1", "containers": [{"name": "web"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "web", "restartCount": 3}]}
            })
        );
    }

    #[test]
    fn a_deployment_keeps_replicas_and_paused_but_not_its_template() {
        let kept = kept(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 3, "paused": true, "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"readyReplicas": 1}
        }));
        assert_eq!(kept["spec"], json!({"replicas": 3, "paused": true}));
        assert_eq!(kept["status"], json!({"readyReplicas": 1}));
    }

    #[test]
    fn an_item_of_a_list_without_its_kind_and_a_null_spec_read_as_they_are() {
        // A typed list's items carry no apiVersion or kind.
        let kept = kept(json!({
            "metadata": {"name": "c", "namespace": "ns", "resourceVersion": "7",
                "deletionTimestamp": "2026-11-27T00:00:00Z"},
            "spec": null, "status": {"phase": "Bound"}
        }));
        let pod =
            super::tests::kept(json!({"metadata": {"name": "p"}, "spec": {"containers": null}}));
        assert_eq!(pod["spec"], json!({"containers": null}));
        assert_eq!(
            kept,
            json!({
                "metadata": {"name": "c", "namespace": "ns", "resourceVersion": "7",
                    "deletionTimestamp": "2026-11-27T00:00:00Z"},
                "spec": null, "status": {"phase": "Bound"}
            })
        );
    }

    #[test]
    fn every_health_fixture_gets_the_same_health_from_what_is_kept() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/health/testdata");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let full: Vec<Value> = text
                .split("\n---\n")
                .map(|d| serde_saphyr::from_str(d).unwrap())
                .collect();
            let trimmed: Vec<Value> = full.iter().cloned().map(kept).collect();
            let health = |docs: &[Value]| {
                let pods: Vec<&Value> = docs[1..].iter().collect();
                let h = super::super::object_health(&docs[0], &pods);
                (h.state, h.reason)
            };
            assert_eq!(health(&trimmed), health(&full), "{}", path.display());
            for (kept, full) in trimmed.iter().zip(&full) {
                assert_eq!(kept.get("status"), full.get("status"));
                assert_eq!(kept["metadata"].get("managedFields"), None);
            }
        }
    }
}
