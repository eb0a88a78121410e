//! Rendering: defaults, inputs, directives, lenient and strict expressions, documents.

use super::*;

fn template(body: &str) -> Template {
    let cr = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: demo\nspec:\n  title: Demo\n  defaults:\n    app_name:\n      type: string\n      value: demo-${{ random(8) }}\n    db_url:\n      type: string\n      value: pg://${{ defaults.app_name }}-pg:5432\n    password:\n      type: string\n      value: ${{ random(16) }}\n  inputs:\n    replicas:\n      description: Replicas\n      type: number\n      default: '1'\n      required: true\n    tier:\n      description: Tier\n      type: choice\n      default: small\n      options: [small, large]\n      required: true\n    debug:\n      description: Debug\n      type: boolean\n      default: 'false'\n      required: false\n";
    Template::parse(&format!("{cr}---\n{body}")).expect("template parses")
}

fn req(seed: u64) -> RenderRequest {
    RenderRequest {
        seed: Some(seed),
        ..Default::default()
    }
}

fn strict(seed: u64) -> RenderRequest {
    RenderRequest {
        strict: true,
        ..req(seed)
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}\n  namespace: ${{ SEALOS_NAMESPACE }}\nspec:\n  replicas: ${{ inputs.replicas }}\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: DB\n              value: ${{ defaults.db_url }}\n            - name: PORT\n              value: 8080\n            - name: DEBUG\n              value: ${{ inputs.debug }}\n            ${{ if(inputs.tier === 'large') }}\n            - name: LARGE\n              value: 'yes'\n            ${{ endif() }}\n";

#[test]
fn renders_defaults_that_use_other_defaults_and_stringifies_env() {
    let t = template(DEPLOYMENT);
    let out = t
        .render(&RenderRequest {
            platform: [("SEALOS_NAMESPACE".to_string(), "ns-alice".to_string())].into(),
            ..req(1)
        })
        .unwrap();
    let app = &out.defaults["app_name"];
    assert!(app.starts_with("demo-") && app.len() == 13, "{app}");
    assert_eq!(out.defaults["db_url"], format!("pg://{app}-pg:5432"));
    assert_eq!(out.platform["SEALOS_SERVICE_ACCOUNT"], "alice");
    assert_eq!(out.objects.len(), 1);
    let d = &out.objects[0];
    assert_eq!(d.line, 35, "the document starts right after the CR");
    assert_eq!(d.object["metadata"]["name"], app.as_str());
    assert_eq!(d.object["metadata"]["namespace"], "ns-alice");
    assert_eq!(
        d.object["spec"]["replicas"], 1,
        "an unquoted number stays a number outside env"
    );
    let env = d.object["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert_eq!(env.len(), 3);
    assert_eq!(env[1]["value"], "8080");
    assert_eq!(env[2]["value"], "false");
}

#[test]
fn the_same_seed_renders_the_same_and_another_seed_does_not() {
    let t = template(DEPLOYMENT);
    let a = t.render(&req(5)).unwrap();
    let b = t.render(&req(5)).unwrap();
    let c = t.render(&req(6)).unwrap();
    assert_eq!(a.objects, b.objects);
    assert_eq!(a.defaults, b.defaults);
    assert_ne!(a.defaults["password"], c.defaults["password"]);
}

#[test]
fn inputs_select_branches_and_are_validated() {
    let t = template(DEPLOYMENT);
    let large = t
        .render(&RenderRequest {
            inputs: [("tier".into(), "large".into())].into(),
            ..req(1)
        })
        .unwrap();
    let env = large.objects[0].object["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(env.last().unwrap()["name"], "LARGE");

    let bad = |k: &str, v: &str| {
        t.render(&RenderRequest {
            inputs: [(k.to_string(), v.to_string())].into(),
            ..req(1)
        })
        .unwrap_err()
    };
    assert_eq!(
        bad("tier", "huge").to_string(),
        "input `tier`: expected one of small, large, got \"huge\""
    );
    assert_eq!(
        bad("replicas", "2 gigs").to_string(),
        "input `replicas`: expected a number, got \"2 gigs\""
    );
    // The deploy form shares this rule (`model::number`): no infinity, however it is spelled.
    for not_finite in ["inf", "1e400"] {
        assert!(
            bad("replicas", not_finite)
                .to_string()
                .contains("expected a number"),
            "{not_finite}"
        );
    }
    assert_eq!(
        bad("debug", "yes").to_string(),
        "input `debug`: expected 'true' or 'false', got \"yes\""
    );
    assert!(
        bad("colour", "red")
            .to_string()
            .contains("unknown input; this template takes: replicas, tier, debug")
    );
}

#[test]
fn an_instance_name_replaces_app_name_everywhere() {
    let t = template(DEPLOYMENT);
    let out = t
        .render(&RenderRequest {
            app_name: Some("my-posthog".into()),
            ..req(1)
        })
        .unwrap();
    assert_eq!(out.defaults["app_name"], "my-posthog");
    assert_eq!(out.defaults["db_url"], "pg://my-posthog-pg:5432");
    assert_eq!(out.objects[0].object["metadata"]["name"], "my-posthog");
}

#[test]
fn strictly_a_failing_expression_names_itself_and_its_line_and_never_renders_undefined() {
    let t = template(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${{ inputs.nope }}\n",
    );
    let err = t.render(&strict(1)).unwrap_err();
    assert_eq!(err.line(), Some(40));
    let TemplateError::Expression { expr, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(expr, "inputs.nope");
    assert!(message.contains("undefined"), "{message}");

    let t = template(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name.nope.deeper }}\n",
    );
    let err = t.render(&strict(1)).unwrap_err();
    assert_eq!(err.line(), Some(38));
    assert!(
        err.to_string()
            .contains("`defaults.app_name.nope.deeper` failed"),
        "{err}"
    );
}

#[test]
fn by_default_failing_expressions_render_as_sealos_renders_them_with_a_warning() {
    let text = "kind: Template\nmetadata: {name: x}\nspec:\n  defaults:\n    app_name:\n      value: x\n    url:\n      value: http://${{ inputs.host }}/\n  inputs:\n    port:\n      type: string\n      default: ${{ defaults.nope.deeper }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  a: \"${{ inputs.undeclared }}\"\n  b: \"${{ SEALOS_CLOUD_PORT }}\"\n  c: \"${{ defaults.url }}\"\n  ${{ if(nope.really) }}\n  d: hidden\n  ${{ endif() }}\n";
    let t = Template::parse(text).unwrap();
    let out = t.render(&req(1)).unwrap();
    let data = &out.objects[0].object["data"];
    assert_eq!(
        data["a"], "",
        "an undeclared input is empty in the resources"
    );
    assert_eq!(data["b"], "", "an unknown platform value is empty");
    assert_eq!(
        data["c"], "http://undefined/",
        "a failing expression in a default is the text undefined"
    );
    assert!(data.get("d").is_none(), "a throwing condition is false");
    assert_eq!(out.input_defaults["port"], "undefined");
    let seen: Vec<(usize, &str, &str)> = out
        .warnings
        .iter()
        .map(|w| (w.line, w.expr.as_str(), w.rendered_as.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (7, "inputs.host", "undefined"),
            (10, "defaults.nope.deeper", "undefined"),
            (22, "nope.really", "false"),
            (19, "inputs.undeclared", ""),
            (20, "SEALOS_CLOUD_PORT", ""),
        ],
        "{:#?}",
        out.warnings
    );
    assert!(out.warnings[3].message.contains("undefined"));
    assert!(
        out.warnings[4].message.contains("ReferenceError"),
        "{}",
        out.warnings[4]
    );

    let err = t.render(&strict(1)).unwrap_err();
    assert_eq!(err.line(), Some(7), "strict refuses the first one: {err}");
}

#[test]
fn the_sandbox_budget_is_an_error_even_when_rendering_leniently() {
    let t = template(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${{ (function(){ while (true) {} })() }}\n",
    );
    let err = t.render(&req(1)).unwrap_err();
    assert_eq!(err.line(), Some(40), "{err}");
}

#[test]
fn multiple_documents_empty_ones_and_comments() {
    let t = template(
        "# a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n---\n",
    );
    let out = t.render(&req(1)).unwrap();
    let names: Vec<_> = out
        .objects
        .iter()
        .map(|o| {
            (
                o.object["metadata"]["name"].as_str().unwrap().to_string(),
                o.line,
            )
        })
        .collect();
    assert_eq!(names, [("a".to_string(), 37), ("b".to_string(), 44)]);
}

#[test]
fn malformed_rendered_yaml_names_the_template_line() {
    let t = template(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: [unclosed\n  j: 1\n",
    );
    let err = t.render(&req(1)).unwrap_err();
    assert!(matches!(err, TemplateError::Yaml { .. }), "{err:?}");
    let line = err.line().unwrap();
    assert!((39..=41).contains(&line), "line {line}: {err}");
}

#[test]
fn a_cycle_between_defaults_is_an_error() {
    let text = "kind: Template\nmetadata: {name: x}\nspec:\n  defaults:\n    a:\n      value: ${{ defaults.b }}\n    b:\n      value: ${{ defaults.a }}\n---\n";
    let err = Template::parse(text).unwrap().render(&req(1)).unwrap_err();
    assert!(err.to_string().contains("cycle: a, b"), "{err}");
    assert_eq!(err.line(), Some(5));
}

#[test]
fn a_default_may_refer_to_one_declared_later() {
    let text = "kind: Template\nmetadata: {name: x}\nspec:\n  defaults:\n    url:\n      value: http://${{ defaults.host }}\n    host:\n      value: h-${{ random(4) }}\n---\n";
    let out = Template::parse(text).unwrap().render(&req(3)).unwrap();
    assert_eq!(
        out.defaults["url"],
        format!("http://{}", out.defaults["host"])
    );
}

#[test]
fn a_required_input_hidden_by_its_condition_is_not_required() {
    let text = "kind: Template\nmetadata: {name: x}\nspec:\n  inputs:\n    smtp:\n      type: boolean\n      default: 'false'\n    smtp_host:\n      type: string\n      required: true\n      if: inputs.smtp === 'true'\n---\n";
    let t = Template::parse(text).unwrap();
    assert!(t.render(&req(1)).is_ok());
    let err = t
        .render(&RenderRequest {
            inputs: [("smtp".into(), "true".into())].into(),
            ..req(1)
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "input `smtp_host`: is required");
}

/// A template with one free-text input, used in a plain scalar, a quoted one and a block scalar.
fn free_text_template(pattern: &str) -> Template {
    let cr = format!(
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: t\nspec:\n  title: T\n  inputs:\n    storage_class:\n      description: StorageClass\n      type: string\n      default: standard\n{pattern}"
    );
    let body = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  annotations:\n    note: \"${{ inputs.storage_class }}\"\n    config: |\n      class=${{ inputs.storage_class }}\nspec:\n  storageClassName: ${{ inputs.storage_class }}\n  accessModes: [ReadWriteOnce]\n";
    Template::parse(&format!("{cr}---\n{body}")).expect("template parses")
}

fn with_input(name: &str, value: &str) -> RenderRequest {
    RenderRequest {
        inputs: [(name.to_string(), value.to_string())].into(),
        ..req(1)
    }
}

#[test]
fn a_typed_value_stays_one_string_and_cannot_add_keys() {
    let t = free_text_template("");
    for value in [
        "x\n  volumeMode: Block",
        "x\nvolumeMode: Block",
        "fast: ssd",
        "fast #ssd",
        "\"fast\"",
        "[a, b]",
    ] {
        let out = t.render(&with_input("storage_class", value)).unwrap();
        let pvc = &out.objects[0].object;
        assert_eq!(pvc["spec"]["storageClassName"], value, "{value:?}");
        assert_eq!(pvc["metadata"]["annotations"]["note"], value, "{value:?}");
        assert_eq!(
            pvc["metadata"]["annotations"]["config"],
            format!("class={value}\n"),
            "{value:?}"
        );
        let keys: Vec<&String> = pvc["spec"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["storageClassName", "accessModes"], "{value:?}");
    }
}

#[test]
fn plain_typed_values_keep_their_yaml_type() {
    let t = template(DEPLOYMENT);
    let out = t.render(&with_input("replicas", "3")).unwrap();
    assert_eq!(out.objects[0].object["spec"]["replicas"], 3);
}

#[test]
fn an_input_pattern_is_checked_and_named_in_the_error() {
    let t = free_text_template("      pattern: '[a-z0-9]([-a-z0-9.]*[a-z0-9])?'\n");
    let err = t
        .render(&with_input("storage_class", "x\n  volumeMode: Block"))
        .unwrap_err();
    assert!(
        matches!(&err, TemplateError::Input { name, message } if name == "storage_class" && message.contains("does not match the pattern")),
        "{err}"
    );
    assert!(t.render(&with_input("storage_class", "fast-ssd")).is_ok());
    // The pattern must match the whole value, not a part of it.
    assert!(t.render(&with_input("storage_class", "ok value")).is_err());
    let bad = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: t\nspec:\n  inputs:\n    x:\n      type: string\n      pattern: '[unclosed'\n---\n";
    let err = Template::parse(bad).unwrap_err().to_string();
    assert!(err.contains("pattern") && err.contains("`x`"), "{err}");
}

/// Many documents are parsed on several threads: the objects still come in the file's order, with
/// their own lines, and of two broken documents the first in the file is the one reported.
#[test]
fn many_documents_keep_their_order_and_the_first_error_is_reported() {
    let config_map = |i: usize| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  i: '{i}'\n")
    };
    let body: Vec<String> = (0..40).map(config_map).collect();
    let t = template(&body.join("---\n"));
    let out = t.render(&req(1)).unwrap();
    let names: Vec<&str> = out
        .objects
        .iter()
        .map(|o| o.object["metadata"]["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..40).map(|i| format!("cm-{i}")).collect();
    assert_eq!(names, expected);
    let lines: Vec<usize> = out.objects.iter().map(|o| o.line).collect();
    assert!(lines.windows(2).all(|w| w[1] == w[0] + 7), "{lines:?}");

    let mut broken = body.clone();
    broken[11] = "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n".into();
    broken[33] = "apiVersion: v1\nkind: [also broken\n".into();
    let err = template(&broken.join("---\n")).render(&req(1)).unwrap_err();
    let TemplateError::Yaml { line, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        (lines[11]..lines[12]).contains(&line),
        "line {line}, document 11 spans {}..{}",
        lines[11],
        lines[12]
    );
}
