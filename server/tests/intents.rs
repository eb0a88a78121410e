//! The change box's corpus: every request in `intents.yaml`, read against Berth's PostHog
//! instance, must give exactly its expected edits, rollback, question or refusal. Prints
//! `intent corpus: N/M exact` and fails below 100%. `INTENT_DUMP=1` prints what each request
//! gave.

mod common;

use app::model::Edit;
use berth::{
    components,
    intent::{self, Model, Outcome},
    template::RenderRequest,
};
use serde_json::{Value, json};

/// Berth's PostHog stack as the instance `posthog`, at revision 5 with 4..1 restorable.
pub fn posthog_model() -> Model {
    let template = common::posthog_template();
    let request = RenderRequest {
        app_name: Some("posthog".into()),
        seed: Some(1),
        ..Default::default()
    };
    let rendered = template.render(&request).unwrap();
    let objects: Vec<Value> = rendered.objects.iter().map(|o| o.object.clone()).collect();
    let comps = components::derive(&objects, "posthog");
    let specs: Vec<_> = comps
        .iter()
        .map(|c| (c.clone(), berth::service::spec::of(&objects, c)))
        .collect();
    let mut model = Model::new("posthog", "posthog", &specs).with_aliases(&template.group_words());
    model.has_domain = true;
    model.revision = 5;
    model.restorable = vec![4, 3, 2, 1];
    model
}

fn answer(o: &Outcome) -> Value {
    match o {
        Outcome::Change { edits, .. } => json!({"edits": edits}),
        Outcome::Rollback { to } => json!({"rollback": to}),
        Outcome::Question { choices, .. } => {
            json!({"question": choices.iter().map(|c| c.label.clone()).collect::<Vec<_>>()})
        }
        Outcome::Refusal { reason, .. } => json!({"refusal": reason}),
    }
}

fn matches(expected: &Value, got: &Outcome) -> bool {
    match (expected, got) {
        (e, Outcome::Change { edits, .. }) if e.get("edits").is_some() => {
            let want: Vec<Edit> = serde_json::from_value(e["edits"].clone()).expect("edits parse");
            &want == edits
        }
        (e, Outcome::Rollback { to }) if e.get("rollback").is_some() => e["rollback"] == json!(to),
        (e, Outcome::Question { choices, .. }) if e.get("question").is_some() => {
            let labels: Vec<String> = choices.iter().map(|c| c.label.clone()).collect();
            e["question"] == json!(labels) && choices.iter().all(|c| !c.edits.is_empty())
        }
        (e, Outcome::Refusal { reason, examples }) if e.get("refusal").is_some() => {
            reason.contains(e["refusal"].as_str().unwrap_or("\u{0}")) && examples.len() == 3
        }
        _ => false,
    }
}

#[test]
fn the_intent_corpus_is_read_exactly() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/intents.yaml"))
        .expect("corpus");
    let corpus: Vec<Value> = serde_saphyr::from_str(&text).expect("corpus parses");
    let model = posthog_model();
    let dump = std::env::var_os("INTENT_DUMP").is_some();
    let mut wrong = Vec::new();
    for case in &corpus {
        let said = case["text"].as_str().expect("text");
        let got = intent::parse(said, &model);
        if dump {
            println!("- text: {said}\n  # {}", answer(&got));
        }
        if !matches(case, &got) {
            wrong.push(format!(
                "{said:?}\n    expected {case}\n    got      {}",
                answer(&got)
            ));
        }
    }
    let exact = corpus.len() - wrong.len();
    println!("intent corpus: {exact}/{} exact", corpus.len());
    assert!(
        corpus.len() >= 250,
        "the corpus has {} requests; it needs 250",
        corpus.len()
    );
    assert!(
        wrong.is_empty(),
        "{} not exact:\n  {}",
        wrong.len(),
        wrong.join("\n  ")
    );
}

#[test]
#[ignore = "prints the model the corpus is read against"]
fn print_the_model() {
    for p in &posthog_model().parts {
        let c = p.spec.containers.first();
        println!(
            "{} {:?} replicas={:?} cpu={:?}/{:?} mem={:?}/{:?} vols={:?} image={:?}",
            p.id,
            p.card,
            p.spec.replicas,
            c.and_then(|c| c.cpu_request.clone()),
            c.and_then(|c| c.cpu_limit.clone()),
            c.and_then(|c| c.memory_request.clone()),
            c.and_then(|c| c.memory_limit.clone()),
            p.spec
                .volumes
                .iter()
                .map(|v| format!("{}={}", v.name, v.size))
                .collect::<Vec<_>>(),
            c.map(|c| c.image.clone()),
        );
    }
}
