//! What counts as secret, and how it is hidden before anything leaves the service: Secret
//! values, generated defaults (passwords, keys), and the values of inputs and environment
//! variables whose names say they are secret (see [`looks_secret`]) — in manifests, diffs,
//! results and the change sets history keeps.

use std::collections::BTreeMap;

use app::model::{Edit, EnvValue, ObjectResult};
use serde_json::{Value, json};

use super::Service;
use crate::{manifest::Redactor, store::RevisionState};

/// What a secret value in a change set is shown as.
pub(super) const CHANGED: &str = "<secret: changed>";

/// Whether a name (of an input or an environment variable) says it holds a secret: it contains
/// KEY, TOKEN, SECRET, PASSWORD, PASS, DSN or CREDENTIAL, in any case.
pub(super) fn looks_secret(name: &str) -> bool {
    let n = name.to_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "pass",
        "dsn",
        "credential",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Where an object's pod spec is (a Pod's own spec, a CronJob's job template, else the pod
/// template of a workload).
fn pod_spec_pointer(o: &Value) -> &'static str {
    match o["kind"].as_str() {
        Some("CronJob") => "/spec/jobTemplate/spec/template/spec",
        Some("Pod") => "/spec",
        _ => "/spec/template/spec",
    }
}

/// Whether a pod spec field holds containers.
fn is_containers(field: &str) -> bool {
    field == "containers" || field == "initContainers"
}

/// The containers' env lists of an object with a pod template (or a Pod).
fn env_lists(o: &mut Value) -> Vec<&mut Vec<Value>> {
    let Some(spec) = o
        .pointer_mut(pod_spec_pointer(o))
        .and_then(Value::as_object_mut)
    else {
        return Vec::new();
    };
    spec.iter_mut()
        .filter(|(k, _)| is_containers(k))
        .filter_map(|(_, v)| v.as_array_mut())
        .flatten()
        .filter_map(|c| c.get_mut("env").and_then(Value::as_array_mut))
        .collect()
}

/// Literal values of environment variables whose names look secret.
fn secret_env_values(objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let Some(spec) = o.pointer(pod_spec_pointer(o)).and_then(Value::as_object) else {
            continue;
        };
        let containers = spec
            .iter()
            .filter(|(k, _)| is_containers(k))
            .filter_map(|(_, v)| v.as_array())
            .flatten();
        for env in containers.filter_map(|c| c.get("env").and_then(Value::as_array)) {
            for e in env {
                if e["name"].as_str().is_some_and(looks_secret)
                    && let Some(v) = e["value"].as_str().filter(|v| !v.is_empty())
                {
                    out.push(v.to_string());
                }
            }
        }
    }
    out
}

/// Replaces the literal values of secret-looking environment variables with a marker.
fn mask_secret_env(r: &Redactor, o: &mut Value) {
    for env in env_lists(o) {
        for e in env.iter_mut() {
            if e["name"].as_str().is_some_and(looks_secret)
                && let Some(v) = e.get_mut("value")
                && let Some(text) = v.as_str().filter(|t| !t.is_empty())
            {
                *v = Value::String(r.marker(text));
            }
        }
    }
}

/// A change set as history keeps and shows it: the values of secret-looking environment
/// variables and inputs are [`CHANGED`].
pub(super) fn edits(edits: &[Edit]) -> Value {
    let shown: Vec<Edit> = edits
        .iter()
        .map(|e| match e {
            Edit::Env {
                component,
                container,
                name,
                value: EnvValue::Value { .. },
                secret,
            } if *secret || looks_secret(name) => Edit::Env {
                component: component.clone(),
                container: container.clone(),
                name: name.clone(),
                value: EnvValue::Value {
                    value: CHANGED.into(),
                },
                secret: *secret,
            },
            Edit::Input { name, .. } if looks_secret(name) => Edit::Input {
                name: name.clone(),
                value: CHANGED.into(),
            },
            Edit::Manifest {
                object,
                merge_patch,
            } => {
                let mut shown = merge_patch.clone();
                mask_secret_env_entries(&mut shown);
                Edit::Manifest {
                    object: object.clone(),
                    merge_patch: shown,
                }
            }
            other => other.clone(),
        })
        .collect();
    json!(shown)
}

/// In any part of a merge patch: `{"name": <secret-looking>, "value": v}` entries get
/// [`CHANGED`] for `v`.
fn mask_secret_env_entries(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let secret = m
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(looks_secret);
            if secret && m.get("value").is_some_and(Value::is_string) {
                m.insert("value".into(), Value::String(CHANGED.into()));
            }
            m.values_mut().for_each(mask_secret_env_entries);
        }
        Value::Array(a) => a.iter_mut().for_each(mask_secret_env_entries),
        _ => {}
    }
}

