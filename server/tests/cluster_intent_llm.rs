//! The change box's optional language model, against a small local stub of an OpenAI-compatible
//! `/v1/chat/completions` server and the local control plane. The parser is asked first, and
//! the model only for text it matches to nothing; the model gets the request, the components
//! (never a secret value) and the schema of `edits`, with the key from its file; a valid answer
//! is previewed exactly as `changes/preview` previews it and applied only when confirmed; an
//! answer outside the rules, an unknown component or prose is an error that changes nothing; a
//! model that cannot be reached is `unavailable`.

mod common;

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use base64::Engine;
use berth::{Config, kube::Cluster};
use common::api::TestApi;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Secret};
use kube::{Api, api::ListParams};
use serde_json::{Value, json};

/// What the stub received: each request's `authorization` header and body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// The stub's answer to the person's words.
fn answer_for(text: &str) -> String {
    let edits = match text {
        "make capture sturdier" => {
            json!({"edits": [{"type": "replicas", "component": "capture", "replicas": 2}]})
        }
        "make it enormous" => {
            json!({"edits": [{"type": "replicas", "component": "capture", "replicas": 500}]})
        }
        "poke the flux capacitor" => {
            json!({"edits": [{"type": "restart", "component": "flux-capacitor"}]})
        }
        "shrink the database disk" => {
            json!({"edits": [{"type": "storage", "component": "pg", "size": "1Mi"}]})
        }
        "no idea, you pick" => {
            json!({"edits": [], "reason": "I cannot tell which component is slow"})
        }
        _ => return "Sure! I have made the change for you.".into(),
    };
    format!("```json\n{edits}\n```")
}

async fn completions(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push((auth, body));
    Json(
        json!({"id": "stub", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer_for(&text)}, "finish_reason": "stop"}
        ]}),
    )
}

/// The running stub; [`Stub::stop`] closes it and its open connections.
struct Stub {
    url: String,
    seen: Seen,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Stub {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

/// Starts the stub on an ephemeral port.
async fn stub() -> Stub {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().unwrap()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Stub {
        url,
        seen,
        stop,
        task,
    }
}

#[tokio::test]
async fn the_language_model_is_asked_only_when_the_parser_matches_nothing_and_held_to_its_rules() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "intent-llm").await;
    let stub = stub().await;
    let seen = stub.seen.clone();
    let dir = common::fresh_dir("intent-llm");
    let key_file = dir.join("llm.key");
    std::fs::write(&key_file, "test-key-123\n").unwrap();
    let config = Config {
        llm_url: Some(stub.url.clone()),
        llm_model: Some("stub-model".into()),
        llm_key_file: Some(key_file),
        ..Config::for_tests()
    };
    let api = TestApi::with_config(config, Cluster::connect(None, None).await).await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let (status, op) = api
        .post("/api/v1/instances?wait=true", json!({"template": "posthog", "namespace": ns.name, "name": "ph", "inputs": {"platform": "kubernetes"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let ask = |text: &'static str| {
        let api = api.clone();
        let base = base.clone();
        async move {
            api.post(&format!("{base}/intents"), json!({"text": text}))
                .await
        }
    };

    let (_, help) = api.get("/api/v1/intents/help").await;
    assert_eq!(help["llm"], true, "{help}");

    // The parser reads this one itself: the model is not asked.
    let (status, answer) = ask("scale capture to 2").await;
    assert_eq!(
        (status, &answer["outcome"]),
        (StatusCode::OK, &json!("change")),
        "{answer}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "the model is not asked when the parser matches"
    );

    // No match: the model is asked, with the key, the model name, the schema and the components.
    let (status, answer) = ask("make capture sturdier").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "change", "{answer}");
    assert_eq!(
        answer["edits"],
        json!([{"type": "replicas", "component": "capture", "replicas": 2}])
    );
    assert_eq!(
        answer["summary"],
        "capture: 2 replicas (read by stub-model)"
    );
    let (_, direct) = api.preview(&base, 1, &answer["edits"]).await;
    assert_eq!(
        answer["preview"], direct,
        "the same preview as changes/preview"
    );
    let (auth, request) = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(auth, "Bearer test-key-123");
    assert_eq!(request["model"], "stub-model");
    assert_eq!(request["messages"][1]["content"], "make capture sturdier");
    let system = request["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    for needle in [
        "\"edits\"",
        "EnvValue",
        "\"capture\"",
        "\"clickhouse\"",
        "ingestion",
    ] {
        assert!(system.contains(needle), "the instructions carry {needle}");
    }
    // No secret value of the instance goes to the model.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns.name);
    let mut values = 0;
    for secret in secrets.list(&ListParams::default()).await.unwrap() {
        for (key, value) in secret.data.unwrap_or_default() {
            let text = String::from_utf8_lossy(&value.0).to_string();
            if text.len() >= 8 {
                values += 1;
                assert!(
                    !system.contains(&text),
                    "secret {key} was sent to the model"
                );
                let b64 = base64::engine::general_purpose::STANDARD.encode(&value.0);
                assert!(!system.contains(&b64), "secret {key} was sent to the model");
            }
        }
    }
    assert!(values > 0, "the instance has secret values to keep back");

    // Nothing was applied by asking; confirming applies it like any other change.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let replicas = || async { deployments.get("ph-capture").await.unwrap().spec.replicas };
    assert_eq!(replicas().await, Some(1));
    let (status, op) = api
        .confirm(&base, 1, &answer["edits"], &answer["preview"])
        .await;
    assert_eq!(
        (status, &op["status"]),
        (StatusCode::OK, &json!("succeeded")),
        "{op}"
    );
    assert_eq!(replicas().await, Some(2));

    // Answers outside the rules are errors, never changes.
    for (text, why) in [
        ("make it enormous", "more than 50"),
        (
            "poke the flux capacitor",
            "flux-capacitor is not a component",
        ),
        ("shrink the database disk", "cannot shrink"),
        ("do the thing", "not a change set"),
    ] {
        let (status, error) = ask(text).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{text}: {error}");
        assert_eq!(error["error"], "upstream", "{text}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("the language model's answer is not a valid change"),
            "{message}"
        );
        assert!(message.contains(why), "{text}: {message}");
    }
    // A model that cannot tell says so, and the examples still come.
    let (status, answer) = ask("no idea, you pick").await;
    assert_eq!(
        (status, &answer["outcome"]),
        (StatusCode::OK, &json!("refusal")),
        "{answer}"
    );
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .contains("I cannot tell which component is slow"),
        "{answer}"
    );
    assert_eq!(answer["examples"].as_array().map(Vec::len), Some(3));

    // A model that is down is `unavailable`.
    stub.stop().await;
    let (status, error) = ask("make capture sturdier").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not be asked"),
        "{error}"
    );

    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    assert_eq!(
        revisions["revisions"].as_array().map(Vec::len),
        Some(2),
        "only the confirmed change was recorded"
    );
    api.delete_instance(&ns.name, "ph").await;
    ns.delete().await;
}
