//! What a cached object keeps. The watches hold every object of every instance, so each keeps
//! only what the health checks read: its identity, labels, owner references, generation and
//! deletion mark, a few spec fields (replicas, paused, suspend, the storage class, container
//! names) and its status. Managed fields, annotations and the rest of the spec (a pod's env,
//! volumes and probes, a Deployment's template) are dropped before the object is stored.

use kube::api::DynamicObject;
use serde_json::Value;

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

/// Drops from `o` what health does not read (see the module's documentation).
pub fn trim(o: &mut DynamicObject) {
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
    if let Some(spec) = o.data.get_mut("spec").and_then(Value::as_object_mut) {
        spec.retain(|k, _| KEPT_SPEC.contains(&k.as_str()));
        for list in ["containers", "initContainers"] {
            for c in spec
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(c) = c.as_object_mut() {
                    c.retain(|k, _| k == "name");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pod_keeps_what_health_reads_and_nothing_else() {
        let pod: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}, "generation": 2,
                "annotations": {"big": "x".repeat(4096)},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}],
                "managedFields": [{"manager": "kubelet", "operation": "Update", "fieldsV1": {"f:status": {}}}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "i", "env": [{"name": "SECRET", "value": "v"}]}],
                "volumes": [{"name": "data"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "web", "restartCount": 3}]}
        }))
        .unwrap();
        let mut pod = pod;
        trim(&mut pod);
        let kept = serde_json::to_value(pod).unwrap();
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
        let d: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 3, "paused": true, "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"readyReplicas": 1}
        }))
        .unwrap();
        let mut d = d;
        trim(&mut d);
        let kept = serde_json::to_value(d).unwrap();
        assert_eq!(kept["spec"], json!({"replicas": 3, "paused": true}));
        assert_eq!(kept["status"], json!({"readyReplicas": 1}));
    }
}
