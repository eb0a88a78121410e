//! The change box through the API, against the local control plane: a request becomes edits with
//! the same preview `changes/preview` gives, and confirming that preview applies it; restart,
//! pause and resume reach the cluster; a rollback is previewed; gibberish is refused with
//! examples, and nothing changes.

mod common;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use serde_json::{Value, json};

async fn ask(api: &TestApi, base: &str, text: &str) -> Value {
    let (status, answer) = api
        .post(&format!("{base}/intents"), json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::OK, "{text}: {answer}");
    answer
}

/// Asks, expects a change, confirms its preview through `changes` and waits.
async fn ask_and_apply(api: &TestApi, base: &str, text: &str) -> Value {
    let answer = ask(api, base, text).await;
    assert_eq!(answer["outcome"], "change", "{text}: {answer}");
    let revision = answer["preview"]["baseRevision"].as_i64().unwrap();
    let (status, op) = api
        .confirm(base, revision, &answer["edits"], &answer["preview"])
        .await;
    assert_eq!(status, StatusCode::OK, "{text}: {op}");
    assert_eq!(op["status"], "succeeded", "{text}: {op}");
    answer
}

#[tokio::test]
async fn requests_in_plain_language_are_previewed_and_applied_as_changes() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "intents").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let (status, op) = api
        .post("/api/v1/instances?wait=true", json!({"template": "posthog", "namespace": ns.name, "name": "ph", "inputs": {"platform": "kubernetes"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let replicas = |name: &'static str| {
        let d = deployments.clone();
        async move { d.get(name).await.unwrap().spec.replicas.unwrap_or(1) }
    };

    // Two settings in one request: the preview is exactly what changes/preview gives.
    let answer = ask(&api, &base, "give capture 3 replicas and 1Gi memory").await;
    assert_eq!(answer["outcome"], "change", "{answer}");
    assert_eq!(
        answer["summary"],
        "capture: 3 replicas; capture: memory limit 1Gi"
    );
    let (_, direct) = api.preview(&base, 1, &answer["edits"]).await;
    assert_eq!(
        answer["preview"], direct,
        "the same preview as changes/preview"
    );
    assert!(
        answer["preview"]["diff"]
            .as_str()
            .unwrap()
            .contains("+  replicas: 3"),
        "{answer}"
    );
    assert_eq!(
        replicas("ph-capture").await,
        1,
        "nothing is applied by asking"
    );
    ask_and_apply(&api, &base, "give capture 3 replicas and 1Gi memory").await;
    assert_eq!(replicas("ph-capture").await, 3);

    // Restart changes the pod template; pause and resume remember the count.
    ask_and_apply(&api, &base, "restart the plugin server").await;
    let plugins = deployments.get("ph-plugins").await.unwrap();
    let annotations = plugins.spec.template.metadata.unwrap().annotations.unwrap();
    assert_eq!(annotations["berth.dev/restarted-at"], "revision-3");
    ask_and_apply(&api, &base, "pause capture").await;
    assert_eq!(replicas("ph-capture").await, 0);
    let answer = ask(&api, &base, "pause capture").await;
    assert_eq!(answer["outcome"], "refusal", "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("already paused"),
        "{answer}"
    );
    ask_and_apply(&api, &base, "resume capture").await;
    assert_eq!(
        replicas("ph-capture").await,
        3,
        "back to the remembered count"
    );

    // A question carries complete edits; a refusal has examples; neither changes anything.
    let answer = ask(&api, &base, "scale captrue to 2").await;
    assert_eq!(answer["outcome"], "question", "{answer}");
    assert_eq!(
        answer["choices"][0]["edits"],
        json!([{"type": "replicas", "component": "capture", "replicas": 2}])
    );
    let answer = ask(&api, &base, "make it faster").await;
    assert_eq!(answer["outcome"], "refusal", "{answer}");
    assert_eq!(answer["reason"], "I couldn't match that to a change");
    assert_eq!(answer["examples"].as_array().unwrap().len(), 3);
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    assert_eq!(
        revisions["revisions"].as_array().map(Vec::len),
        Some(5),
        "{revisions}"
    );

    // A rollback is previewed like one from the history.
    let answer = ask(&api, &base, "roll back the last change").await;
    assert_eq!(answer["outcome"], "change", "{answer}");
    assert_eq!(answer["rollbackTo"], 4);
    let (_, direct) = api
        .post(&format!("{base}/revisions/4/rollback/preview"), json!({}))
        .await;
    assert_eq!(
        answer["preview"]["planHash"], direct["planHash"],
        "{direct}"
    );

    // The help names the default rule; a viewer may read it but not ask.
    let (status, help) = api.get("/api/v1/intents/help").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        help["defaultRule"]
            .as_str()
            .unwrap()
            .contains("sets the limit")
    );
    let viewer = api.with_token(Some(
        api.make_token("viewer", berth::auth::Role::Viewer).await,
    ));
    let (status, _) = viewer
        .post(
            &format!("{base}/intents"),
            json!({"text": "scale web to 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    api.delete_instance(&ns.name, "ph").await;
    ns.delete().await;
}
