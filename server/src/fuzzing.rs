//! Entry points for fuzzing: each takes arbitrary bytes and must never panic, whatever they are.
//! `server/fuzz/` drives them with cargo-fuzz (nightly, libFuzzer); `tests/fuzz_corpus.rs`
//! replays the committed corpora through them on every test run.

use std::sync::LazyLock;

use app::model::Edit;
use serde_json::Value;

use crate::{
    components,
    plan::{apply_edits, quantity::parse_quantity},
    template::{RenderRequest, Template, validate},
};

/// A template file: parsed, then rendered leniently and strictly with a fixed seed.
pub fn render(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = Template::parse(text) else {
        return;
    };
    for strict in [false, true] {
        let request = RenderRequest {
            seed: Some(1),
            strict,
            ..Default::default()
        };
        if let Ok(rendered) = template.render(&request) {
            for o in &rendered.objects {
                let _ = validate::check_object(o);
            }
        }
    }
}

/// A quantity, as CPU, memory and storage.
pub fn quantity(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for what in ["cpu", "memory", "storage"] {
        if let Ok(n) = parse_quantity(text, what) {
            assert!(n.is_finite() && n >= 0.0, "{text:?} parsed as {n}");
        }
    }
}

/// PostHog's objects (rendered once), for the edits to work on.
static POSTHOG: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let text = include_str!("../../manifests/posthog/index.yaml");
    let request = RenderRequest {
        seed: Some(1),
        app_name: Some("ph".into()),
        ..Default::default()
    };
    Template::parse(text)
        .and_then(|t| t.render(&request))
        .map(|r| r.objects.into_iter().map(|o| o.object).collect())
        .unwrap_or_default()
});

/// A change set as JSON, applied to PostHog's objects.
pub fn edits(data: &[u8]) {
    let Ok(edits) = serde_json::from_slice::<Vec<Edit>>(data) else {
        return;
    };
    let mut objects = POSTHOG.clone();
    let comps = components::derive(&objects, "ph");
    let _ = apply_edits(&mut objects, &comps, &edits);
}
