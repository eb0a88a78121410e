//! Two `berth serve` processes ("replicas") on one PostgreSQL and the local control plane, as
//! Berth runs with `store=postgres` and several replicas in a cluster:
//! - the same change sent to both at once applies exactly once, and the other answers 409;
//! - a replica killed mid-apply is picked up by the other: the operation is marked interrupted,
//!   and resuming it there brings the instance to Healthy;
//! - a live stream on replica B shows the progress of an operation that runs on replica A.
//!
//! Needs `BERTH_TEST_POSTGRES` (`end2end/test-all` starts one with `end2end/postgres/up`).

mod common;

use std::time::{Duration, Instant};

use common::process::{Berth, results};
use serde_json::{Value, json};
use sqlx::Connection as _;

/// The key both replicas seal with: with PostgreSQL it comes from the environment.
const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A fresh database on the test PostgreSQL server.
async fn scratch_database() -> String {
    let server = std::env::var("BERTH_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!("the replica tests need PostgreSQL: BERTH_TEST_POSTGRES=$(end2end/postgres/up)")
    });
    let mut admin = sqlx::postgres::PgConnection::connect(&server)
        .await
        .expect("BERTH_TEST_POSTGRES answers");
    let name = format!(
        "berth_replicas_{}",
        std::process::id() ^ rand::random::<u16>() as u32
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&server).expect("a URL");
    url.set_path(&name);
    url.to_string()
}

/// Replicas A and B on one fresh database, with extra environment `env`.
async fn two_replicas(purpose: &str, env: &[(&str, &str)]) -> (Berth, Berth) {
    let db = scratch_database().await;
    let mut env = env.to_vec();
    env.push(("BERTH_SECRET_KEY", KEY));
    let a = Berth::start_on(&common::fresh_dir(&format!("{purpose}-a")), &db, None, &env).await;
    let b = Berth::start_on(
        &common::fresh_dir(&format!("{purpose}-b")),
        &db,
        Some(&a.token),
        &env,
    )
    .await;
    (a, b)
}

/// Deploys PostHog as `ns/name` through `berth` and waits until it is Healthy.
async fn healthy_posthog(berth: &Berth, ns: &str, name: &str) {
    let body = json!({"template": "posthog", "namespace": ns, "name": name,
                      "inputs": {"platform": "kubernetes"}});
    let (status, op) = berth.post("/api/v1/instances?wait=true", body).await;
    assert_eq!(
        (status, &op["status"]),
        (201, &json!("succeeded")),
        "{}",
        op["message"]
    );
    berth.wait_healthy(ns, name, 180).await;
}

/// Previews `edits` on revision 1 of the instance at `base`, through `berth`, and answers the
/// body that applies exactly that preview.
async fn previewed(berth: &Berth, base: &str, edits: &Value) -> Value {
    let (status, preview) = berth
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 1, "edits": edits}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    json!({"baseRevision": 1, "edits": edits, "planHash": preview["planHash"]})
}

/// The statuses of the instance's revisions, oldest first.
async fn statuses(berth: &Berth, base: &str) -> Vec<(String, String)> {
    let (_, list) = berth.get(&format!("{base}/revisions")).await;
    list["revisions"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_same_change_sent_to_both_replicas_applies_once() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "replicas-once").await;
    let (a, b) = two_replicas("replicas-once", &[("BERTH_APPLY_PACE_MS", "20")]).await;
    healthy_posthog(&a, &ns.name, "ph").await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let edits = json!([{"type": "replicas", "component": "capture", "replicas": 2}]);
    let body = previewed(&b, &base, &edits).await;
    let path = format!("{base}/changes");
    let (on_a, on_b) = tokio::join!(a.post(&path, body.clone()), b.post(&path, body.clone()));
    let mut answers = [on_a.0, on_b.0];
    answers.sort();
    assert_eq!(answers, [202, 409], "A: {} B: {}", on_a.1, on_b.1);
    let (accepted, refused) = if on_a.0 == 202 {
        (&a, &on_b.1)
    } else {
        (&b, &on_a.1)
    };
    // Refused because the other holds the instance, or (if it already finished) because the
    // instance moved on since the preview.
    assert_eq!(refused["error"], "conflict", "{refused}");
    let id = if on_a.0 == 202 {
        &on_a.1["id"]
    } else {
        &on_b.1["id"]
    };
    let op = accepted
        .wait_operation(id.as_str().expect("id"), 120, |op| {
            op["status"] != "running"
        })
        .await;
    assert_eq!(op["status"], "succeeded", "{op}");
    // The one that lost still refuses it: the instance moved on since the preview.
    let (again, answer) = if on_a.0 == 202 {
        b.post(&path, body).await
    } else {
        a.post(&path, body).await
    };
    assert_eq!(
        (again, &answer["error"]),
        (409, &json!("conflict")),
        "{answer}"
    );
    // Exactly once, whichever replica is asked.
    for replica in [&a, &b] {
        assert_eq!(
            statuses(replica, &base).await,
            [
                ("deploy".into(), "succeeded".into()),
                ("change".into(), "succeeded".into())
            ]
        );
    }
    ns.delete().await;
}

