//! Is a rendered document a well-formed Kubernetes object? `apiVersion`, `kind` and
//! `metadata.name` present, and names that the API server will accept (DNS-1123).

use serde_json::Value;

use super::{RenderedObject, TemplateError};

/// Kinds whose names must be DNS-1123 labels (no dots, at most 63 characters); the rest take
/// DNS-1123 subdomains (dots allowed, at most 253).
const LABEL_NAMED_KINDS: &[&str] = &["Namespace", "Service"];

/// Checks one rendered object.
pub fn check_object(obj: &RenderedObject) -> Result<(), TemplateError> {
    let err = |message: String| {
        Err(TemplateError::Object {
            line: obj.line,
            message,
        })
    };
    let o = &obj.object;
    let api_version = o
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
    if api_version.is_empty() {
        return err("the object has no apiVersion".into());
    }
    if kind.is_empty() {
        return err("the object has no kind".into());
    }
    let Some(name) = o.pointer("/metadata/name").and_then(Value::as_str) else {
        return err(format!("the {kind} has no metadata.name"));
    };
    let problem = if LABEL_NAMED_KINDS.contains(&kind) {
        dns1123_label(name)
    } else {
        dns1123_subdomain(name)
    };
    if let Some(p) = problem {
        return err(format!("{kind} name {name:?} is invalid: {p}"));
    }
    Ok(())
}

/// `None` when `s` is a valid DNS-1123 label, else why not.
pub fn dns1123_label(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 63 {
        return Some(format!(
            "it is {} characters long; at most 63 are allowed",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("only lowercase letters, digits and '-' are allowed".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// `None` when `s` is a valid DNS-1123 subdomain, else why not.
pub fn dns1123_subdomain(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some(format!(
            "it is {} characters long; at most 253 are allowed",
            s.len()
        ));
    }
    if s.is_empty() {
        return Some("it is empty".into());
    }
    for part in s.split('.') {
        if let Some(p) = dns1123_label(part) {
            return Some(if part.is_empty() {
                "it has an empty part between dots".into()
            } else {
                p
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<(), TemplateError> {
        check_object(&RenderedObject { object: v, line: 7 })
    }

    #[test]
    fn accepts_well_formed_objects() {
        assert!(
            check(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a.b-c"}}))
                .is_ok()
        );
        assert!(
            check(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-1"}}))
                .is_ok()
        );
    }

    #[test]
    fn rejects_missing_fields_and_bad_names_with_the_line() {
        let e = check(json!({"kind": "ConfigMap", "metadata": {"name": "a"}})).unwrap_err();
        assert_eq!(e.to_string(), "line 7: the object has no apiVersion");
        assert!(check(json!({"apiVersion": "v1", "metadata": {"name": "a"}})).is_err());
        assert!(
            check(json!({"apiVersion": "v1", "kind": "ConfigMap"}))
                .unwrap_err()
                .to_string()
                .contains("no metadata.name")
        );
        assert!(
            check(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Upper"}}))
                .is_err()
        );
        assert!(
            check(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}}))
                .is_err(),
            "services take labels"
        );
        assert!(
            check(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "-a"}}))
                .is_err()
        );
        assert!(
            check(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a".repeat(64)}})
            )
            .is_err()
        );
    }
}
