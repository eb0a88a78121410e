//! Rendered objects as Berth applies and stores them: ownership labels, identity keys, secret
//! redaction and unified diffs. Pure: values in, values out.

use std::collections::{BTreeMap, BTreeSet};

use app::model::{Component, ObjectRef};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::kube::{
    COMPONENT_KEY, INSTALLATION_LABEL, INSTANCE_LABEL, MANAGED_BY, OWNER_ANNOTATION, instance_key,
    str_at,
};

/// The identity of an object within an instance: group, kind and name (the namespace is the
/// instance's).
pub fn key(o: &Value) -> ObjectRef {
    ObjectRef {
        api_version: str_at(o, "/apiVersion").to_string(),
        kind: str_at(o, "/kind").to_string(),
        name: str_at(o, "/metadata/name").to_string(),
    }
}

/// `group/Kind/name`, stable across API versions of the same kind.
pub fn group_key(r: &ObjectRef) -> String {
    let group = r.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    format!("{group}/{}/{}", r.kind, r.name)
}

/// Adds Berth's labels (managed-by, instance, component) to each object, to its pod template and
/// to its volume claim templates, so pods and claims can be traced back too; marks each object
/// as owned by the instance ([`OWNER_ANNOTATION`]); sets the namespace.
pub fn label(objects: &mut [Value], components: &[Component], instance: &str, namespace: &str) {
    let mut component_of: BTreeMap<String, String> = BTreeMap::new();
    for c in components {
        for o in &c.objects {
            component_of.insert(format!("{}/{}", o.kind, o.name), c.id.clone());
        }
    }
    for o in objects.iter_mut() {
        let r = key(o);
        let component = component_of
            .get(&format!("{}/{}", r.kind, r.name))
            .cloned()
            .unwrap_or_default();
        let labels = [
            (MANAGED_BY.0, MANAGED_BY.1.to_string()),
            (INSTANCE_LABEL, instance.to_string()),
            (COMPONENT_KEY, component),
        ];
        set_labels(o.pointer_mut("/metadata"), &labels);
        ensure_object(o, "/metadata/annotations");
        if let Some(a) = o
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.insert(
                OWNER_ANNOTATION.into(),
                Value::String(instance_key(namespace, instance)),
            );
        }
        if !is_cluster_scoped(&r.kind)
            && let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
        let pod_meta = match r.kind.as_str() {
            "CronJob" => "/spec/jobTemplate/spec/template/metadata",
            _ => "/spec/template/metadata",
        };
        if crate::kube::has_pod_template(&r.kind) {
            ensure_object(o, pod_meta);
            set_labels(o.pointer_mut(pod_meta), &labels);
        }
        if let Some(vcts) = o
            .pointer_mut("/spec/volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for vct in vcts {
                if r.kind == "StatefulSet" {
                    ensure_object(vct, "/metadata");
                    set_labels(vct.pointer_mut("/metadata"), &labels);
                }
            }
        }
    }
}

/// Adds the installation label wherever [`label`] put Berth's labels: the object, its pod
/// template and its volume claim templates. Done as objects are applied rather than when they
/// are planned, so history stays the same across installations and a rollback to a revision
/// recorded before installation ids still carries it.
pub fn stamp_installation(object: &mut Value, installation: &str) {
    let managed = format!("/labels/{}", MANAGED_BY.0.replace('/', "~1"));
    let stamp = |meta: Option<&mut Value>| {
        if let Some(meta) = meta
            && meta.pointer(&managed).is_some()
        {
            set_labels(
                Some(meta),
                &[(INSTALLATION_LABEL, installation.to_string())],
            );
        }
    };
    stamp(object.pointer_mut("/metadata"));
    stamp(object.pointer_mut("/spec/template/metadata"));
    stamp(object.pointer_mut("/spec/jobTemplate/spec/template/metadata"));
    if let Some(vcts) = object
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(Value::as_array_mut)
    {
        for vct in vcts {
            stamp(vct.pointer_mut("/metadata"));
        }
    }
}

fn ensure_object(v: &mut Value, pointer: &str) {
    let mut cur = v;
    for part in pointer.split('/').skip(1) {
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        cur = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
    }
}

