//! Faults against a real `berth serve` process and the local control plane: SIGKILL in the
//! middle of a deploy at five points (no revision lost; the operation is `interrupted` after k of
//! n objects, and resuming it brings PostHog to Healthy); SIGTERM during an apply (it finishes
//! within the grace period, or is marked interrupted when the grace is too short, never left
//! `running`; new operations are refused with 503 meanwhile); cancelling an apply (it stops,
//! and history says what was applied); and a delete after an unfinished change removes what
//! that change created.
//!
//! Applies are paced (`BERTH_APPLY_PACE_MS`) so that a fault lands mid-apply at a chosen object.

mod common;

use std::time::Duration;

use common::process::{Berth, results};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, api::ListParams};
use serde_json::{Value, json};

fn deploy(ns: &str, name: &str) -> Value {
    json!({"template": "posthog", "namespace": ns, "name": name, "inputs": {"platform": "kubernetes"}})
}

/// Starts a deploy and answers its operation id.
async fn start_deploy(berth: &Berth, ns: &str, name: &str) -> String {
    let (status, op) = berth.post("/api/v1/instances", deploy(ns, name)).await;
    assert_eq!(status, 202, "{op}");
    op["id"].as_str().expect("an operation id").to_string()
}

/// Five points in a deploy of `n` objects: the third object, and four others spread over the
/// rest (varied from run to run).
fn kill_points(n: usize) -> Vec<usize> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as usize)
        .unwrap_or(7);
    let mut points = vec![3];
    for i in 0..4 {
        let span = (n - 4) / 4;
        points.push(4 + i * span + (seed >> (i * 3)) % span.max(1));
    }
    points
}

#[tokio::test]
async fn a_kill_mid_deploy_loses_no_revision_and_resume_brings_it_to_healthy() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "kill9").await;
    let dir = common::fresh_dir("fault-kill9");
    let mut berth = Berth::start(&dir, &[("BERTH_APPLY_PACE_MS", "40")]).await;
    for (i, at) in kill_points(30).into_iter().enumerate() {
        let name = format!("ph{i}");
        let id = start_deploy(&berth, &ns.name, &name).await;
        let op = berth.wait_operation(&id, 60, |op| results(op) >= at).await;
        berth.kill();
        let applied = results(&op);
        berth.restart().await;

        // The revision is there, interrupted, with how far it got.
        let (_, list) = berth
            .get(&format!("/api/v1/instances/{}/{name}/revisions", ns.name))
            .await;
        let revisions = list["revisions"].as_array().expect("revisions").clone();
        assert_eq!(revisions.len(), 1, "{list}");
        assert_eq!(revisions[0]["status"], "interrupted", "{list}");
        let message = revisions[0]["message"].as_str().unwrap_or_default();
        let k = common::process::applied_before_interruption(message);
        assert!(
            k >= applied,
            "{message}: at least the {applied} objects seen applied"
        );
        let (_, view) = berth
            .get(&format!("/api/v1/instances/{}/{name}", ns.name))
            .await;
        assert_eq!(view["unfinished"]["status"], "interrupted", "{view}");

        // Resume applies the same revision again, and PostHog becomes Healthy.
        let (status, resumed) = berth
            .post(
                &format!(
                    "/api/v1/instances/{}/{name}/revisions/1/resume?wait=true",
                    ns.name
                ),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{resumed}");
        assert_eq!(resumed["status"], "succeeded", "{resumed}");
        berth.wait_healthy(&ns.name, &name, 120).await;
        let (_, list) = berth
            .get(&format!("/api/v1/instances/{}/{name}/revisions", ns.name))
            .await;
        let kinds: Vec<(&str, &str)> = list["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["kind"].as_str().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("deploy", "interrupted"), ("resume", "succeeded")]);
        eprintln!(
            "kill point {i}: SIGKILL after {applied} objects; recorded {k}; resumed to Healthy"
        );
    }
    berth.kill();
    ns.delete().await;
}

#[tokio::test]
async fn sigterm_during_an_apply_finishes_it_or_marks_it_interrupted_never_running() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "sigterm").await;

    // A grace long enough: the deploy finishes before Berth exits; new work is refused meanwhile.
    let dir = common::fresh_dir("fault-sigterm-grace");
    let berth = Berth::start(&dir, &[("BERTH_APPLY_PACE_MS", "60")]).await;
    let id = start_deploy(&berth, &ns.name, "calm").await;
    berth.wait_operation(&id, 60, |op| results(op) >= 3).await;
    let probe = berth.probe();
    let terminating = tokio::spawn(async move {
        let mut berth = berth;
        berth.terminate(Duration::from_secs(60)).await;
        berth
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, refused) = probe
        .post("/api/v1/instances", deploy(&ns.name, "late"))
        .await;
    assert_eq!(
        status, 503,
        "new operations are refused while shutting down: {refused}"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("shutting down")
    );
    let mut berth = terminating.await.unwrap();
    berth.restart().await;
    let (_, op) = berth.get(&format!("/api/v1/operations/{id}")).await;
    assert_eq!(
        op["status"], "succeeded",
        "the deploy finished within the grace: {op}"
    );

    // A grace too short: the deploy is marked interrupted, not left running.
    let dir = common::fresh_dir("fault-sigterm-short");
    let mut berth = Berth::start(
        &dir,
        &[
            ("BERTH_APPLY_PACE_MS", "400"),
            ("BERTH_SHUTDOWN_GRACE_SECS", "1"),
        ],
    )
    .await;
    let id = start_deploy(&berth, &ns.name, "hasty").await;
    berth.wait_operation(&id, 60, |op| results(op) >= 2).await;
    let took = berth.terminate(Duration::from_secs(20)).await;
    assert!(took < Duration::from_secs(10), "exited in {took:?}");
    berth.set_env("BERTH_APPLY_PACE_MS", "0");
    berth.restart().await;
    let (_, op) = berth.get(&format!("/api/v1/operations/{id}")).await;
    assert_eq!(op["status"], "interrupted", "{op}");
    assert!(op["message"].as_str().unwrap().contains(" of "), "{op}");
    berth.kill();
    ns.delete().await;
}

