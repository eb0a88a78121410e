//! Berth never touches an object it does not own. Against the local control plane: instance
//! `ph-worker` beside instance `ph` would write `ph`'s worker Deployment (both are named
//! `ph-worker`), so it is refused with 409 naming the owner, and `ph` is untouched, before and
//! after a delete of `ph-worker`. An object Berth did not create is refused unless adopted; a
//! delete leaves alone what another instance owns; an existing namespace is never labelled; system
//! namespaces are refused.

mod common;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Namespace};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

/// Two Deployments: `<app>` and `<app>-worker`.
const PAIR: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: pair\nspec:\n  title: Pair\n  defaults:\n    app_name:\n      type: string\n      value: pair\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: ${{ defaults.app_name }}}}\n  template:\n    metadata: {labels: {app: ${{ defaults.app_name }}}}\n    spec: {containers: [{name: web, image: nginx:1.27}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}-worker\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: ${{ defaults.app_name }}-worker}}\n  template:\n    metadata: {labels: {app: ${{ defaults.app_name }}-worker}}\n    spec: {containers: [{name: worker, image: nginx:1.27}]}\n";

async fn api() -> (TestApi, std::path::PathBuf) {
    TestApi::with_template("pair", PAIR, Cluster::connect(None, None).await).await
}

/// What a takeover would change: the spec's generation, the labels and the owner (the status
/// and the controller's own annotations move on their own as KWOK's pods come up).
fn written(d: &Deployment) -> (Option<i64>, Value, Option<String>) {
    (d.metadata.generation, json!(d.metadata.labels), owner_of(d))
}

fn owner_of(d: &Deployment) -> Option<String> {
    d.metadata
        .annotations
        .as_ref()?
        .get("berth.dev/owner")
        .cloned()
}

#[tokio::test]
async fn an_instance_cannot_take_over_or_delete_another_instances_objects() {
    let (api, dir) = api().await;
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "own").await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let labels_before = namespaces.get(&ns.name).await.unwrap().metadata.labels;
    let create = |name: &str, adopt: bool| json!({"template": "pair", "namespace": ns.name, "name": name, "adopt": adopt});

    let (status, op) = api
        .post("/api/v1/instances?wait=true", create("ph", false))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let worker = deployments.get("ph-worker").await.unwrap();
    assert_eq!(
        owner_of(&worker).as_deref(),
        Some(format!("{}/ph", ns.name).as_str())
    );
    assert_eq!(
        namespaces.get(&ns.name).await.unwrap().metadata.labels,
        labels_before,
        "a namespace Berth did not create is never labelled"
    );

    // `ph-worker` would write ph's worker: refused, naming it and its owner.
    let (status, err) = api
        .post("/api/v1/instances?wait=true", create("ph-worker", false))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("Deployment/ph-worker")
            && message.contains(&format!("instance {}/ph", ns.name)),
        "{message}"
    );
    assert_eq!(
        err["details"]["notOwned"][0]["object"]["name"], "ph-worker",
        "{err}"
    );
    let (status, err) = api
        .post("/api/v1/instances?wait=true", create("ph-worker", true))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "adopting never takes another instance's: {err}"
    );
    let after = deployments.get("ph-worker").await.unwrap();
    assert_eq!(written(&after), written(&worker), "untouched");
    let (status, _) = api
        .get(&format!("/api/v1/instances/{}/ph-worker", ns.name))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing recorded");
    let (status, _) = api.delete_instance(&ns.name, "ph-worker").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let after = deployments.get("ph-worker").await.unwrap();
    assert_eq!(written(&after), written(&worker), "still untouched");

    // An object Berth did not create: refused, then adopted when asked.
    let loose = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "lone"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "lone"}},
                 "template": {"metadata": {"labels": {"app": "lone"}}, "spec": {"containers": [{"name": "x", "image": "nginx:1.27"}]}}}});
    deployments
        .patch(
            "lone",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(&loose),
        )
        .await
        .unwrap();
    let (status, err) = api
        .post("/api/v1/instances?wait=true", create("lone", false))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("Berth did not create it"),
        "{err}"
    );
    let (status, op) = api
        .post("/api/v1/instances?wait=true", create("lone", true))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let adopted = deployments.get("lone").await.unwrap();
    assert_eq!(
        owner_of(&adopted).as_deref(),
        Some(format!("{}/lone", ns.name).as_str())
    );

    // A delete leaves alone what belongs to someone else.
    let stolen = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ph-worker",
        "annotations": {"berth.dev/owner": "elsewhere/other"}}});
    deployments
        .patch(
            "ph-worker",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(&stolen),
        )
        .await
        .unwrap();
    let (status, op) = api.delete_instance(&ns.name, "ph").await;
    assert_eq!(status, StatusCode::OK, "{op}");
    let results: Vec<&Value> = op["results"].as_array().unwrap().iter().collect();
    let left = results
        .iter()
        .find(|r| r["object"]["name"] == "ph-worker")
        .unwrap();
    assert_eq!(left["action"], "unchanged", "{left}");
    assert!(
        left["message"]
            .as_str()
            .unwrap()
            .contains("elsewhere/other"),
        "{left}"
    );
    assert!(
        deployments.get_opt("ph-worker").await.unwrap().is_some(),
        "left alone"
    );
    let ph = deployments.get_opt("ph").await.unwrap();
    assert!(
        ph.is_none() || ph.unwrap().metadata.deletion_timestamp.is_some(),
        "its own objects are deleted"
    );
    ns.delete().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn system_namespaces_are_refused() {
    let (api, dir) = api().await;
    for namespace in ["kube-system", "default", "kube-public", "kube-node-lease"] {
        let (status, err) = api
            .post(
                "/api/v1/instances",
                json!({"template": "pair", "namespace": namespace, "name": "x"}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{namespace}: {err}"
        );
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("system namespace"),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
