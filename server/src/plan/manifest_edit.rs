//! Edits of one object's manifest as a JSON merge patch (RFC 7386), for what no card control
//! covers. The patch is checked before anything else: the object must exist, and the patch may
//! not change its kind, API version, name or namespace, nor any label or annotation Berth uses
//! to know what it owns. Secrets are not edited this way (their values would enter the change
//! set). The result must still be a well-formed object.

use app::model::ObjectKey;
use serde_json::{Map, Value};

use super::edits::ChangeError;
use crate::kube::{INSTANCE_LABEL, MANAGED_BY, OWNER_ANNOTATION};

/// Applies `patch` to the object `key` of `objects`.
pub fn apply(objects: &mut [Value], key: &ObjectKey, patch: &Value) -> Result<(), ChangeError> {
    if key.kind == "Secret" {
        return Err(ChangeError::Invalid(
            "Secrets are not edited as YAML: their values must not enter a change set".into(),
        ));
    }
    let Some(object) = objects
        .iter_mut()
        .find(|o| o["kind"] == key.kind.as_str() && o["metadata"]["name"] == key.name.as_str())
    else {
        return Err(ChangeError::Invalid(format!(
            "this instance has no {} {}",
            key.kind, key.name
        )));
    };
    if !patch.is_object() {
        return Err(ChangeError::Invalid(
            "a merge patch must be a mapping".into(),
        ));
    }
    for (pointer, what) in [
        ("/kind", "kind"),
        ("/apiVersion", "apiVersion"),
        ("/metadata/name", "metadata.name"),
        ("/metadata/namespace", "metadata.namespace"),
    ] {
        if patch.pointer(pointer).is_some() && patch.pointer(pointer) != object.pointer(pointer) {
            return Err(ChangeError::Invalid(format!(
                "a manifest edit may not change {what}"
            )));
        }
    }
    let protected = |section: &str, key: &str| {
        key.starts_with("berth.dev/")
            || (section == "labels" && (key == INSTANCE_LABEL || key == MANAGED_BY.0))
            || (section == "annotations" && key == OWNER_ANNOTATION)
    };
    for section in ["labels", "annotations"] {
        if let Some(Value::Object(m)) = patch.pointer(&format!("/metadata/{section}"))
            && let Some(k) = m.keys().find(|k| protected(section, k))
        {
            return Err(ChangeError::Invalid(format!(
                "a manifest edit may not change Berth's {section} (`{k}`)"
            )));
        }
        if patch.pointer(&format!("/metadata/{section}")) == Some(&Value::Null) {
            return Err(ChangeError::Invalid(format!(
                "a manifest edit may not remove the {section}: Berth's own are among them"
            )));
        }
    }
    if patch.get("metadata") == Some(&Value::Null) {
        return Err(ChangeError::Invalid(
            "a manifest edit may not remove metadata".into(),
        ));
    }
    merge(object, patch);
    if !object
        .pointer("/spec")
        .is_none_or(|s| s.is_object() || s.is_null())
    {
        return Err(ChangeError::Invalid("spec must be a mapping".into()));
    }
    Ok(())
}

/// RFC 7386: `null` removes a key, a mapping merges into a mapping, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made a mapping above");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// The merge patch that turns `old` into `new` (`None` when they are the same).
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, v) in n {
                match o.get(k) {
                    Some(was) => {
                        if let Some(d) = diff(was, v) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in o.keys().filter(|k| !n.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (a, b) if a == b => None,
        (_, b) => Some(b.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn web() -> Vec<Value> {
        vec![json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x-web", "labels": {"berth.dev/instance": "x", "app": "web"}, "annotations": {"berth.dev/owner": "ns/x"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})]
    }

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey {
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_merge_patch_adds_replaces_and_removes() {
        let mut o = web();
        let patch = json!({"metadata": {"annotations": {"team": "growth"}}, "spec": {"replicas": null, "paused": true}});
        apply(&mut o, &key("Deployment", "x-web"), &patch).unwrap();
        assert_eq!(
            o[0]["metadata"]["annotations"],
            json!({"berth.dev/owner": "ns/x", "team": "growth"})
        );
        assert_eq!(o[0]["spec"].get("replicas"), None);
        assert_eq!(o[0]["spec"]["paused"], true);
        let again = o.clone();
        apply(&mut o, &key("Deployment", "x-web"), &patch).unwrap();
        assert_eq!(o, again, "a setter: applying it twice changes nothing more");
    }

    #[test]
    fn identity_ownership_and_secrets_are_refused() {
        for (patch, says) in [
            (json!({"metadata": {"name": "other"}}), "metadata.name"),
            (json!({"kind": "StatefulSet"}), "kind"),
            (
                json!({"metadata": {"namespace": "kube-system"}}),
                "namespace",
            ),
            (
                json!({"metadata": {"labels": {"berth.dev/instance": "y"}}}),
                "labels",
            ),
            (
                json!({"metadata": {"annotations": {"berth.dev/owner": null}}}),
                "annotations",
            ),
            (json!({"metadata": {"labels": null}}), "labels"),
            (json!({"spec": "text"}), "spec must be a mapping"),
            (json!([1]), "mapping"),
        ] {
            let mut o = web();
            let err = apply(&mut o, &key("Deployment", "x-web"), &patch)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{patch}: {err}");
        }
        let err = apply(&mut web(), &key("Deployment", "nope"), &json!({})).unwrap_err();
        assert!(err.to_string().contains("no Deployment nope"));
        let err = apply(&mut web(), &key("Secret", "s"), &json!({})).unwrap_err();
        assert!(err.to_string().contains("Secrets"));
    }

    #[test]
    fn the_patch_between_two_objects_turns_one_into_the_other() {
        let old = web()[0].clone();
        let mut new = old.clone();
        new["metadata"]["annotations"]["team"] = json!("growth");
        new["spec"].as_object_mut().unwrap().remove("replicas");
        let patch = diff(&old, &new).unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {"annotations": {"team": "growth"}}, "spec": {"replicas": null}})
        );
        let mut merged = old.clone();
        merge(&mut merged, &patch);
        assert_eq!(merged, new);
        assert_eq!(diff(&old, &old), None);
    }
}
