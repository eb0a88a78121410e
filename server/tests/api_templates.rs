//! Importing a template through the API: it is checked as `berth template check` checks a file
//! (a problem is a 422 naming its line, and nothing is stored), it is offered at once, its id
//! cannot be taken twice, and it is still offered after a restart (it lives in SQLite). Only an
//! admin may import.

mod common;

use axum::http::StatusCode;
use berth::{Config, auth::Role, kube::Cluster};
use common::api::TestApi;
use serde_json::json;

const GOOD: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: hello\nspec:\n  title: Hello\n  description: A greeting\n  categories: [demo]\n  defaults:\n    app_name:\n      type: string\n      value: hello\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  greeting: hi\n";

async fn api(dir: &std::path::Path) -> TestApi {
    let config = Config {
        db_path: dir.join("berth.db"),
        ..Config::for_tests()
    };
    TestApi::with_config(
        config,
        Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await,
    )
    .await
}

#[tokio::test]
async fn an_imported_template_is_checked_offered_and_kept_across_a_restart() {
    let dir = common::fresh_dir("import");
    let first = api(&dir).await;

    // A broken document: the error names its line, and nothing is offered.
    let broken = GOOD.replace("data:\n  greeting: hi", "data:\n  greeting: [unclosed");
    let (status, body) = first
        .post("/api/v1/templates", json!({"source": broken}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"]["line"], 19, "the greeting line: {body}");
    let (status, body) = first
        .post(
            "/api/v1/templates",
            json!({"source": GOOD.replace("name: ${{ defaults.app_name }}", "name: Not_A_Name")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Not_A_Name"),
        "{body}"
    );
    assert_eq!(
        body["details"]["line"], 14,
        "the document's first line: {body}"
    );
    let (_, list) = first.get("/api/v1/templates").await;
    assert!(
        !list.to_string().contains("\"hello\""),
        "nothing was imported: {list}"
    );

    // An operator may not import.
    let operator = first.make_token("importer", Role::Operator).await;
    let (status, _) = first
        .with_token(Some(operator))
        .post("/api/v1/templates", json!({"source": GOOD}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, info) = first
        .post("/api/v1/templates", json!({"source": GOOD}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{info}");
    assert_eq!(info["id"], "hello");
    assert_eq!(info["categories"], json!(["demo"]));
    let (status, _) = first.get("/api/v1/templates/hello").await;
    assert_eq!(status, StatusCode::OK, "offered at once");
    let (status, body) = first
        .post("/api/v1/templates", json!({"source": GOOD}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = first
        .post(
            "/api/v1/templates",
            json!({"source": GOOD.replace("name: hello", "name: posthog")}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a directory template's id is taken too: {body}"
    );
    let (status, plan) = first
        .post(
            "/api/v1/instances?dryRun=true",
            json!({"template": "hello", "namespace": "ns", "dryRun": true}),
        )
        .await;
    assert_ne!(status, StatusCode::NOT_FOUND, "it can be deployed: {plan}");
    drop(first);

    let second = api(&dir).await;
    let (status, info) = second.get("/api/v1/templates/hello").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "still offered after a restart: {info}"
    );
    assert_eq!(info["title"], "Hello");
    std::fs::remove_dir_all(dir).ok();
}
