//! Environment edits: set, reference or unset a variable in a workload's containers.
//!
//! A value marked `secret` never sits in the workload: it is kept in a Secret that Berth owns, one
//! per component, named `<workload>-berth-env` with one key per variable, and the containers
//! reference it (`valueFrom.secretKeyRef`). Unsetting the variable, or setting it to a plain value
//! or another reference, takes its key out of that Secret, and the Secret goes (and is pruned)
//! once it holds no key.

use app::model::{Component, EnvValue};
use base64::Engine as _;
use serde_json::{Value, json};

use super::edits::{ChangeError, containers};

/// The name of the Secret holding a workload's secret variables.
pub fn secret_name(workload: &str) -> String {
    format!("{workload}-berth-env")
}

/// Applies one environment edit to the workload at `objects[index]` (component `c`).
pub(super) fn apply(
    objects: &mut Vec<Value>,
    index: usize,
    c: &Component,
    container: Option<&str>,
    var: &str,
    value: &EnvValue,
    secret: bool,
) -> Result<(), ChangeError> {
    if var.is_empty()
        || !var
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '-')
    {
        return Err(ChangeError::Invalid(format!(
            "`{var}` is not a valid environment variable name"
        )));
    }
    let store = secret_name(&c.primary.name);
    let entry = match (value, secret) {
        (EnvValue::Value { value }, false) => Some(json!({"name": var, "value": value})),
        (EnvValue::Value { .. }, true) => {
            Some(json!({"name": var, "valueFrom": {"secretKeyRef": {"name": store, "key": var}}}))
        }
        (EnvValue::SecretRef { secret, key }, false) => {
            Some(json!({"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}))
        }
        (EnvValue::SecretRef { .. }, true) => {
            return Err(ChangeError::Invalid(
                "`secret` applies to a literal value; a secretRef already keeps the value in a Secret".into(),
            ));
        }
        (EnvValue::Unset, _) => None,
    };
    for ctr in containers(&mut objects[index], container, &c.id)? {
        let env = ctr.entry("env").or_insert_with(|| json!([]));
        let list = env
            .as_array_mut()
            .ok_or_else(|| ChangeError::Invalid("env is not a list".into()))?;
        match (list.iter().position(|e| e["name"] == var), entry.clone()) {
            (Some(p), Some(e)) => list[p] = e,
            (None, Some(e)) => list.push(e),
            (Some(p), None) => {
                list.remove(p);
            }
            (None, None) => {}
        }
    }
    let kept = match value {
        EnvValue::Value { value } if secret => Some(value.as_str()),
        _ => None,
    };
    set_secret_key(objects, &store, var, kept)
}

/// Puts `key` into (or, with `None`, takes it out of) Berth's Secret `name`, creating it on the
/// first key and removing it with the last.
fn set_secret_key(
    objects: &mut Vec<Value>,
    name: &str,
    key: &str,
    value: Option<&str>,
) -> Result<(), ChangeError> {
    let position = objects
        .iter()
        .position(|o| o["kind"] == "Secret" && o["metadata"]["name"] == name);
    if let Some(p) = position
        && objects[p]["metadata"]["annotations"]["berth.dev/env-for"].is_null()
    {
        return Err(ChangeError::Invalid(format!(
            "the template already has a Secret named {name}; Berth cannot keep secret variables there"
        )));
    }
    match (position, value) {
        (None, None) => {}
        (None, Some(v)) => objects.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "annotations": {"berth.dev/env-for": name}},
            "type": "Opaque",
            "data": {key: encode(v)},
        })),
        (Some(p), value) => {
            let data = objects[p]
                .as_object_mut()
                .map(|o| o.entry("data").or_insert_with(|| json!({})))
                .and_then(Value::as_object_mut)
                .ok_or_else(|| ChangeError::Invalid(format!("Secret {name} has no data map")))?;
            match value {
                Some(v) => {
                    data.insert(key.to_string(), Value::String(encode(v)));
                }
                None => {
                    data.remove(key);
                }
            }
            if data.is_empty() {
                objects.remove(p);
            }
        }
    }
    Ok(())
}

fn encode(v: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
}

#[cfg(test)]
mod tests {
    use app::model::Edit;

    use super::*;
    use crate::plan::apply_edits;

    fn web() -> Vec<Value> {
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x-web"},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}),
        ]
    }

    fn env(name: &str, value: EnvValue, secret: bool) -> Edit {
        Edit::Env {
            component: "web".into(),
            container: None,
            name: name.into(),
            value,
            secret,
        }
    }

    fn literal(v: &str) -> EnvValue {
        EnvValue::Value { value: v.into() }
    }

    fn run(objects: &mut Vec<Value>, edits: &[Edit]) -> Result<(), ChangeError> {
        let comps = crate::components::derive(objects, "x");
        apply_edits(objects, &comps, edits)
    }

    #[test]
    fn a_secret_value_goes_into_berths_secret_and_is_referenced() {
        let mut o = web();
        run(
            &mut o,
            &[
                env("BILLING", literal("acct-1"), true),
                env("MODE", literal("fast"), false),
            ],
        )
        .unwrap();
        let container = &o[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["env"],
            json!([
                {"name": "BILLING", "valueFrom": {"secretKeyRef": {"name": "x-web-berth-env", "key": "BILLING"}}},
                {"name": "MODE", "value": "fast"},
            ])
        );
        assert!(
            !o[0].to_string().contains("acct-1"),
            "the workload never holds the value"
        );
        assert_eq!(o[1]["kind"], "Secret");
        assert_eq!(o[1]["metadata"]["name"], "x-web-berth-env");
        assert_eq!(o[1]["data"], json!({"BILLING": encode("acct-1")}));

        // Setting it again is a setter; a second secret adds a key.
        run(
            &mut o,
            &[
                env("BILLING", literal("acct-2"), true),
                env("OTHER", literal("o"), true),
            ],
        )
        .unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(
            o[1]["data"],
            json!({"BILLING": encode("acct-2"), "OTHER": encode("o")})
        );

        // Made plain, or unset, the key leaves the Secret; the last key takes the Secret with it.
        run(&mut o, &[env("BILLING", literal("visible"), false)]).unwrap();
        assert_eq!(o[1]["data"], json!({"OTHER": encode("o")}));
        run(&mut o, &[env("OTHER", EnvValue::Unset, false)]).unwrap();
        assert_eq!(o.len(), 1, "the empty Secret is gone: {o:?}");
    }

    #[test]
    fn a_secret_reference_cannot_be_secret_and_a_template_secret_is_not_taken_over() {
        let mut o = web();
        let reference = EnvValue::SecretRef {
            secret: "s".into(),
            key: "k".into(),
        };
        assert!(run(&mut o, &[env("A", reference, true)]).is_err());
        o.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x-web-berth-env"}, "data": {}}));
        let err = run(&mut o, &[env("A", literal("v"), true)]).unwrap_err();
        assert!(err.to_string().contains("already has a Secret"), "{err}");
    }
}
