//! The `sealos` variant of PostHog needs the KubeBlocks and object-storage operators' CRDs. On a
//! cluster without them it fails in preflight, naming them, with nothing applied; once they are
//! installed it applies, and its database and storage cards say they wait for the operator.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use berth::cluster::Cluster;
use common::api::TestApi;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams},
    discovery::ApiResource,
    runtime::wait::{await_condition, conditions},
};
use serde_json::json;

const CRDS: [&str; 3] = [
    "app.sealos.io_apps.yaml",
    "apps.kubeblocks.io_clusters.yaml",
    "objectstorage.sealos.io_objectstoragebuckets.yaml",
];

async fn crd_names() -> Vec<(String, serde_json::Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference/crds");
    CRDS.iter()
        .map(|f| {
            let crd: serde_json::Value =
                serde_saphyr::from_str(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap())
                    .unwrap();
            (crd["metadata"]["name"].as_str().unwrap().to_string(), crd)
        })
        .collect()
}

async fn remove_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for (name, _) in crd_names().await {
        if api.get_opt(&name).await.unwrap().is_some() {
            api.delete(&name, &DeleteParams::default()).await.unwrap();
            tokio::time::timeout(Duration::from_secs(60), async {
                while api.get_opt(&name).await.unwrap().is_some() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
            .await
            .expect("crd removed");
        }
    }
}

async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for (name, crd) in crd_names().await {
        api.patch(
            &name,
            &PatchParams::apply("berth-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .unwrap()
        .unwrap();
    }
    // Discovery caches in the API server settle quickly but not instantly.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn sealos_variant_preflight_then_apply_with_the_crds() {
    let client = common::cluster_client().await;
    remove_crds(&client).await;
    let ns = common::TestNamespace::create(&client, "sealos").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let body = json!({"template": "posthog", "namespace": ns.name, "name": "phs", "inputs": {"platform": "sealos"}});

    // Without the operators' CRDs: a preflight error naming them, nothing applied
    let (status, err) = api.post("/api/v1/instances?wait=true", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let message = err["message"].as_str().unwrap();
    for needle in [
        "Cluster (apps.kubeblocks.io/v1alpha1)",
        "ObjectStorageBucket (objectstorage.sealos.io/v1)",
        "App (app.sealos.io/v1)",
        "clusters.apps.kubeblocks.io",
        "nothing was applied",
    ] {
        assert!(message.contains(needle), "{needle} in {message}");
    }
    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), &ns.name);
    assert!(
        configmaps
            .list(&ListParams::default().labels("berth.dev/instance=phs"))
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing was applied"
    );
    let (_, list) = api.get("/api/v1/instances").await;
    assert_eq!(list["instances"], json!([]), "no instance recorded");

    // With them: it applies, and the operator-backed cards wait for their operators
    install_crds(&client).await;
    let (status, op) = api.post("/api/v1/instances?wait=true", body).await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let clusters: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns.name,
        &ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("apps.kubeblocks.io", "v1alpha1", "Cluster"),
            "clusters",
        ),
    );
    assert_eq!(
        clusters
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        2,
        "pg and redis clusters exist"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, view) = api.get(&format!("/api/v1/instances/{}/phs", ns.name)).await;
        let card = |id: &str| {
            view["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .cloned()
                .unwrap()
        };
        let waiting = ["pg", "redis", "storage"].iter().all(|id| {
            let c = card(id);
            c["health"]["state"] == "Progressing"
                && c["health"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("waiting for operator")
        });
        if waiting {
            assert_eq!(card("pg")["card"], "database");
            assert_eq!(card("storage")["card"], "storage");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cards never said they wait for the operator: {view}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (status, _) = api
        .call(
            axum::http::Method::DELETE,
            &format!("/api/v1/instances/{}/phs", ns.name),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    ns.delete().await;
}
