//! The template sandbox has limits a template cannot get around. Through the API, a template whose
//! expression builds a 2^30-character string, and one with an endless loop, are each refused in
//! under 3 s with a 422 that names the expression's line, and the server answers the next request
//! at once. Rendering happens before anything reaches the cluster, so no cluster is needed.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use serde_json::json;

fn template(expression: &str) -> String {
    format!(
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: runaway\nspec:\n  title: Runaway\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runaway\ndata:\n  value: ${{{{ {expression} }}}}\n"
    )
}

async fn refused_quickly(expression: &str, says: &str) {
    let text = template(expression);
    let (api, dir) =
        TestApi::with_template("runaway", &text, Cluster::connect(None, None).await).await;
    let started = Instant::now();
    let (status, body) = api
        .post(
            "/api/v1/instances",
            json!({"template": "runaway", "namespace": "sandbox", "name": "runaway"}),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("line 13"),
        "names the expression's line: {message}"
    );
    assert!(message.contains(says), "{message}");
    assert!(took < Duration::from_secs(3), "{expression} took {took:?}");
    println!("{expression}: refused in {took:?}: {message}");

    let started = Instant::now();
    let (status, _) = api.get("/api/v1/templates").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the server still answers"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_string_of_two_to_the_thirty_characters_is_refused_in_time() {
    refused_quickly(
        "(function () { var s = 'x'; for (var i = 0; i < 30; i++) s += s; return s; })()",
        "sandbox limit",
    )
    .await;
    refused_quickly("'x'.repeat(Math.pow(2, 30))", "sandbox limit").await;
}

#[tokio::test]
async fn an_endless_loop_is_refused_at_the_time_limit() {
    refused_quickly(
        "(function () { while (true) {} })()",
        "ran longer than 2000 ms",
    )
    .await;
}