impl Service {
    /// The redactor for a revision's state: generated defaults are secrets (except the names
    /// and hosts derived from them), and so are the values of inputs and environment variables
    /// whose names say they are, and of variables set with `secret: true`. Its markers are keyed with this installation's marker key.
    pub(super) fn redactor(&self, state: &RevisionState) -> Redactor {
        let generated = state
            .defaults
            .iter()
            .filter(|(k, _)| !(k.ends_with("name") || k.ends_with("host")))
            .map(|(_, v)| v.clone());
        let typed = state
            .inputs
            .iter()
            .filter(|(k, _)| looks_secret(k))
            .map(|(_, v)| v.clone());
        let env = secret_env_values(&state.manifests);
        let kept = state.edits.iter().filter_map(|e| match e {
            Edit::Env {
                value: EnvValue::Value { value },
                secret: true,
                ..
            } => Some(value.clone()),
            _ => None,
        });
        Redactor::new(
            &state.manifests,
            generated.chain(typed).chain(env).chain(kept),
            self.store.marker_key(),
        )
    }

    /// The state's manifests with secrets hidden.
    pub(super) fn redacted(&self, state: &RevisionState) -> Vec<Value> {
        redacted_by(&self.redactor(state), state)
    }
}

/// The state's manifests with secrets hidden by `r` (the state's own redactor).
pub(super) fn redacted_by(r: &Redactor, state: &RevisionState) -> Vec<Value> {
    state
        .manifests
        .iter()
        .map(|o| {
            let mut shown = r.redact(o);
            mask_secret_env(r, &mut shown);
            shown
        })
        .collect()
}

/// An object's result with its message (the apiserver's words) passed through the redactor.
pub(super) fn result(r: &Redactor, result: &ObjectResult) -> ObjectResult {
    let mut out = result.clone();
    out.message = result.message.as_deref().map(|m| message(r, m));
    out
}

/// A message with every known secret masked.
pub(super) fn message(r: &Redactor, m: &str) -> String {
    match r.redact(&Value::String(m.to_string())) {
        Value::String(s) => s,
        _ => m.to_string(),
    }
}

/// Input values with secret-looking ones replaced by `<redacted>`.
pub(super) fn inputs(inputs: &BTreeMap<String, String>) -> Value {
    Value::Object(
        inputs
            .iter()
            .map(|(k, v)| {
                let hidden = looks_secret(k) && !v.is_empty();
                let shown = if hidden { "<redacted>" } else { v.as_str() };
                (k.clone(), Value::String(shown.to_string()))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_env_values_are_masked_in_manifests_and_change_sets() {
        let state = RevisionState {
            manifests: vec![
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "web", "env": [
                    {"name": "API_TOKEN", "value": "sk-live-abc"},
                    {"name": "SENTRY_DSN", "value": "https://k@sentry.example/1"},
                    {"name": "LOG_LEVEL", "value": "debug"},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "p"}}}]}]}}}}),
            ],
            ..Default::default()
        };
        let r = Redactor::new(
            &state.manifests,
            secret_env_values(&state.manifests),
            [5; 32],
        );
        let shown: Vec<Value> = state
            .manifests
            .iter()
            .map(|o| {
                let mut s = r.redact(o);
                mask_secret_env(&r, &mut s);
                s
            })
            .collect();
        let text = serde_json::to_string(&shown).unwrap();
        assert!(
            !text.contains("sk-live-abc") && !text.contains("k@sentry"),
            "{text}"
        );
        assert!(text.contains("debug"), "other values stay: {text}");
        assert!(text.contains("secretKeyRef"), "references stay: {text}");
        let set = edits(&[
            Edit::Env {
                component: "web".into(),
                container: None,
                name: "API_TOKEN".into(),
                value: EnvValue::Value {
                    value: "sk-live-abc".into(),
                },
                secret: false,
            },
            Edit::Env {
                component: "web".into(),
                container: None,
                name: "BILLING_ACCOUNT".into(),
                value: EnvValue::Value {
                    value: "acct-4242".into(),
                },
                secret: true,
            },
            Edit::Input {
                name: "admin_password".into(),
                value: "hunter2".into(),
            },
            Edit::Input {
                name: "domain".into(),
                value: "example.com".into(),
            },
        ])
        .to_string();
        assert!(
            !set.contains("sk-live-abc") && !set.contains("hunter2") && !set.contains("acct-4242"),
            "{set}"
        );
        assert!(
            set.contains(CHANGED) && set.contains("example.com"),
            "{set}"
        );
    }

    #[test]
    fn secret_looking_inputs_are_hidden_and_others_shown() {
        let given: BTreeMap<String, String> = [
            ("admin_password", "hunter2hunter2"),
            ("API_TOKEN", "tok"),
            ("domain", "example.com"),
            ("empty_secret", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = inputs(&given);
        assert_eq!(shown["admin_password"], "<redacted>");
        assert_eq!(shown["API_TOKEN"], "<redacted>");
        assert_eq!(shown["domain"], "example.com");
        assert_eq!(shown["empty_secret"], "", "nothing to hide");
    }
}
