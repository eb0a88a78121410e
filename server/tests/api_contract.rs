//! The REST API's contract without a cluster: the OpenAPI document describes routes that exist,
//! errors are JSON with the right codes, request bodies are limited, and operations a previous
//! run left running are marked interrupted at startup.

mod common;

use axum::http::{Method, StatusCode};
use berth::{
    Config,
    cluster::Cluster,
    engine::{history::RevisionState, seal::Sealer},
    store::Store,
};
use common::api::TestApi;
use serde_json::json;

async fn api() -> TestApi {
    TestApi::new(Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await).await
}

#[tokio::test]
async fn every_documented_route_exists() {
    let api = api().await;
    let (status, doc) = api.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 13);
    for (path, methods) in paths {
        let concrete = path
            .replace("{namespace}", "ns")
            .replace("{name}", "nope")
            .replace("{number}", "1")
            .replace("{id}", "ns:nope:1");
        let concrete = if concrete.ends_with("/diff") {
            format!("{concrete}?against=1")
        } else {
            concrete
        };
        for method in methods.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m == Method::POST).then(|| json!({}));
            let (status, body) = api.call(m.clone(), &concrete, body).await;
            let unrouted =
                status == StatusCode::NOT_FOUND && body["message"] == "no such API route";
            assert!(
                !unrouted && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed ({status} {body})"
            );
        }
    }
    let (status, body) = api.get("/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let api = api().await;
    let (status, body) = api.get("/api/v1/templates/nope").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, body) = api.get("/api/v1/instances/ns/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains("ns/nope"));

    let (status, body) = api.post("/api/v1/instances", json!({"template": 7})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "colour": "red"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused: {body}"
    );
    let (status, body) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": "Bad_NS"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("namespace \"Bad_NS\" is invalid")
    );

    let req = axum::http::Request::post("/api/v1/instances")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(api.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let big = json!({"template": "posthog", "inputs": {"x": "y".repeat(2 << 20)}});
    let (status, _) = api.post("/api/v1/instances", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body) = api.get("/api/v1/templates").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["templates"][0]["id"], "posthog");
    assert_eq!(
        body["templates"][0]["inputs"][0]["options"],
        json!(["kubernetes", "sealos"])
    );
}

#[tokio::test]
async fn operations_left_running_are_marked_interrupted_at_startup() {
    let dir = std::env::temp_dir().join(format!("berth-interrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        db_path: dir.join("berth.db"),
        secret_key: None,
        ..Config::for_tests()
    };
    let store = Store::open(&config.db_path).await.unwrap();
    let history = berth::engine::history::History::new(
        store.pool().clone(),
        Sealer::load(None, &config.key_file()).unwrap(),
    );
    history
        .create_instance("ns", "crashy", "posthog", "me")
        .await
        .unwrap();
    let state = RevisionState {
        manifests: vec![json!({"kind": "Secret", "stringData": {"password": "do-not-leak-this"}})],
        ..Default::default()
    };
    history
        .begin_revision(
            "ns",
            "crashy",
            "deploy",
            "me",
            None,
            &json!({}),
            &[],
            &state,
        )
        .await
        .unwrap();
    drop(history);

    // Berth "restarts" over the same database and key file.
    let api = TestApi::with_store(
        config.clone(),
        Store::open(&config.db_path).await.unwrap(),
        Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await,
    )
    .await;
    let (status, body) = api.get("/api/v1/instances/ns/crashy/revisions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["revisions"][0]["status"], "interrupted", "{body}");
    assert!(
        body["revisions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("stopped")
    );
    let (_, op) = api.get("/api/v1/operations/ns:crashy:1").await;
    assert_eq!(op["status"], "interrupted");

    // The key file is private and the sealed state does not hold the secret in the clear.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(config.key_file())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let raw = std::fs::read(&config.db_path).unwrap();
    let wal = std::fs::read(dir.join("berth.db-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !bytes.windows(16).any(|w| w == b"do-not-leak-this"),
            "the database holds a secret in the clear"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
