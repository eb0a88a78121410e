//! `/healthz` and the UI when the cluster is unreachable, and when it is the local control plane.
//! The router is driven in-process, with the store in memory.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use berth::{
    AppState, Config,
    kube::Cluster,
    store::{Sealer, Store},
};
use serde_json::Value;
use tower::ServiceExt;

async fn state_with(cluster: Cluster) -> AppState {
    let config = Config::for_tests();
    let sealer = Sealer::load(config.secret_key.as_deref(), &config.key_file()).expect("key");
    let store = Store::open(&config.db_path, sealer)
        .await
        .expect("in-memory store");
    AppState::assemble(&config, store, cluster)
        .await
        .expect("state")
}

async fn get(state: AppState, path: &str) -> (StatusCode, String) {
    let response = berth::http::router(state)
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn with_an_unreachable_cluster_berth_serves_its_page_and_reports_the_cluster_down() {
    let cluster = Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await;
    let state = state_with(cluster).await;

    let (status, body) = get(state.clone(), "/healthz").await;
    assert_eq!(status, StatusCode::OK, "Berth itself is usable: {body}");
    let health: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["database"]["ok"], true);
    assert_eq!(health["cluster"]["reachable"], false);
    assert_eq!(health["cluster"]["server"], "https://127.0.0.1:1/");
    let reason = health["cluster"]["reason"].as_str().expect("a reason");
    assert!(
        reason.contains("did not answer"),
        "reason names the failure: {reason}"
    );

    let (status, page) = get(state, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<title>Berth</title>"), "{page}");
    assert!(page.contains("No instances yet"));
}

#[tokio::test]
async fn a_missing_kubeconfig_is_reported_with_its_path() {
    let cluster = Cluster::connect(
        Some(std::path::Path::new("/nonexistent/berth/kubeconfig")),
        None,
    )
    .await;
    let (_, body) = get(state_with(cluster).await, "/healthz").await;
    let health: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(health["cluster"]["reachable"], false);
    assert!(
        health["cluster"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("/nonexistent/berth/kubeconfig"),
        "{body}"
    );
}

#[tokio::test]
async fn against_the_local_control_plane_the_cluster_is_reachable() {
    let cluster = Cluster::connect(None, None).await;
    let (status, body) = get(state_with(cluster).await, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let health: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(health["status"], "ok", "{body}");
    assert_eq!(health["cluster"]["reachable"], true);
    assert!(
        health["cluster"]["version"]
            .as_str()
            .unwrap_or_default()
            .starts_with("v1."),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_path_is_a_404_page() {
    let cluster = Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await;
    let (status, page) = get(state_with(cluster).await, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}
