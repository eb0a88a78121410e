//! Conformance: every template of the upstream corpus (`../shared/reference/sealos-templates/`)
//! renders with its default inputs, and every rendered document is a well-formed Kubernetes
//! object. Upstream templates that are themselves broken are listed with the reason.

use std::path::PathBuf;

use std::collections::BTreeMap;

use berth::template::{RenderRequest, Template, parse::InputType, validate};

/// Upstream templates that cannot render as written, and why. Each must still fail: when one is
/// fixed upstream, the test says so and it leaves this list.
const BROKEN_UPSTREAM: &[(&str, &str)] = &[
    (
        "kaneo",
        "line 200 reads inputs.DATABASE_URL, which the template never declares (Sealos renders it as '')",
    ),
    (
        "kodcloud",
        "line 212 reads SEALOS_CLOUD_PORT, which the Sealos platform does not provide (Sealos renders it as '')",
    ),
    (
        "lobe-chat-db",
        "line 278 reads inputs.ACCESS_CODE, which the template never declares",
    ),
    (
        "logstash",
        "line 50 reads inputs.elasticsearch_username; the input is declared as ELASTICSEARCH_USERNAME",
    ),
    (
        "wechat2rss",
        "line 84 reads inputs.RSS_TOKEN, which the template never declares",
    ),
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/sealos-templates")
}

#[test]
fn every_corpus_template_renders_to_well_formed_objects() {
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus at {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("index.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut rendered = 0;
    let mut documents = 0;
    let mut failures = Vec::new();
    let mut filled = 0;
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name).join("index.yaml")).expect("readable");
        let result = Template::parse(&text).and_then(|t| {
            let inputs = values_for_required_inputs(&t);
            filled += usize::from(!inputs.is_empty());
            let out = t.render(&RenderRequest {
                inputs,
                seed: Some(1),
                ..Default::default()
            })?;
            for obj in &out.objects {
                validate::check_object(obj)?;
            }
            Ok(out.objects.len())
        });
        let broken = BROKEN_UPSTREAM.iter().find(|(n, _)| n == name);
        match (result, broken) {
            (Ok(n), None) => {
                rendered += 1;
                documents += n;
            }
            (Err(e), Some(_)) => println!("known broken upstream: {name}: {e}"),
            (Ok(_), Some((_, why))) => failures.push(format!(
                "{name} renders now; remove it from BROKEN_UPSTREAM ({why})"
            )),
            (Err(e), None) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "rendered {rendered}/{} ({documents} documents; {filled} needed a value for a required input without a default; {} known broken upstream)",
        names.len(),
        BROKEN_UPSTREAM.len()
    );
    assert!(
        failures.is_empty(),
        "{} templates failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(rendered + BROKEN_UPSTREAM.len(), names.len());
    assert!(
        names.len() >= 214,
        "the corpus has {} templates",
        names.len()
    );
}

/// What a person filling the deploy form must type: a value for each required input that has no
/// default (a user name, a password, an API key). Everything else keeps its default.
fn values_for_required_inputs(t: &Template) -> BTreeMap<String, String> {
    t.inputs
        .iter()
        .filter(|i| i.required && i.default.is_empty())
        .map(|i| {
            let v = match i.kind {
                InputType::Number => "1".to_string(),
                InputType::Boolean => "true".to_string(),
                InputType::Choice => i.options[0].clone(),
                InputType::String => "berth-test-value".to_string(),
            };
            (i.name.clone(), v)
        })
        .collect()
}
