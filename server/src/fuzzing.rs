//! Entry points for fuzzing: each takes arbitrary bytes and must never panic, whatever they are.
//! `server/fuzz/` drives them with cargo-fuzz (nightly, libFuzzer); `tests/fuzz_corpus.rs`
//! replays the committed corpora through them on every test run.

use std::sync::LazyLock;

use app::model::Edit;
use serde_json::Value;

use crate::{
    components,
    intent::{self, Model, Outcome},
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

/// The change box's model of PostHog's objects (`posthog`, revision 5, 4..1 restorable).
pub fn posthog_intent_model() -> Model {
    let comps = components::derive(&POSTHOG, "ph");
    let specs: Vec<_> = comps
        .iter()
        .map(|c| (c.clone(), crate::service::spec::of(&POSTHOG, c)))
        .collect();
    let aliases = Template::parse(include_str!("../../manifests/posthog/index.yaml"))
        .map(|t| t.group_words())
        .unwrap_or_default();
    let mut model = Model::new("ph", "posthog", &specs).with_aliases(&aliases);
    model.has_domain = true;
    model.revision = 5;
    model.restorable = vec![4, 3, 2, 1];
    model
}

static INTENT_MODEL: LazyLock<Model> = LazyLock::new(posthog_intent_model);

/// A change-box request: it never panics, and every edit it makes passes [`intent::check`]: a
/// component the instance has, within the bounds, well-formed, no storage shrink.
pub fn intent(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let check = |edits: &[Edit]| {
        if let Err(why) = intent::check(edits, &INTENT_MODEL) {
            panic!("{text:?}: {why}: {edits:?}");
        }
    };
    match intent::parse(text, &INTENT_MODEL) {
        Outcome::Change { edits, .. } => check(&edits),
        Outcome::Question { choices, .. } => {
            assert!(!choices.is_empty(), "{text:?}: a question has answers");
            for c in &choices {
                match c.rollback_to {
                    Some(to) => assert!(INTENT_MODEL.restorable.contains(&to)),
                    None => check(&c.edits),
                }
            }
        }
        Outcome::Refusal { examples, .. } => assert_eq!(examples.len(), 3, "{text:?}"),
        Outcome::Rollback { to } => assert!(INTENT_MODEL.restorable.contains(&to)),
    }
}