#[tokio::test]
async fn a_replica_killed_mid_apply_is_picked_up_by_the_other() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "replicas-kill").await;
    let (mut a, b) = two_replicas("replicas-kill", &[("BERTH_APPLY_PACE_MS", "60")]).await;
    let body = json!({"template": "posthog", "namespace": ns.name, "name": "ph",
                      "inputs": {"platform": "kubernetes"}});
    let (status, op) = a.post("/api/v1/instances", body).await;
    assert_eq!(status, 202, "{op}");
    let id = op["id"].as_str().expect("id").to_string();
    let seen = a.wait_operation(&id, 60, |op| results(op) >= 6).await;
    // Replica B shows the operation running on A, as far as A has recorded it.
    let (_, view) = b.get(&format!("/api/v1/instances/{}/ph", ns.name)).await;
    assert_eq!(
        (&view["running"]["revision"], &view["running"]["status"]),
        (&json!(1), &json!("running")),
        "{}",
        view["running"]
    );
    assert!(results(&view["running"]) >= 1, "{}", view["running"]);
    a.kill();
    let killed = Instant::now();
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    // B finds it within a few of its sweeps (every 2 s).
    let revision = loop {
        let (_, list) = b.get(&format!("{base}/revisions")).await;
        let first = list["revisions"][0].clone();
        if first["status"] == "interrupted" {
            break first;
        }
        assert!(killed.elapsed() < Duration::from_secs(20), "still {first}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let taken = killed.elapsed();
    let message = revision["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Berth stopped while this operation ran, after "),
        "{message}"
    );
    let k = common::process::applied_before_interruption(message);
    assert!(
        k >= results(&seen),
        "{message}: at least the {} seen",
        results(&seen)
    );
    let (_, view) = b.get(&base).await;
    assert_eq!(view["unfinished"]["status"], "interrupted", "{view}");
    // Resumed on B, it finishes there.
    b.resume_to_success(&base, 1).await;
    b.wait_healthy(&ns.name, "ph", 180).await;
    println!("replica B marked the killed replica's deploy interrupted {taken:?} after the kill");
    ns.delete().await;
}

#[tokio::test]
async fn a_stream_on_one_replica_shows_progress_of_an_operation_on_the_other() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "replicas-sse").await;
    let (a, b) = two_replicas("replicas-sse", &[("BERTH_APPLY_PACE_MS", "20")]).await;
    healthy_posthog(&a, &ns.name, "ph").await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let mut on_b = b.sse(&format!("{base}/events")).await;
    let (first, _) = on_b
        .next(Duration::from_secs(10))
        .await
        .expect("the first view");
    assert_eq!(first, "health");
    let edits = json!([{"type": "replicas", "component": "capture", "replicas": 3}]);
    let body = previewed(&a, &base, &edits).await;
    let (status, op) = a.post(&format!("{base}/changes"), body).await;
    assert_eq!(status, 202, "{op}");
    let (mut objects, mut finished): (Vec<Value>, Option<Value>) = (Vec::new(), None);
    let started = Instant::now();
    while finished.is_none() && started.elapsed() < Duration::from_secs(60) {
        match on_b.next(Duration::from_secs(10)).await {
            Some((event, data)) if event == "progress" => objects.push(data),
            Some((event, data)) if event == "finished" => finished = Some(data),
            Some(_) => {}
            None => break,
        }
    }
    assert!(
        !objects.is_empty(),
        "B's stream showed no object of A's operation"
    );
    assert!(objects.iter().all(|p| p["revision"] == 2), "{objects:?}");
    let finished = finished.expect("B's stream showed A's operation finish");
    assert_eq!(
        (&finished["revision"], &finished["status"]),
        (&json!(2), &json!("succeeded"))
    );
    ns.delete().await;
}

/// A refused create removes the namespace it made, but never under the other replica's create:
/// in each round, replica A's create (refused by the apiserver's dry run) and replica B's
/// (accepted) go into one new namespace at once, and B's instance and the namespace must stay.
/// Each replica's own namespace lock cannot see the other's create; the store's lock can.
#[tokio::test]
async fn a_refused_create_on_one_replica_never_removes_a_namespace_the_other_is_using() {
    let templates = common::fresh_dir("replicas-refused-templates");
    std::fs::create_dir_all(templates.join("refused")).expect("template dir");
    std::fs::write(
        templates.join("refused").join("index.yaml"),
        common::REFUSED_TEMPLATE,
    )
    .expect("template file");
    let env = [("BERTH_TEMPLATES", templates.to_str().expect("a UTF-8 path"))];
    let (a, b) = two_replicas("namespace-race", &env).await;
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(common::cluster_client().await);
    for round in 0..4 {
        let namespace = format!("berth-test-replica-ns-{}-{round}", std::process::id());
        let body = |name: &str, key: &str| {
            json!({"template": "refused", "namespace": namespace, "name": name,
                   "inputs": {"key": key}})
        };
        let ((bad, refused), (good, op)) = tokio::join!(
            a.post("/api/v1/instances?wait=true", body("bad", "bad key!")),
            b.post("/api/v1/instances?wait=true", body("good", "ok-key"))
        );
        assert_eq!(bad, 422, "{refused}");
        assert_eq!(
            (good, &op["status"]),
            (201, &json!("succeeded")),
            "round {round}: {op}"
        );
        let left = namespaces
            .get_opt(&namespace)
            .await
            .expect("a namespace lookup");
        assert!(
            left.is_some_and(|ns| ns.metadata.deletion_timestamp.is_none()),
            "round {round}: the namespace stays"
        );
        let (status, deleted) = b
            .delete(&format!("/api/v1/instances/{namespace}/good?wait=true"))
            .await;
        assert_eq!(status, 200, "round {round}: {deleted}");
        let _ = namespaces.delete(&namespace, &Default::default()).await;
    }
}
