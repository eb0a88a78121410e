//! Conformance: every template of the upstream corpus renders with its default inputs, as Sealos
//! renders it, and every rendered document is a well-formed Kubernetes object.
//!
//! The corpus is not part of this repository (it has no licence file upstream). It is read from
//! `BERTH_TEMPLATE_CORPUS`, by default `../shared/reference/sealos-templates` beside the checkout;
//! a checkout of `labring-sigs/templates` works too (its `template/` directory). The test names
//! the directory it read and fails when it is missing.
//!
//! Five upstream templates read an input they never declare or a platform value Sealos does not
//! provide. Sealos renders those expressions as `''`, and so does Berth, with a warning; under
//! `strict` Berth refuses them. The test checks both, for exactly those five.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use berth::template::{RenderRequest, Template, parse::InputType, validate};

/// Upstream templates with expressions Sealos renders as `''`: (template, expression, why).
const RENDERED_WITH_WARNINGS: &[(&str, &str, &str)] = &[
    (
        "kaneo",
        "inputs.DATABASE_URL",
        "reads an input the template never declares",
    ),
    (
        "kodcloud",
        "SEALOS_CLOUD_PORT",
        "reads a platform value Sealos does not provide",
    ),
    (
        "lobe-chat-db",
        "inputs.ACCESS_CODE",
        "reads an input the template never declares",
    ),
    (
        "logstash",
        "inputs.elasticsearch_username",
        "the input is declared as ELASTICSEARCH_USERNAME",
    ),
    (
        "wechat2rss",
        "inputs.RSS_TOKEN",
        "reads an input the template never declares",
    ),
];

fn corpus_dir() -> PathBuf {
    std::env::var_os("BERTH_TEMPLATE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/reference/sealos-templates")
        })
}

