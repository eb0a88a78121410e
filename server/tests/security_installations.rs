//! Two Berths with different databases on one cluster never see or touch each other's objects.
//! Against the local control plane: each installation labels what it applies with its own id and
//! its watches select on it; the other one cannot take the same instance over (not even with
//! `adopt`), does not cache it, and leaves it alone when pruning or deleting.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

/// A Deployment, and a ConfigMap that the `extra` input can drop.
const DUO: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: duo\nspec:\n  title: Duo\n  defaults:\n    app_name:\n      type: string\n      value: duo\n  inputs:\n    extra:\n      description: Add a ConfigMap\n      type: boolean\n      default: 'true'\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: '${{ defaults.app_name }}'}}\n  template:\n    metadata: {labels: {app: '${{ defaults.app_name }}'}}\n    spec: {containers: [{name: web, image: nginx:1.27}]}\n---\n${{ if(inputs.extra === 'true') }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}-extra\ndata:\n  hello: world\n${{ endif() }}\n";

const LABEL: &str = "berth.dev/installation";

fn installation(api: &TestApi) -> String {
    api.state.service.store().installation().to_string()
}

/// What another Berth could have changed: the spec's generation, the labels and the owner (the
/// Deployment controller adds annotations of its own).
fn written(d: &Deployment) -> (Option<i64>, Value, Value) {
    let annotations = d.metadata.annotations.clone().unwrap_or_default();
    (
        d.metadata.generation,
        json!(d.metadata.labels),
        json!(annotations.get("berth.dev/owner")),
    )
}

/// Waits until `api`'s watches hold the Deployment `name`.
async fn watched(api: &TestApi, namespace: &str, name: &str) {
    let watches = api.state.service.watches().expect("watches run");
    for _ in 0..100 {
        if watches.get("Deployment", namespace, name).await.is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the watches never showed Deployment {namespace}/{name}");
}

#[tokio::test]
async fn two_installations_never_see_or_touch_each_others_objects() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "installs").await;
    let (a, dir_a) = TestApi::with_template("duo", DUO, Cluster::connect(None, None).await).await;
    let (b, dir_b) = TestApi::with_template("duo", DUO, Cluster::connect(None, None).await).await;
    let (id_a, id_b) = (installation(&a), installation(&b));
    assert_ne!(id_a, id_b, "each database has its own installation id");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let create = |name: &str, adopt: bool| json!({"template": "duo", "namespace": ns.name, "name": name, "adopt": adopt});

    // A deploys `duo`: every object and its pod template carry A's id.
    let (status, op) = a
        .post("/api/v1/instances?wait=true", create("duo", false))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let theirs = deployments.get("duo").await.unwrap();
    let labels = theirs.metadata.labels.clone().unwrap();
    assert_eq!(labels.get(LABEL), Some(&id_a));
    let pod_labels = theirs.spec.clone().template.metadata;
    assert_eq!(
        pod_labels
            .and_then(|m| m.labels?.get(LABEL).cloned())
            .as_ref(),
        Some(&id_a),
        "pods carry it too, so the pod watch selects them"
    );
    let stored = a
        .get(&format!("/api/v1/instances/{}/duo/revisions/1", ns.name))
        .await;
    assert!(
        !stored.1.to_string().contains(&id_a),
        "history is installation-neutral: the id is added as objects are applied"
    );

    // B does not list it, and cannot take it over, even when asked to adopt.
    let (_, listed) = b.get("/api/v1/instances").await;
    assert!(
        !listed.to_string().contains(&format!("\"{}\"", ns.name)),
        "{listed}"
    );
    for adopt in [false, true] {
        let (status, err) = b
            .post("/api/v1/instances?wait=true", create("duo", adopt))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "adopt={adopt}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("another Berth installation ({id_a})")),
            "{message}"
        );
    }
    assert_eq!(
        written(&deployments.get("duo").await.unwrap()),
        written(&theirs),
        "untouched"
    );

    // B deploys its own instance beside it. Each installation's watches hold only its own.
    let (status, op) = b
        .post("/api/v1/instances?wait=true", create("duo-b", false))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    watched(&a, &ns.name, "duo").await;
    watched(&b, &ns.name, "duo-b").await;
    let (wa, wb) = (
        a.state.service.watches().unwrap(),
        b.state.service.watches().unwrap(),
    );
    for kind in ["Deployment", "Pod"] {
        assert!(
            wb.of_instance(kind, &ns.name, "duo").await.is_empty(),
            "B caches no {kind} of A"
        );
        assert!(
            wa.of_instance(kind, &ns.name, "duo-b").await.is_empty(),
            "A caches no {kind} of B"
        );
    }
    assert!(wb.get("Deployment", &ns.name, "duo").await.is_none());

    // Something hands B's ConfigMap to A. B's prune, then B's delete, leave it alone.
    let handed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "duo-b-extra", "labels": {LABEL: id_a}}});
    configmaps
        .patch(
            "duo-b-extra",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(&handed),
        )
        .await
        .unwrap();
    let base = format!("/api/v1/instances/{}/duo-b", ns.name);
    let edits = json!([{"type": "input", "name": "extra", "value": "false"}]);
    let (status, preview) = b.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let (status, op) = b.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    let left = op["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"]["name"] == "duo-b-extra")
        .cloned()
        .unwrap_or_default();
    assert_eq!(left["action"], "unchanged", "{op}");
    assert!(
        left["message"].as_str().unwrap_or_default().contains(&id_a),
        "{left}"
    );
    assert!(
        configmaps.get_opt("duo-b-extra").await.unwrap().is_some(),
        "not pruned"
    );
    let (status, op) = b.delete_instance(&ns.name, "duo-b").await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert!(
        configmaps.get_opt("duo-b-extra").await.unwrap().is_some(),
        "not deleted"
    );
    let gone = deployments.get_opt("duo-b").await.unwrap();
    assert!(
        gone.is_none() || gone.unwrap().metadata.deletion_timestamp.is_some(),
        "B's own Deployment is deleted"
    );
    assert_eq!(
        written(&deployments.get("duo").await.unwrap()),
        written(&theirs),
        "A's instance is untouched throughout"
    );
    let (status, view) = a.get(&format!("/api/v1/instances/{}/duo", ns.name)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(installation(&b), id_b, "the id stays put");
    ns.delete().await;
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
}
