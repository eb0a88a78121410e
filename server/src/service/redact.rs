//! What counts as secret, and how it is hidden before anything leaves the service: Secret
//! values, generated defaults (passwords, keys) and inputs whose names say they are secret.

use std::collections::BTreeMap;

use app::model::ObjectResult;
use serde_json::Value;

use crate::{manifest::Redactor, store::RevisionState};

/// Whether an input's name says it holds a secret.
pub(super) fn looks_secret(name: &str) -> bool {
    let n = name.to_lowercase();
    ["password", "secret", "token", "key", "credential"]
        .iter()
        .any(|w| n.contains(w))
}

/// The redactor for a revision's state: generated defaults are secrets (except the names and
/// hosts derived from them), and so are inputs whose names say they are.
pub(super) fn redactor(state: &RevisionState) -> Redactor {
    redactor_for(&state.manifests, &state.defaults, &state.inputs)
}

/// [`redactor`] over its parts.
pub(super) fn redactor_for(
    objects: &[Value],
    defaults: &BTreeMap<String, String>,
    inputs: &BTreeMap<String, String>,
) -> Redactor {
    let generated = defaults
        .iter()
        .filter(|(k, _)| !(k.ends_with("name") || k.ends_with("host")))
        .map(|(_, v)| v.clone());
    let typed = inputs
        .iter()
        .filter(|(k, _)| looks_secret(k))
        .map(|(_, v)| v.clone());
    Redactor::new(objects, generated.chain(typed))
}

/// The manifests with secrets hidden.
pub(super) fn manifests(state: &RevisionState) -> Vec<Value> {
    let r = redactor(state);
    state.manifests.iter().map(|o| r.redact(o)).collect()
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
