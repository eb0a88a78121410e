//! Live progress and health over Server-Sent Events while an instance deploys.

mod common;

use std::time::Duration;

use axum::{body::Body, http::Request};
use berth::kube::Cluster;
use common::api::TestApi;
use futures::StreamExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::test]
async fn events_stream_progress_then_health_until_healthy() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "events").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;

    let (status, op) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "ev"}),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::ACCEPTED, "{op}");
    assert_eq!(op["status"], "running");

    let req = Request::get(format!("/api/v1/instances/{}/ev/events", ns.name))
        .header("authorization", api.bearer())
        .body(Body::empty())
        .unwrap();
    let resp = api.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut stream = resp.into_body().into_data_stream();

    let mut buffer = String::new();
    let (mut health_events, mut progress_events, mut finished, mut healthy) =
        (0, 0, None::<Value>, false);
    let mut last_object = None::<String>;
    let mut told: Vec<Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while !(healthy && finished.is_some()) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events before the deadline")
            .expect("stream open")
            .expect("chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let event = frame
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_default()
                .to_string();
            let data: String = frame
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            let Ok(value) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            match event.as_str() {
                "health" => {
                    health_events += 1;
                    healthy |= value["health"]["state"] == "Healthy";
                }
                "progress" => {
                    progress_events += 1;
                    assert!(value["result"]["object"]["kind"].is_string(), "{value}");
                    assert!(finished.is_none(), "progress after the end: {value}");
                    last_object = value["result"]["object"]["kind"].as_str().map(String::from);
                    told.push(value["result"]["object"].clone());
                }
                "finished" => finished = Some(value),
                _ => {}
            }
        }
    }
    assert!(
        health_events >= 2,
        "an initial snapshot and at least one update ({health_events})"
    );
    assert!(progress_events >= 1, "per-object progress was pushed");
    // The last object applied (one of the Deployments, PostHog's last tier) is written with the
    // operation's end rather than on its own, and is still told before the end.
    assert_eq!(last_object.as_deref(), Some("Deployment"));
    assert_eq!(finished.unwrap()["status"], "succeeded");
    // What was told is what history records, each object once. The stream opened after the
    // create began, so it may have missed the first tiers, never the last two: the results the
    // writer had not got to when the apply ended went into the end's write, and were told after
    // it.
    let (status, revision) = api
        .get(&format!("/api/v1/instances/{}/ev/revisions/1", ns.name))
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{revision}");
    let recorded: Vec<Value> = revision["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["object"].clone())
        .collect();
    assert_eq!(recorded.len(), 37, "PostHog's objects: {revision}");
    for (i, object) in told.iter().enumerate() {
        assert!(recorded.contains(object), "told, not recorded: {object}");
        assert!(!told[..i].contains(object), "told twice: {object}");
    }
    for object in recorded
        .iter()
        .filter(|o| matches!(o["kind"].as_str(), Some("Deployment" | "Ingress")))
    {
        assert!(told.contains(object), "recorded, never told: {object}");
    }
    let (_, _) = api.delete_instance(&ns.name, "ev").await;
    ns.delete().await;
}
