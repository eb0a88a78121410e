//! The REST API's contract without a cluster: the OpenAPI document describes routes that exist,
//! errors are JSON with the right codes, request bodies are limited, and operations a previous
//! run left running are marked interrupted at startup.

mod common;

use axum::http::{Method, StatusCode};
use berth::{
    Config,
    kube::Cluster,
    store::{RevisionState, Sealer, Store},
};
use common::api::TestApi;
use serde_json::json;

async fn api() -> TestApi {
    TestApi::new(Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await).await
}

/// Methods a route could be called with.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn every_documented_route_exists_and_every_route_is_documented() {
    let api = api().await;
    let (status, doc) = api.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 14, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in paths {
        let concrete = common::concrete(path);
        let documented = methods.as_object().unwrap();
        for method in METHODS {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m == Method::POST).then(|| json!({}));
            let (status, body) = api.call(m.clone(), &concrete, body).await;
            if documented.contains_key(method) {
                let unrouted =
                    status == StatusCode::NOT_FOUND && body["message"] == "no such API route";
                assert!(
                    !unrouted && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but not routed ({status} {body})"
                );
            } else if path.starts_with("/api/v1") {
                // The router answers nothing the document does not describe.
                assert_eq!(
                    (status, body["error"].as_str()),
                    (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")),
                    "{method} {path} is routed but not documented"
                );
            }
        }
    }
    for undocumented in [
        "/api/v1/no-such-thing",
        "/api/v1/instances/ns/nope/secrets",
        "/api/v1/templates/x/y",
    ] {
        let (status, body) = api.get(undocumented).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{undocumented}");
        assert_eq!(body["error"], "not_found", "{undocumented}");
    }
}

#[tokio::test]
async fn the_document_describes_every_body_and_error() {
    let api = api().await;
    let (_, doc) = api.get("/api/v1/openapi.json").await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "CreateRequest",
        "CreatePlan",
        "ChangeRequest",
        "Preview",
        "Edit",
        "EnvValue",
        "OperationInfo",
        "InstanceView",
        "InstanceList",
        "RevisionList",
        "RevisionRecord",
        "RevisionDiff",
        "TemplateList",
        "TemplateInfo",
        "ServiceError",
        "TemplateWarning",
    ] {
        assert!(schemas.contains_key(name), "schema {name} is missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (code, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {code} has no description"
                );
            }
            let ok = responses
                .iter()
                .find(|(c, _)| c.starts_with('2'))
                .map(|(_, r)| r)
                .unwrap_or_else(|| panic!("{method} {path} has no success"));
            assert!(
                ok["content"].is_object(),
                "{method} {path}: its body is described"
            );
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                for code in ["400", "404", "409", "422", "503"] {
                    let e = &responses[code];
                    assert_eq!(
                        e["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ServiceError",
                        "{method} {path} {code}"
                    );
                }
            }
            if method == "post"
                && !path.ends_with("/rollback")
                && !path.ends_with("/rollback/preview")
                && !path.ends_with("/resume")
            {
                assert!(
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string(),
                    "{method} {path}: its request body is described"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_document_validates_as_openapi_3_1() {
    let api = api().await;
    let (_, doc) = api.get("/api/v1/openapi.json").await;
    let file = std::env::temp_dir().join(format!("berth-openapi-{}.json", std::process::id()));
    std::fs::write(&file, doc.to_string()).unwrap();
    let python = std::env::var("BERTH_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/berth/venv/bin/python3",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let out = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("{python} (openapi-spec-validator, installed by end2end/install-deps): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the OpenAPI document does not validate:\n{text}"
    );
    assert!(text.contains("OK"), "{text}");
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn path_query_and_method_rejections_are_json_errors() {
    let api = api().await;
    // (method, path, status, code, words the message must contain)
    let cases = [
        (
            Method::GET,
            "/api/v1/instances/x/y/revisions/abc",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "bad path",
        ),
        (
            Method::PUT,
            "/api/v1/instances",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "not allowed",
        ),
        (
            Method::GET,
            "/api/v1/instances/x/y/revisions/2/diff",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "against",
        ),
        (
            Method::GET,
            "/api/v1/instances/x/y/revisions/2/diff?against=two",
            StatusCode::BAD_REQUEST,
            "bad_request",
            "bad query",
        ),
        (
            Method::DELETE,
            "/api/v1/templates/posthog",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "not allowed",
        ),
    ];
    for (method, path, status, code, words) in cases {
        let body = (method == Method::PUT).then(|| json!({}));
        let (got, answer) = api.call(method.clone(), path, body).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{method} {path}: {answer}"
        );
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{method} {path}: {answer}");
    }
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
        .header("authorization", api.bearer())
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
    let ids: Vec<&str> = body["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["berth", "posthog"], "in id order");
    assert_eq!(
        body["templates"][1]["inputs"][0]["options"],
        json!(["kubernetes", "sealos"])
    );
}

#[tokio::test]
async fn operations_left_running_are_marked_interrupted_at_startup() {
    let dir = common::fresh_dir("interrupt");
    let config = Config {
        db_path: dir.join("berth.db"),
        secret_key: None,
        ..Config::for_tests()
    };
    let sealer = || Sealer::load(None, &config.key_file(), true).unwrap();
    let store = Store::open(&config.db_path, sealer()).await.unwrap();
    let state = RevisionState {
        manifests: vec![json!({"kind": "Secret", "stringData": {"password": "do-not-leak-this"}})],
        ..Default::default()
    };
    common::record_deploy(&store, "ns", "crashy", &state).await;
    drop(store);

    // Berth "restarts" over the same database and key file.
    let api = TestApi::with_store(
        config.clone(),
        Store::open(&config.db_path, sealer()).await.unwrap(),
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
