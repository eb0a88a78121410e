//! Every variant reads back what serde's derive writes, with the tag first or last, and a wrong
//! object is refused with serde's own words.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::model::{Edit, EnvValue, HintAction, IntentAnswer, Progress};

/// `value` as JSON text with `tag` written last (the derived writer puts it first).
fn tag_last(value: &Value, tag: &str) -> String {
    let map = value.as_object().expect("an object");
    let mut parts: Vec<String> = map
        .iter()
        .filter(|(k, _)| k.as_str() != tag)
        .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
        .collect();
    parts.push(format!("{}:{}", Value::from(tag), map[tag]));
    format!("{{{}}}", parts.join(","))
}

/// Reads `written` (tag first, then tag last) and checks that writing it again gives it back.
fn reads_back<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    tag: &str,
    written: Value,
) {
    let first: T = serde_json::from_value(written.clone()).unwrap_or_else(|e| {
        panic!("{written} did not read: {e}");
    });
    assert_eq!(
        serde_json::to_value(&first).unwrap(),
        written,
        "written again"
    );
    let text = tag_last(&written, tag);
    let alone = written.as_object().is_some_and(|m| m.len() == 1);
    assert!(
        alone || !text.starts_with(&format!("{{\"{tag}\"")),
        "{text}"
    );
    let last: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(last, first, "{text}");
}

