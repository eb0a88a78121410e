//! Against the local control plane, what an operator reads beside a card: the Kubernetes Events
//! of an instance's objects (listed, filtered by component, counted on the card and pushed on the
//! instance's SSE stream, with known secrets redacted), and a pod's log through `pods/log`, which
//! the local cluster serves from files through KWOK (`Logs` objects name them): streamed and
//! followed, redacted, and "unavailable" with the reason when the cluster has no log for it.

mod common;

use std::{io::Write, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use berth::kube::Cluster;
use common::api::TestApi;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A Server-Sent Events stream read frame by frame: (event, data).
struct Frames {
    stream: axum::body::BodyDataStream,
    buffer: String,
}

impl Frames {
    async fn open(api: &TestApi, path: &str) -> (StatusCode, Frames) {
        let req = Request::get(path)
            .header("authorization", api.bearer())
            .body(Body::empty())
            .unwrap();
        let resp = api.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let stream = resp.into_body().into_data_stream();
        (
            status,
            Frames {
                stream,
                buffer: String::new(),
            },
        )
    }

    /// The next frame named `event` (others are skipped), within 60 s.
    async fn next(&mut self, event: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let name = frame.lines().find_map(|l| l.strip_prefix("event: "));
                if name == Some(event) {
                    return frame
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")))
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("no `{event}` within 60s; left: {}", self.buffer))
                .expect("stream open")
                .expect("chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The generated PostgreSQL password, which Berth knows as a secret.
async fn pg_password(client: &kube::Client, ns: &str, instance: &str) -> String {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let s = secrets
        .get(&format!("{instance}-pg-conn-credential"))
        .await
        .unwrap();
    let raw = &s.data.unwrap()["password"].0;
    let password = String::from_utf8(raw.clone()).unwrap();
    assert!(password.len() >= 16, "a generated password");
    password
}

async fn first_pod(client: &kube::Client, ns: &str, component: &str) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("berth.dev/component={component}"));
    pods.list(&lp).await.unwrap().items.remove(0)
}

/// A Warning Event about `object` (`Pod`, name), as a kubelet would record one.
fn warning(ns: &str, kind: &str, object: &str, reason: &str, message: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": {"generateName": "berth-test-"},
        "involvedObject": {"kind": kind, "name": object, "apiVersion": "v1", "namespace": ns},
        "type": "Warning", "reason": reason, "message": message, "count": 3,
        "firstTimestamp": "2026-11-26T00:00:00Z", "lastTimestamp": "2026-11-26T00:00:05Z",
        "source": {"component": "kubelet"}
    }))
    .unwrap()
}