fn template_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "the template corpus is not at {} ({e}); set BERTH_TEMPLATE_CORPUS to a checkout of labring-sigs/templates (its template/ directory)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("index.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Renders one template with the values a person must type, leniently or strictly: the number of
/// objects and the warnings.
fn render(dir: &std::path::Path, name: &str, strict: bool) -> Result<(usize, Vec<String>), String> {
    let text = std::fs::read_to_string(dir.join(name).join("index.yaml")).expect("readable");
    let t = Template::parse(&text).map_err(|e| e.to_string())?;
    let out = t
        .render(&RenderRequest {
            inputs: values_for_required_inputs(&t),
            seed: Some(1),
            strict,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    for obj in &out.objects {
        validate::check_object(obj).map_err(|e| e.to_string())?;
    }
    Ok((
        out.objects.len(),
        out.warnings.iter().map(ToString::to_string).collect(),
    ))
}

#[test]
fn every_corpus_template_renders_as_sealos_renders_it() {
    let dir = corpus_dir();
    let names = template_names(&dir);
    println!(
        "template corpus: {} ({} templates)",
        dir.display(),
        names.len()
    );
    assert!(
        names.len() >= 214,
        "the corpus at {} has only {} templates",
        dir.display(),
        names.len()
    );
    let mut rendered = 0;
    let mut documents = 0;
    let mut failures = Vec::new();
    let mut warned: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in &names {
        match render(&dir, name, false) {
            Ok((n, warnings)) => {
                rendered += 1;
                documents += n;
                if !warnings.is_empty() {
                    warned.insert(name.clone(), warnings);
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    let warnings: usize = warned.values().map(Vec::len).sum();
    for (name, ws) in &warned {
        for w in ws {
            println!("warning: {name}: {w}");
        }
    }
    println!("rendered {rendered}/{} ({warnings} warnings)", names.len());
    println!("{documents} documents in all");
    assert!(
        failures.is_empty(),
        "{} templates failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(rendered, names.len());
    let expected: BTreeSet<&str> = RENDERED_WITH_WARNINGS.iter().map(|(n, ..)| *n).collect();
    assert_eq!(
        warned.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected,
        "exactly the known templates render with warnings"
    );
    for (name, expr, why) in RENDERED_WITH_WARNINGS {
        assert!(
            warned[*name]
                .iter()
                .any(|w| w.contains(&format!("`{expr}`")) && w.ends_with("rendered as \"\"")),
            "{name} ({why}) warns about `{expr}`: {:?}",
            warned[*name]
        );
    }
}

#[test]
fn strict_rendering_refuses_exactly_the_templates_that_warn() {
    let dir = corpus_dir();
    let names = template_names(&dir);
    let refused: BTreeMap<String, String> = names
        .iter()
        .filter_map(|n| render(&dir, n, true).err().map(|e| (n.clone(), e)))
        .collect();
    for (name, expr, _) in RENDERED_WITH_WARNINGS {
        let err = refused
            .get(*name)
            .unwrap_or_else(|| panic!("{name} must be refused under strict"));
        assert!(err.contains(&format!("`{expr}`")), "{name}: {err}");
    }
    assert_eq!(
        refused.len(),
        RENDERED_WITH_WARNINGS.len(),
        "only those are refused: {refused:#?}"
    );
}

/// Where each corpus template's rendered output is recorded, as `name source-sha256 output-sha256`
/// lines (seed 1, default inputs). Rendering changes (typed substitution, the JavaScript engine)
/// must leave every line as it is; `BERTH_UPDATE_DIGESTS=1` rewrites the file after a change that
/// is meant to alter output.
const DIGESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/snapshots/template_corpus.digests"
);

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The digest of everything a render produces: objects, input defaults and warnings.
fn output_digest(dir: &std::path::Path, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(dir.join(name).join("index.yaml")).expect("readable");
    let t = Template::parse(&text).expect("the corpus parses");
    let out = t
        .render(&RenderRequest {
            inputs: values_for_required_inputs(&t),
            seed: Some(1),
            ..Default::default()
        })
        .expect("the corpus renders");
    let objects: Vec<_> = out.objects.iter().map(|o| (&o.object, o.line)).collect();
    let warnings: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
    let all = serde_json::json!({
        "objects": objects,
        "inputDefaults": out.input_defaults,
        "defaults": out.defaults,
        "warnings": warnings,
    });
    (sha256(text.as_bytes()), sha256(all.to_string().as_bytes()))
}

#[test]
fn every_corpus_template_renders_exactly_as_recorded() {
    let dir = corpus_dir();
    let now: Vec<(String, String, String)> = template_names(&dir)
        .into_iter()
        .map(|n| {
            let (source, output) = output_digest(&dir, &n);
            (n, source, output)
        })
        .collect();
    if std::env::var_os("BERTH_UPDATE_DIGESTS").is_some() {
        let lines: String = now
            .iter()
            .map(|(n, s, o)| format!("{n} {s} {o}\n"))
            .collect();
        std::fs::write(DIGESTS, lines).expect("digests written");
    }
    let recorded: BTreeMap<String, (String, String)> = std::fs::read_to_string(DIGESTS)
        .expect("the recorded digests")
        .lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            Some((
                parts.next()?.to_string(),
                (parts.next()?.to_string(), parts.next()?.to_string()),
            ))
        })
        .collect();
    let mut compared = 0;
    let mut changed = Vec::new();
    for (name, source, output) in &now {
        // A different corpus checkout has different sources: only the same source compares.
        let Some((was_source, was_output)) = recorded.get(name) else {
            continue;
        };
        if was_source != source {
            continue;
        }
        compared += 1;
        if was_output != output {
            changed.push(name.as_str());
        }
    }
    println!(
        "compared {compared}/{} renders with the recorded digests",
        now.len()
    );
    assert!(
        changed.is_empty(),
        "these templates render differently now: {changed:?}"
    );
    assert!(compared > 0, "no corpus template matches a recorded source");
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
