//! The `sealos` variant of PostHog needs the KubeBlocks and object-storage operators' CRDs. On a
//! cluster without them it fails in preflight, naming them, with nothing applied; once they are
//! installed it applies, and its database and storage cards say they wait for the operator.
//!
//! On the `sealos` platform Berth also creates Sealos's `Instance` CR and labels every object
//! (and every StatefulSet claim template) `cloud.sealos.io/deploy-on-sealos`, so that Sealos's
//! console sees the instance; the `kubernetes` variant has neither.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use kube::{Api, api::ListParams};
use serde_json::json;

#[tokio::test]
async fn sealos_variant_preflight_then_apply_with_the_crds() {
    let client = common::cluster_client().await;
    common::remove_fixture_crds(&client).await;
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
        "Instance (app.sealos.io/v1)",
        "clusters.apps.kubeblocks.io",
        "instances.app.sealos.io",
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

    // With them: the dry-run plan has Sealos's Instance first and the label everywhere
    common::install_fixture_crds(&client).await;
    let mut plan_body = body.clone();
    plan_body["dryRun"] = json!(true);
    let (status, plan) = api.post("/api/v1/instances", plan_body).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let manifests = plan["manifests"].as_array().unwrap();
    let instance = &manifests[0];
    assert_eq!(instance["apiVersion"], "app.sealos.io/v1", "{instance}");
    assert_eq!(instance["kind"], "Instance");
    assert_eq!(instance["metadata"]["name"], "phs");
    assert_eq!(instance["spec"]["title"], "PostHog");
    assert!(instance["spec"]["defaults"]["app_name"]["value"] == "phs");
    assert!(instance["spec"]["inputs"]["platform"]["type"] == "choice");
    for m in manifests {
        assert_eq!(
            m["metadata"]["labels"]["cloud.sealos.io/deploy-on-sealos"], "phs",
            "{}/{}",
            m["kind"], m["metadata"]["name"]
        );
        for claim in m["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                claim["metadata"]["labels"]["cloud.sealos.io/deploy-on-sealos"], "phs",
                "claim template of {}",
                m["metadata"]["name"]
            );
        }
    }
    let dry_run = plan["dryRun"].as_array().unwrap();
    assert_eq!(dry_run.len(), manifests.len());
    assert!(
        dry_run.iter().all(|r| r["action"] != "failed"),
        "the apiserver accepts every object, the Instance included: {dry_run:?}"
    );
    assert_eq!(
        plan["warnings"],
        json!([]),
        "PostHog renders without warnings"
    );
    let (status, k8s_plan) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "phk", "dryRun": true, "inputs": {"platform": "kubernetes"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{k8s_plan}");
    let k8s = k8s_plan["manifests"].as_array().unwrap();
    assert!(k8s.iter().all(|m| m["kind"] != "Instance"));
    assert!(
        !k8s_plan
            .to_string()
            .contains("cloud.sealos.io/deploy-on-sealos"),
        "the kubernetes variant carries no Sealos label"
    );

    // It applies, the Instance included, and the operator-backed cards wait for their operators
    let (status, op) = api.post("/api/v1/instances?wait=true", body).await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let instances = common::dynamic_api(
        &client,
        &ns.name,
        ("app.sealos.io", "v1", "Instance", "instances"),
    );
    let live = instances.get("phs").await.expect("the Instance exists");
    assert_eq!(
        live.metadata.labels.unwrap_or_default()["cloud.sealos.io/deploy-on-sealos"],
        "phs"
    );
    let clusters = common::dynamic_api(
        &client,
        &ns.name,
        ("apps.kubeblocks.io", "v1alpha1", "Cluster", "clusters"),
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
        let card = |id: &str| common::card(&view, id);
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
    let (status, _) = api.delete_instance(&ns.name, "phs").await;
    assert_eq!(status, StatusCode::OK);
    ns.delete().await;
}
