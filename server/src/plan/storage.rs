//! Storage never shrinks. A rollback, a re-render after an input edit or an edited manifest may ask
//! a volume claim (or a StatefulSet's claim template) for less than it has now. A volume cannot
//! give space back, so the claim keeps its size and the plan says so in a note.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::manifest;

const STORAGE: &str = "/spec/resources/requests/storage";

fn bytes(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_str)
        .and_then(|s| app::model::quantity::parse_quantity(s, "storage").ok())
}

/// The claims of an object, by name: a claim itself, or a StatefulSet's claim templates.
fn claims(o: &Value) -> Vec<(String, String)> {
    if o["kind"] == "PersistentVolumeClaim" {
        return vec![(String::new(), String::new())];
    }
    o.pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, t)| {
            let name = t["metadata"]["name"].as_str().unwrap_or_default();
            (name.to_string(), format!("/spec/volumeClaimTemplates/{i}"))
        })
        .collect()
}

/// Keeps, in `new`, every claim size that `recorded` has larger. One note for each kept.
pub fn keep_sizes(recorded: &[Value], new: &mut [Value]) -> Vec<String> {
    let key = |o: &Value| manifest::group_key(&manifest::key(o));
    let before: BTreeMap<String, &Value> = recorded.iter().map(|o| (key(o), o)).collect();
    let mut notes = Vec::new();
    for o in new.iter_mut() {
        let Some(old) = before.get(&key(o)) else {
            continue;
        };
        let old_sizes: BTreeMap<String, Value> = claims(old)
            .into_iter()
            .filter_map(|(name, at)| {
                let size = old.pointer(&format!("{at}{STORAGE}"))?.clone();
                Some((name, size))
            })
            .collect();
        for (name, at) in claims(o) {
            let pointer = format!("{at}{STORAGE}");
            let Some(kept) = old_sizes.get(&name) else {
                continue;
            };
            let asked = o.pointer(&pointer).cloned();
            if bytes(asked.as_ref())
                .zip(bytes(Some(kept)))
                .is_some_and(|(a, k)| a < k)
            {
                if let Some(slot) = o.pointer_mut(&pointer) {
                    *slot = kept.clone();
                }
                let volume = if name.is_empty() {
                    String::new()
                } else {
                    format!(" volume {name}")
                };
                notes.push(format!(
                    "{}{volume} keeps {}: storage cannot shrink ({} was asked)",
                    manifest::key(o),
                    kept.as_str().unwrap_or_default(),
                    asked.unwrap_or(json!("")).as_str().unwrap_or_default(),
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(size: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": size}}}}]}})
    }

    fn claim(size: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "files"},
            "spec": {"resources": {"requests": {"storage": size}}}})
    }

    #[test]
    fn a_smaller_size_is_kept_at_the_larger_one_with_a_note() {
        let recorded = [set("40Gi"), claim("2Gi")];
        let mut new = vec![set("20Gi"), claim("1Gi")];
        let notes = keep_sizes(&recorded, &mut new);
        assert_eq!(new, recorded.to_vec());
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0].contains("StatefulSet/db volume data keeps 40Gi"),
            "{notes:?}"
        );
        assert!(
            notes[1].contains("keeps 2Gi: storage cannot shrink (1Gi was asked)"),
            "{notes:?}"
        );
    }

    #[test]
    fn growth_and_new_objects_are_left_alone() {
        let recorded = [set("20Gi")];
        let mut new = vec![set("40Gi"), claim("1Gi")];
        assert!(keep_sizes(&recorded, &mut new).is_empty());
        assert_eq!(new, vec![set("40Gi"), claim("1Gi")]);
    }
}
