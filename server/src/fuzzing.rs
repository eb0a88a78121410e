//! Entry points for fuzzing: each takes arbitrary bytes and must never panic, whatever they are.
//! `server/fuzz/` drives them with cargo-fuzz (nightly, libFuzzer); `tests/fuzz_corpus.rs`
//! replays the committed corpora through them on every test run.

use std::sync::LazyLock;

use app::model::Edit;
use serde_json::Value;

use crate::{
    components,
    intent::{self, MAX_CORES, MAX_MEMORY_GI, MAX_REPLICAS, Model, Outcome},
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
        .map(|t| t.aliases)
        .unwrap_or_default();
    let mut model = Model::new("ph", "posthog", &specs).with_aliases(&aliases);
    model.has_domain = true;
    model.revision = 5;
    model.restorable = vec![4, 3, 2, 1];
    model
}

static INTENT_MODEL: LazyLock<Model> = LazyLock::new(posthog_intent_model);

/// A change-box request: it never panics, and every edit it makes is within the bounds.
pub fn intent(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let quantity = |q: &Option<String>, what| {
        q.as_deref()
            .map(|q| parse_quantity(q, what).expect("a well-formed quantity"))
    };
    let check = |edits: &[Edit]| {
        for e in edits {
            match e {
                Edit::Replicas { replicas, .. } => {
                    assert!(f64::from(*replicas) <= MAX_REPLICAS, "{text:?}: {e:?}")
                }
                Edit::Resources {
                    cpu_request,
                    cpu_limit,
                    memory_request,
                    memory_limit,
                    ..
                } => {
                    for c in [quantity(cpu_request, "cpu"), quantity(cpu_limit, "cpu")]
                        .into_iter()
                        .flatten()
                    {
                        assert!(c > 0.0 && c <= MAX_CORES, "{text:?}: {e:?}");
                    }
                    for m in [
                        quantity(memory_request, "memory"),
                        quantity(memory_limit, "memory"),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        assert!(
                            m > 0.0 && m <= MAX_MEMORY_GI * 1073741824.0,
                            "{text:?}: {e:?}"
                        );
                    }
                }
                Edit::Storage { size, .. } => {
                    parse_quantity(size, "storage").expect("a well-formed size");
                }
                _ => {}
            }
        }
    };
    match intent::parse(text, &INTENT_MODEL) {
        Outcome::Change { edits, .. } => check(&edits),
        Outcome::Question { choices, .. } => {
            assert!(!choices.is_empty(), "{text:?}: a question has answers");
            for c in &choices {
                check(&c.edits);
            }
        }
        Outcome::Refusal { examples, .. } => assert_eq!(examples.len(), 3, "{text:?}"),
        Outcome::Rollback { to } => assert!(INTENT_MODEL.restorable.contains(&to)),
    }
}