fn set_labels(meta: Option<&mut Value>, labels: &[(&str, String)]) {
    let Some(meta) = meta.and_then(Value::as_object_mut) else {
        return;
    };
    let entry = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    if let Some(map) = entry.as_object_mut() {
        for (k, v) in labels {
            if !v.is_empty() {
                map.insert((*k).to_string(), Value::String(v.clone()));
            }
        }
    }
}

/// Kinds without a namespace that templates may contain.
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PersistentVolume"
    )
}

/// What must never leave Berth in the clear: the values of Secrets and of generated defaults.
/// Each is replaced by a marker keyed with a secret key, so a marker shows that a value changed
/// and reveals nothing about it, not even to a dictionary.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Each sensitive string and its marker, made once: a manifest masks the same few secrets
    /// in many places.
    secrets: BTreeMap<String, String>,
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Every Secret's own values are always replaced. Beyond that, `sensitive` strings
    /// (generated passwords, secret-looking inputs) are masked wherever they appear, such as in
    /// env values. Plain Secret values (a host, a bucket name) are not hunted for elsewhere: they
    /// are often names, and masking them would hide what a manifest means.
    pub fn new(
        objects: &[Value],
        sensitive: impl IntoIterator<Item = String>,
        key: [u8; 32],
    ) -> Redactor {
        let names: BTreeSet<&str> = objects
            .iter()
            .map(|o| str_at(o, "/metadata/name"))
            .collect();
        let mut redactor = Redactor {
            secrets: BTreeMap::new(),
            key,
        };
        for s in sensitive {
            if s.len() >= 8 && !names.contains(s.as_str()) && !redactor.secrets.contains_key(&s) {
                let marker = redactor.marker(&s);
                redactor.secrets.insert(s, marker);
            }
        }
        redactor
    }

    /// A copy of `o` with every Secret value replaced by a digest marker and every known secret
    /// string masked wherever it appears.
    pub fn redact(&self, o: &Value) -> Value {
        let mut out = o.clone();
        if str_at(o, "/kind") == "Secret" {
            for field in ["data", "stringData"] {
                if let Some(map) = out.get_mut(field).and_then(Value::as_object_mut) {
                    for v in map.values_mut() {
                        *v = Value::String(self.marker(v.as_str().unwrap_or_default()));
                    }
                }
            }
        }
        self.mask(&mut out);
        out
    }

    /// `<redacted:1a2b3c4d>`: a short keyed digest (HMAC-SHA256), so a diff still shows that a
    /// value changed.
    pub fn marker(&self, secret: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(secret.as_bytes());
        format!(
            "<redacted:{}>",
            &hex::encode(mac.finalize().into_bytes())[..8]
        )
    }

    fn mask(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                for (secret, marker) in &self.secrets {
                    if s.contains(secret.as_str()) {
                        *s = s.replace(secret.as_str(), marker);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.mask(v)),
            Value::Object(m) => m.values_mut().for_each(|v| self.mask(v)),
            _ => {}
        }
    }
}

/// Multi-document YAML of `objects`, in order.
pub fn to_yaml(objects: &[Value]) -> String {
    let mut out = String::new();
    for o in objects {
        out.push_str(&format!(
            "--- # {}/{}\n",
            str_at(o, "/kind"),
            str_at(o, "/metadata/name")
        ));
        out.push_str(
            &serde_saphyr::to_string(o).unwrap_or_else(|e| format!("# cannot serialise: {e}\n")),
        );
    }
    out
}