fn refusal<T: DeserializeOwned + std::fmt::Debug>(written: Value) -> String {
    serde_json::from_value::<T>(written.clone())
        .map(|v| panic!("{written} was read as {v:?}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn every_edit_reads_back_what_serde_writes_whatever_the_order() {
    for edit in [
        json!({"type": "replicas", "component": "capture", "replicas": 3}),
        json!({"type": "resources", "component": "worker", "memoryLimit": "1Gi"}),
        json!({"type": "resources", "component": "worker", "container": "c", "cpuRequest": "1",
               "cpuLimit": "2", "memoryRequest": "1Gi", "memoryLimit": "2Gi"}),
        json!({"type": "env", "component": "web", "name": "A",
               "value": {"kind": "value", "value": "1"}}),
        json!({"type": "env", "component": "web", "container": "c", "name": "A", "secret": true,
               "value": {"kind": "value", "value": "s"}}),
        json!({"type": "env", "component": "web", "name": "A",
               "value": {"kind": "secretRef", "secret": "s", "key": "k"}}),
        json!({"type": "env", "component": "web", "name": "A", "value": {"kind": "unset"}}),
        json!({"type": "storage", "component": "clickhouse", "size": "20Gi"}),
        json!({"type": "storage", "component": "clickhouse", "volume": "data", "size": "20Gi"}),
        json!({"type": "image", "component": "web", "image": "1.2.3"}),
        json!({"type": "image", "component": "web", "container": "c", "image": "r/n:t"}),
        json!({"type": "domain", "host": "ph.example.com"}),
        json!({"type": "restart", "component": "web"}),
        json!({"type": "restart", "component": "web", "at": 4}),
        json!({"type": "pause", "component": "web"}),
        json!({"type": "resume", "component": "web"}),
        json!({"type": "input", "name": "domain", "value": "x"}),
        json!({"type": "manifest", "object": {"kind": "Deployment", "name": "web"},
               "mergePatch": {"metadata": {"annotations": {"a": "b"}}}}),
        json!({"type": "manifest", "object": {"kind": "Deployment", "name": "web"},
               "mergePatch": null}),
    ] {
        reads_back::<Edit>("type", edit);
    }
    for value in [
        json!({"kind": "value", "value": "1"}),
        json!({"kind": "secretRef", "secret": "s", "key": "k"}),
        json!({"kind": "unset"}),
    ] {
        reads_back::<EnvValue>("kind", value);
    }
}

#[test]
fn the_other_tagged_enums_read_back_what_serde_writes() {
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
    let preview = json!({"baseRevision": 2, "diff": "-a\n+b\n", "changed": [object], "prune": [],
        "dryRun": [{"object": object, "action": "configured"}], "drift": [], "planHash": "h",
        "warnings": [], "notes": ["n"]});
    for answer in [
        json!({"outcome": "change", "edits": [{"type": "pause", "component": "web"}],
               "summary": "pause web", "preview": preview}),
        json!({"outcome": "change", "edits": [], "summary": "roll back", "rollbackTo": 1,
               "preview": preview}),
        json!({"outcome": "question", "question": "Which?",
               "choices": [{"label": "web", "edits": [{"type": "pause", "component": "web"}]}]}),
        json!({"outcome": "refusal", "reason": "no", "examples": ["scale web to 2"]}),
    ] {
        reads_back::<IntentAnswer>("outcome", answer);
    }
    for progress in [
        json!({"type": "object", "instance": "ns/ph", "revision": 3,
               "result": {"object": object, "action": "failed", "message": "refused"}}),
        json!({"type": "finished", "instance": "ns/ph", "revision": 3, "status": "succeeded",
               "message": "done"}),
    ] {
        reads_back::<Progress>("type", progress);
    }
    for action in [
        json!({"kind": "restart", "component": "web"}),
        json!({"kind": "logs", "components": ["web", "worker"]}),
    ] {
        reads_back::<HintAction>("kind", action);
    }
}

#[test]
fn a_wrong_object_is_refused_in_serdes_words() {
    let e = refusal::<Edit>(json!({"component": "web", "replicas": 2}));
    assert_eq!(e, "missing field `type`");
    let e = refusal::<Edit>(json!(["replicas", "web", 2]));
    assert_eq!(
        e,
        "invalid type: sequence, expected an edit (an object with a `type`)"
    );
    let e = refusal::<Edit>(json!(2));
    assert_eq!(
        e,
        "invalid type: integer `2`, expected an edit (an object with a `type`)"
    );
    let e = refusal::<Edit>(json!({"type": "scale", "component": "web"}));
    assert!(
        e.starts_with("unknown variant `scale`, expected one of `replicas`"),
        "{e}"
    );
    let e = refusal::<Edit>(json!({"type": "replicas", "component": "web"}));
    assert_eq!(e, "missing field `replicas`");
    let e = refusal::<Edit>(json!({"type": "replicas", "replicas": 2}));
    assert_eq!(e, "missing field `component`");
    let e = refusal::<Edit>(json!({"type": "replicas", "component": "web", "replicas": "2"}));
    assert!(
        e.starts_with("invalid type: string \"2\", expected u32"),
        "{e}"
    );
    let e = refusal::<Edit>(
        json!({"type": "manifest", "object": {"kind": "Deployment", "name": "web"}}),
    );
    assert_eq!(e, "missing field `mergePatch`");
    // `value` is an object for a variable and a text for an input.
    let e = refusal::<Edit>(json!({"type": "env", "component": "web", "name": "A", "value": "1"}));
    assert!(
        e.starts_with("invalid type: string \"1\", expected an object"),
        "{e}"
    );
    let e = refusal::<Edit>(json!({"type": "input", "name": "a", "value": {"kind": "unset"}}));
    assert!(e.starts_with("invalid type: map, expected a text"), "{e}");
    let e = refusal::<Edit>(json!({"type": "env", "component": "web", "name": "A",
                                   "value": {"kind": "secretRef", "secret": "s"}}));
    assert_eq!(e, "missing field `key`");
    let e = refusal::<Edit>(json!({"type": "env", "component": "web", "name": "A", "value": 1}));
    assert!(
        e.starts_with("invalid type: integer `1`, expected a text"),
        "{e}"
    );
    // A field of another variant is ignored, as the derived reader did.
    let pause: Edit =
        serde_json::from_value(json!({"type": "pause", "component": "web", "replicas": 2}))
            .unwrap();
    assert_eq!(
        pause,
        Edit::Pause {
            component: "web".into()
        }
    );

    let e = refusal::<IntentAnswer>(json!({"outcome": "refusal", "reason": "no"}));
    assert_eq!(e, "missing field `examples`");
    let e = refusal::<Progress>(json!({"type": "finished", "instance": "a/b", "revision": 1,
                                       "status": "succeeded"}));
    assert_eq!(e, "missing field `message`");
    let e = refusal::<HintAction>(json!({"kind": "logs"}));
    assert_eq!(e, "missing field `components`");
}
