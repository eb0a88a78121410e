//! Planning without a cluster or a database: replicas, a re-render that keeps the generated
//! passwords and the edits in effect, prune of a removed object, and a stable plan hash.

use std::collections::BTreeMap;

use app::model::Edit;
use serde_json::Value;

use super::*;
use crate::template::{RenderRequest, Template, TemplateError};

const TEMPLATE: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: demo\nspec:\n  title: Demo\n  defaults:\n    app_name:\n      type: string\n      value: demo\n    password:\n      type: string\n      value: ${{ random(24) }}\n  inputs:\n    cache:\n      type: boolean\n      default: 'true'\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}-web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: web\n          image: demo/web:1\n          env:\n            - name: DB_PASSWORD\n              value: ${{ defaults.password }}\n            - name: CACHE\n              value: ${{ inputs.cache }}\n${{ if(inputs.cache === 'true') }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}-cache\ndata:\n  size: 1Gi\n${{ endif() }}\n";

fn template() -> Template {
    Template::parse(TEMPLATE).expect("parses")
}

/// Renders as the service does: the instance name, the recorded defaults kept.
fn render_with(
    defaults: &BTreeMap<String, String>,
) -> impl FnOnce(&BTreeMap<String, String>) -> Result<Rerendered, TemplateError> + '_ {
    move |inputs| {
        let r = template().render(&RenderRequest {
            inputs: inputs.clone(),
            app_name: Some("demo".into()),
            fixed_defaults: defaults.clone(),
            ..Default::default()
        })?;
        Ok(Rerendered {
            objects: r.objects.into_iter().map(|o| o.object).collect(),
            defaults: r.defaults,
            warnings: r.warnings,
        })
    }
}

/// Revision 1 as a deploy records it.
fn recorded() -> RevisionState {
    let r = render_with(&BTreeMap::new())(&BTreeMap::new()).expect("renders");
    let mut manifests = r.objects;
    let comps = crate::components::derive(&manifests, "demo");
    crate::manifest::label(&mut manifests, &comps, "demo", "ns");
    RevisionState {
        inputs: BTreeMap::new(),
        defaults: r.defaults,
        edits: Vec::new(),
        manifests,
    }
}

fn no_render(_: &BTreeMap<String, String>) -> Result<Rerendered, TemplateError> {
    panic!("no input changed: nothing is rendered")
}

fn plan(state: &RevisionState, edits: &[Edit]) -> Plan {
    plan_change(1, state, edits, "demo", "ns", render_with(&state.defaults)).expect("plans")
}

fn env(o: &Value, name: &str) -> String {
    o["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn replicas_change_exactly_one_object_and_render_nothing() {
    let state = recorded();
    let edits = [Edit::Replicas {
        component: "web".into(),
        replicas: 3,
    }];
    let p = plan_change(1, &state, &edits, "demo", "ns", no_render).expect("plans");
    assert_eq!(p.changed.len(), 1);
    assert_eq!(p.changed[0]["metadata"]["name"], "demo-web");
    assert_eq!(p.changed[0]["spec"]["replicas"], 3);
    assert!(p.prune.is_empty());
    assert_eq!(p.state.edits, edits);
    assert_eq!(p.state.defaults, state.defaults);
    assert_eq!(p.state.manifests.len(), state.manifests.len());
    assert_eq!(
        p.changed[0]["metadata"]["labels"]["berth.dev/instance"], "demo",
        "the desired objects carry Berth's labels"
    );
}

#[test]
fn an_input_re_render_keeps_the_generated_password_and_earlier_edits() {
    let state = recorded();
    let password = state.defaults["password"].clone();
    assert_eq!(password.len(), 24);
    let scaled = plan(
        &state,
        &[Edit::Replicas {
            component: "web".into(),
            replicas: 4,
        }],
    );
    let p = plan(
        &scaled.state,
        &[Edit::Input {
            name: "cache".into(),
            value: "false".into(),
        }],
    );
    let web = &p.state.manifests[0];
    assert_eq!(
        env(web, "DB_PASSWORD"),
        password,
        "the same generated password"
    );
    assert_eq!(env(web, "CACHE"), "false");
    assert_eq!(
        web["spec"]["replicas"], 4,
        "the earlier edit stays in effect"
    );
    assert_eq!(p.state.inputs["cache"], "false");
}

#[test]
fn an_object_the_new_inputs_drop_is_pruned() {
    let state = recorded();
    let p = plan(
        &state,
        &[Edit::Input {
            name: "cache".into(),
            value: "false".into(),
        }],
    );
    let pruned: Vec<&str> = p
        .prune
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(pruned, ["demo-cache"]);
    assert!(p.state.manifests.iter().all(|o| o["kind"] != "ConfigMap"));
    let back = plan(
        &p.state,
        &[Edit::Input {
            name: "cache".into(),
            value: "true".into(),
        }],
    );
    assert!(back.prune.is_empty());
    assert!(
        back.changed.iter().any(|o| o["kind"] == "ConfigMap"),
        "it comes back as a change"
    );
}

#[test]
fn the_plan_hash_is_stable_and_names_exactly_one_plan() {
    let state = recorded();
    let edits = |n| {
        [Edit::Replicas {
            component: "web".into(),
            replicas: n,
        }]
    };
    let a = plan(&state, &edits(3));
    assert_eq!(
        a.plan_hash,
        plan(&state, &edits(3)).plan_hash,
        "same plan, same hash"
    );
    assert_eq!(a.plan_hash.len(), 16);
    assert_ne!(a.plan_hash, plan(&state, &edits(4)).plan_hash);
    let other_base = plan_change(2, &state, &edits(3), "demo", "ns", no_render).unwrap();
    assert_ne!(
        a.plan_hash, other_base.plan_hash,
        "the base revision is part of it"
    );
}

#[test]
fn bad_edits_are_refused_before_anything_is_planned() {
    let state = recorded();
    assert!(matches!(
        plan_change(1, &state, &[], "demo", "ns", no_render),
        Err(PlanError::Empty)
    ));
    let unknown = plan_change(
        1,
        &state,
        &[Edit::Replicas {
            component: "nope".into(),
            replicas: 1,
        }],
        "demo",
        "ns",
        no_render,
    );
    assert!(matches!(
        unknown,
        Err(PlanError::Edit(ChangeError::UnknownComponent { .. }))
    ));
    let bad_input = plan_change(
        1,
        &state,
        &[Edit::Input {
            name: "cache".into(),
            value: "maybe".into(),
        }],
        "demo",
        "ns",
        render_with(&state.defaults),
    );
    assert!(matches!(
        bad_input,
        Err(PlanError::Render(TemplateError::Input { .. }))
    ));
}

#[test]
fn a_rollback_plan_prunes_what_the_target_did_not_have() {
    let state = recorded();
    let without = plan(
        &state,
        &[Edit::Input {
            name: "cache".into(),
            value: "false".into(),
        }],
    );
    let back = plan_rollback(2, &without.state, &state, "demo");
    assert_eq!(back.state, state);
    assert!(back.prune.is_empty());
    assert!(back.changed.iter().any(|o| o["kind"] == "ConfigMap"));
    let forward = plan_rollback(3, &state, &without.state, "demo");
    assert_eq!(forward.prune.len(), 1);
}