#[tokio::test]
async fn events_are_listed_by_component_counted_on_the_card_and_pushed_redacted() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "k8sevents").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = api.healthy_posthog(&ns.name, "ob").await;

    // The controllers' own Events about Berth's objects: the Deployment scaled its ReplicaSet.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, list) = api.get(&format!("{base}/events/k8s?component=web")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let items = list["items"].as_array().unwrap();
        assert!(items.iter().all(|e| e["component"] == "web"), "{list}");
        if items.iter().any(|e| e["reason"] == "ScalingReplicaSet") {
            assert_eq!(list["keptSeconds"], 3600);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no web events: {list}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (status, answer) = api.get(&format!("{base}/events/k8s?component=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    // A warning about a capture pod, whose message carries a secret Berth knows.
    let password = pg_password(&client, &ns.name, "ob").await;
    let (status, mut frames) = Frames::open(&api, &format!("{base}/events")).await;
    assert_eq!(status, StatusCode::OK);
    frames.next("health").await;
    let pod = first_pod(&client, &ns.name, "capture").await;
    let pod_name = pod.metadata.name.unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), &ns.name);
    let message = format!("Readiness probe failed: auth failed for password {password}");
    events
        .create(
            &PostParams::default(),
            &warning(&ns.name, "Pod", &pod_name, "Unhealthy", &message),
        )
        .await
        .unwrap();
    // And one about a pod that is not Berth's: it is not kept.
    events
        .create(
            &PostParams::default(),
            &warning(&ns.name, "Pod", "not-berths", "Unhealthy", "x"),
        )
        .await
        .unwrap();
    // The controllers' Events about the instance may come first.
    let pushed = loop {
        let e: Value = serde_json::from_str(&frames.next("k8s-event").await).unwrap();
        assert_ne!(e["object"], "Pod/not-berths", "{e}");
        if e["reason"] == "Unhealthy" {
            break e;
        }
    };
    assert_eq!(pushed["type"], "Warning");
    assert_eq!(pushed["component"], "capture");
    assert_eq!(pushed["object"], format!("Pod/{pod_name}"));
    assert_eq!(pushed["count"], 3);
    let shown = pushed["message"].as_str().unwrap();
    assert!(!shown.contains(&password), "{shown}");
    assert!(shown.starts_with("Readiness probe failed: auth failed for password "));

    // The card counts it and shows the latest warning; the list has it, redacted too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let card = loop {
        let card = common::card(&api.get(&base).await.1, "capture");
        if card["events"]["warnings"] == 1 {
            break card;
        }
        assert!(tokio::time::Instant::now() < deadline, "{card}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let latest = card["events"]["latestWarning"].as_str().unwrap();
    assert!(
        latest.starts_with("Unhealthy: Readiness probe failed"),
        "{latest}"
    );
    assert!(!latest.contains(&password));
    let (_, list) = api.get(&format!("{base}/events/k8s")).await;
    assert!(!list.to_string().contains(&password));
    assert!(!list.to_string().contains("not-berths"), "{list}");
    ns.delete().await;
}

/// Reads the (unfollowed) log at `path` until its stream has `wanted` (30 s at most).
async fn until_log(api: &TestApi, path: &str, wanted: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = api.get(path).await;
        let text = body.as_str().unwrap_or_default().to_string();
        if text.contains(wanted) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path}: no {wanted:?} in {text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A CRI-format log line, as KWOK reads them from a file.
fn cri(text: &str) -> String {
    format!("2026-11-26T05:00:00.000000000Z stdout F {text}\n")
}

#[tokio::test]
async fn a_pods_log_streams_follows_and_is_redacted_or_says_it_is_unavailable() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "podlogs").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = api.healthy_posthog(&ns.name, "lg").await;
    let password = pg_password(&client, &ns.name, "lg").await;

    // The capture pod's log is this file (KWOK's `Logs` object named after the pod).
    let dir = common::fresh_dir("podlogs");
    let file = dir.join("capture.log");
    std::fs::write(
        &file,
        [
            cri("capture starting"),
            cri(&format!("connecting with {password}")),
            cri("ready"),
        ]
        .concat(),
    )
    .unwrap();
    let pod = first_pod(&client, &ns.name, "capture").await;
    let pod_name = pod.metadata.name.unwrap();
    let container = pod.spec.unwrap().containers[0].name.clone();
    let logs = common::dynamic_api(
        &client,
        &ns.name,
        ("kwok.x-k8s.io", "v1alpha1", "Logs", "logs"),
    );
    let object: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
        "metadata": {"name": pod_name},
        "spec": {"logs": [{"logsFile": file, "follow": true}]}
    }))
    .unwrap();
    logs.create(&PostParams::default(), &object).await.unwrap();
    // KWOK picks the object up from its watch: until then the pod's log is the default file.
    until_log(
        &api,
        &format!("{base}/logs?component=capture&tailLines=1"),
        "data: ready",
    )
    .await;

    let path = format!("{base}/logs?component=capture&follow=true");
    let (status, mut frames) = Frames::open(&api, &path).await;
    assert_eq!(status, StatusCode::OK);
    let source: Value = serde_json::from_str(&frames.next("source").await).unwrap();
    assert_eq!(source, json!({"pod": pod_name, "container": container}));
    let mut lines = Vec::new();
    while lines.len() < 3 {
        lines.push(frames.next("line").await);
    }
    assert_eq!(lines[0], "capture starting");
    assert!(lines[1].starts_with("connecting with "), "{lines:?}");
    assert!(!lines[1].contains(&password), "{lines:?}");
    assert_eq!(lines[2], "ready");
    // Followed: a line written now arrives.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    f.write_all(cri("event batch flushed").as_bytes()).unwrap();
    assert_eq!(frames.next("line").await, "event batch flushed");
    drop(frames);

    // Not followed, the last line only: it ends.
    let (_, mut frames) =
        Frames::open(&api, &format!("{base}/logs?component=capture&tailLines=1")).await;
    assert_eq!(frames.next("line").await, "event batch flushed");
    frames.next("end").await;

    // A pod whose log the cluster does not have: the stream says so, with the reason.
    let worker = first_pod(&client, &ns.name, "worker")
        .await
        .metadata
        .name
        .unwrap();
    let object: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
        "metadata": {"name": worker},
        "spec": {"logs": [{"logsFile": dir.join("missing.log"), "follow": false}]}
    }))
    .unwrap();
    logs.create(&PostParams::default(), &object).await.unwrap();
    until_log(
        &api,
        &format!("{base}/logs?component=worker"),
        "event: unavailable",
    )
    .await;
    let (_, mut frames) = Frames::open(&api, &format!("{base}/logs?component=worker")).await;
    let why = frames.next("unavailable").await;
    assert!(
        why.starts_with("the cluster provides no logs for it"),
        "{why}"
    );

    // Bad requests change nothing and say why.
    let (status, answer) = api
        .get(&format!("{base}/logs?component=capture&container=nope"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert!(
        answer.to_string().contains("container \\\"nope\\\""),
        "{answer}"
    );
    let (status, answer) = api
        .get(&format!("{base}/logs?component=capture&tailLines=0"))
        .await;
    assert_eq!(status.as_u16() / 100, 4, "{answer}");
    let (status, _) = api.get(&format!("{base}/logs?component=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get(&format!("{base}/logs")).await;
    assert_eq!(status.as_u16() / 100, 4);
    ns.delete().await;
}