/// A unified diff between two sets of (already redacted) objects, object by object in a stable
/// order, with `before`/`after` labels.
pub fn unified_diff(
    before: &[Value],
    after: &[Value],
    before_label: &str,
    after_label: &str,
) -> String {
    let index = |objs: &[Value]| -> BTreeMap<String, String> {
        objs.iter()
            .map(|o| {
                (
                    group_key(&key(o)),
                    serde_saphyr::to_string(o).unwrap_or_default(),
                )
            })
            .collect()
    };
    let (a, b) = (index(before), index(after));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = String::new();
    for k in keys {
        let (x, y) = (
            a.get(k).map(String::as_str).unwrap_or(""),
            b.get(k).map(String::as_str).unwrap_or(""),
        );
        if x == y {
            continue;
        }
        let diff = similar::TextDiff::from_lines(x, y);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{before_label}/{k}"),
                    &format!("{after_label}/{k}"),
                )
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_reach_objects_pod_templates_and_claim_templates() {
        let mut objs = vec![
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x-db"},
            "spec": {"template": {"spec": {}}, "volumeClaimTemplates": [{"spec": {}}]}}),
        ];
        let comps = crate::components::derive(&objs, "x");
        label(&mut objs, &comps, "x", "ns1");
        let o = &objs[0];
        assert_eq!(o["metadata"]["namespace"], "ns1");
        assert_eq!(o["metadata"]["labels"]["berth.dev/instance"], "x");
        assert_eq!(o["metadata"]["labels"]["berth.dev/component"], "db");
        assert_eq!(
            o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "berth"
        );
        assert_eq!(
            o["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]["berth.dev/instance"],
            "x"
        );
    }

    #[test]
    fn the_installation_label_goes_only_where_berths_labels_are() {
        let mut objs = vec![
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x-db"},
            "spec": {"template": {"spec": {}}, "volumeClaimTemplates": [{"spec": {}}]}}),
        ];
        let comps = crate::components::derive(&objs, "x");
        label(&mut objs, &comps, "x", "ns1");
        let mut foreign =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let before = foreign.clone();
        stamp_installation(&mut objs[0], "0123abcd");
        stamp_installation(&mut foreign, "0123abcd");
        let o = &objs[0];
        for labels in [
            &o["metadata"]["labels"],
            &o["spec"]["template"]["metadata"]["labels"],
            &o["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"],
        ] {
            assert_eq!(labels["berth.dev/installation"], "0123abcd", "{o}");
        }
        assert_eq!(
            foreign, before,
            "an object Berth did not label is left as it is"
        );
    }

    #[test]
    fn secrets_never_survive_redaction() {
        let objs = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2hunter2"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"template": {"spec": {"containers": [{"env": [{"name": "URL", "value": "pg://u:hunter2hunter2@h/db"},
                                                                            {"name": "KEY", "value": "generatedkey123"}]}]}}}}),
        ];
        let r = Redactor::new(
            &objs,
            ["generatedkey123".to_string(), "hunter2hunter2".to_string()],
            [9; 32],
        );
        let text =
            serde_json::to_string(&objs.iter().map(|o| r.redact(o)).collect::<Vec<_>>()).unwrap();
        assert!(!text.contains("hunter2hunter2"), "{text}");
        assert!(!text.contains("generatedkey123"), "{text}");
        assert!(text.contains("<redacted:"), "{text}");
        assert!(
            text.contains("pg://u:<redacted:"),
            "the rest of a value stays readable: {text}"
        );
    }

    #[test]
    fn names_are_never_masked_even_when_a_secret_holds_them() {
        let objs = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bucket-key"}, "stringData": {"bucket": "posthog-abcdefgh"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "posthog-abcdefgh"}}),
        ];
        let r = Redactor::new(&objs, ["posthog-abcdefgh".to_string()], [9; 32]);
        assert_eq!(r.redact(&objs[1])["metadata"]["name"], "posthog-abcdefgh");
        let bucket = r.redact(&objs[0])["stringData"]["bucket"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            bucket.starts_with("<redacted:"),
            "the Secret's own value is still hidden: {bucket}"
        );
    }

    #[test]
    fn markers_are_keyed_so_a_dictionary_reveals_nothing() {
        let a = Redactor::new(&[], [], [1; 32]);
        let b = Redactor::new(&[], [], [2; 32]);
        assert_eq!(
            a.marker("hunter2"),
            a.marker("hunter2"),
            "stable under one key"
        );
        assert_ne!(a.marker("hunter2"), a.marker("hunter3"), "a change shows");
        assert_ne!(
            a.marker("hunter2"),
            b.marker("hunter2"),
            "another key, another marker"
        );
        let unkeyed = &hex::encode(<Sha256 as sha2::Digest>::digest(b"hunter2"))[..8];
        assert!(
            !a.marker("hunter2").contains(unkeyed),
            "not the plain digest"
        );
    }

    #[test]
    fn a_diff_names_the_object_and_shows_the_change() {
        let a = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}}),
        ];
        let b = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 3}}),
        ];
        let d = unified_diff(&a, &b, "r1", "r2");
        assert!(d.contains("--- r1/apps/Deployment/d"), "{d}");
        assert!(
            d.contains("-  replicas: 1") && d.contains("+  replicas: 3"),
            "{d}"
        );
        assert_eq!(unified_diff(&a, &a, "r1", "r2"), "");
    }
}