#[tokio::test]
async fn a_cancel_stops_an_apply_and_a_delete_after_an_unfinished_change_leaves_nothing() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "cancel").await;
    let dir = common::fresh_dir("fault-cancel");
    let berth = Berth::start(&dir, &[("BERTH_APPLY_PACE_MS", "150")]).await;

    // Cancel a deploy after three objects: it stops, and history says what was applied.
    let id = start_deploy(&berth, &ns.name, "ph").await;
    berth.wait_operation(&id, 60, |op| results(op) >= 3).await;
    let (status, asked) = berth.delete(&format!("/api/v1/operations/{id}")).await;
    assert_eq!(status, 202, "{asked}");
    let op = berth
        .wait_operation(&id, 60, |op| op["status"] != "running")
        .await;
    assert_eq!(op["status"], "cancelled", "{op}");
    let all = op["results"].as_array().unwrap();
    let applied = all.iter().filter(|r| r["action"] != "failed").count();
    let skipped = all
        .iter()
        .filter(|r| r["message"] == "not applied: cancelled")
        .count();
    assert!(applied >= 3 && skipped > 0, "{op}");
    assert_eq!(
        op["message"],
        format!(
            "cancelled after {applied} of {} objects; the rest were not applied",
            all.len()
        )
    );
    let (status, again) = berth.delete(&format!("/api/v1/operations/{id}")).await;
    assert_eq!(
        status, 409,
        "a finished operation cannot be cancelled: {again}"
    );

    // Resume finishes it.
    let (status, resumed) = berth
        .post(
            &format!(
                "/api/v1/instances/{}/ph/revisions/1/resume?wait=true",
                ns.name
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &resumed["status"]),
        (200, &json!("succeeded")),
        "{resumed}"
    );

    // A change that creates a Secret (a secret variable) is cancelled once the Secret is there,
    // before the workloads that would use it.
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let edits = json!([{"type": "env", "component": "web", "name": "API_TOKEN", "value": {"kind": "value", "value": "s3cret-value"}, "secret": true}]);
    let (_, preview) = berth
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 2, "edits": edits}),
        )
        .await;
    let (status, op) = berth
        .post(
            &format!("{base}/changes"),
            json!({"baseRevision": 2, "edits": edits, "planHash": preview["planHash"]}),
        )
        .await;
    assert_eq!(status, 202, "{op}");
    let id = op["id"].as_str().unwrap().to_string();
    let has_secret = |op: &Value| {
        op["results"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["object"]["name"] == "ph-berth-env"))
    };
    berth.wait_operation(&id, 60, has_secret).await;
    berth.delete(&format!("/api/v1/operations/{id}")).await;
    let op = berth
        .wait_operation(&id, 60, |op| op["status"] != "running")
        .await;
    assert_eq!(op["status"], "cancelled", "{op}");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns.name);
    assert!(
        secrets.get_opt("ph-berth-env").await.unwrap().is_some(),
        "the unfinished change created its Secret: {op}"
    );

    // Deleting the instance removes that Secret too, though no finished revision has it.
    let (status, deleted) = berth.delete(&format!("{base}?wait=true")).await;
    assert_eq!(
        (status, &deleted["status"]),
        (200, &json!("succeeded")),
        "{deleted}"
    );
    let left = secrets
        .list(&ListParams::default().labels("berth.dev/instance=ph"))
        .await
        .unwrap();
    let names: Vec<_> = left
        .items
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
    drop(berth);
    ns.delete().await;
}
