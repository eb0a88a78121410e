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
    let sealer = Sealer::load(config.secret_key.as_deref(), &config.key_file(), true).expect("key");
    let store = Store::open(&config.db_path, sealer)
        .await
        .expect("in-memory store");
    AppState::assemble(&config, store, cluster)
        .await
        .expect("state")
}

async fn get(state: AppState, path: &str) -> (StatusCode, String) {
    get_with(state, path, None).await
}

/// A GET, with a session cookie when given.
async fn get_with(state: AppState, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(path.to_string());
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    // A render that never ends fails here, by name, instead of holding the whole run.
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        berth::http::router(state).oneshot(req.body(Body::empty()).expect("request")),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {path} got no answer within 60 s"))
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

    let (status, _) = get(state.clone(), "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "pages need a session");
    let cookie = sign_in(&state).await;
    let (status, page) = get_with(state, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<title>Berth</title>"), "{page}");
    assert!(page.contains("No instances yet"));
}

/// Signs in with a new viewer token through the one-time login URL: the session cookie.
async fn sign_in(state: &AppState) -> String {
    let token = berth::auth::create_token(
        state.service.store(),
        "page-viewer",
        berth::auth::Role::Viewer,
    )
    .await
    .expect("token");
    let response = berth::http::router(state.clone())
        .oneshot(
            Request::get(format!("/login?token={}", token.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().expect("name=value").to_string()
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
    let state = state_with(cluster).await;
    let cookie = sign_in(&state).await;
    let (status, page) = get_with(state, "/no/such/page", Some(&cookie)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"));
}

/// A probe as a kubelet sends it: no token, and the pod's address as the host.
async fn probe(state: AppState, path: &str) -> (StatusCode, Value) {
    let response = berth::http::router(state)
        .oneshot(
            Request::get(path)
                .header("host", "10.244.3.7:8080")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[tokio::test]
async fn livez_is_the_process_and_readyz_needs_the_store_and_a_configured_cluster() {
    let unreachable = Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await;
    let state = state_with(unreachable).await;
    let (status, body) = probe(state.clone(), "/livez").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = probe(state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "the cluster does not answer");

    // No cluster configured at all: deliberately degraded, still ready to serve its history.
    let none = Cluster::connect(
        Some(std::path::Path::new("/nonexistent/berth/kubeconfig")),
        None,
    )
    .await;
    let (status, body) = probe(state_with(none).await, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let local = Cluster::connect(None, None).await;
    let (status, body) = probe(state_with(local).await, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
