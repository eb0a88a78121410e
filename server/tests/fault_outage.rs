//! An apiserver outage during an apply, against a real `berth serve` process and the local
//! control plane (kube-apiserver stopped with SIGSTOP, then continued): the operation ends
//! failed within the call timeout; history stays readable; mutations answer 503 with the reason;
//! health says since when the cluster is unreachable; once the apiserver is back, health recovers
//! within 10 s without restarting Berth, and retrying (resuming the failed deploy) succeeds.
//!
//! Its own test binary: cargo runs test binaries one at a time, so stopping the apiserver here
//! disturbs no other test.

mod common;

use std::time::{Duration, Instant};

use common::process::{Berth, results};
use serde_json::json;

/// The local control plane's kube-apiserver, by its pid file beside the kubeconfig.
fn apiserver_pid() -> Option<String> {
    let kubeconfig = std::env::var("KUBECONFIG").ok()?;
    let dir = std::path::Path::new(&kubeconfig).parent()?;
    std::fs::read_to_string(dir.join("kube-apiserver.pid"))
        .ok()
        .map(|p| p.trim().to_string())
}

fn signal(pid: &str, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, pid])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

/// Continues the apiserver when dropped, whatever happened.
struct Stopped(String);

impl Drop for Stopped {
    fn drop(&mut self) {
        signal(&self.0, "-CONT");
    }
}

#[tokio::test]
async fn an_apiserver_outage_fails_the_apply_in_time_and_berth_recovers_by_itself() {
    let Some(pid) = apiserver_pid() else {
        panic!(
            "this test stops the local control plane's kube-apiserver: run it against end2end/cluster/up"
        );
    };
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "outage").await;
    let dir = common::fresh_dir("fault-outage");
    let berth = Berth::start(
        &dir,
        &[
            ("BERTH_APPLY_PACE_MS", "100"),
            ("BERTH_KUBE_TIMEOUT_SECS", "3"),
        ],
    )
    .await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);
    let (status, op) = berth
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "ph", "inputs": {"platform": "kubernetes"}}),
        )
        .await;
    assert_eq!(status, 202, "{op}");
    let id = op["id"].as_str().unwrap().to_string();
    berth.wait_operation(&id, 60, |op| results(op) >= 3).await;

    let stopped = Stopped(pid.clone());
    signal(&pid, "-STOP");
    let down = Instant::now();
    let op = berth
        .wait_operation(&id, 30, |op| op["status"] != "running")
        .await;
    let took = down.elapsed();
    assert_eq!(op["status"], "failed", "{op}");
    assert!(
        took < Duration::from_secs(15),
        "failed {took:?} after the outage began"
    );
    let messages: Vec<&str> = op["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("no answer from the apiserver")),
        "{messages:?}"
    );
    eprintln!("the apply failed {took:?} after the apiserver stopped");

    // History stays readable; mutations answer 503 with the reason; health says since when.
    let (status, list) = berth.get(&format!("{base}/revisions")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["revisions"][0]["status"], "failed");
    let (status, refused) = berth
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 0, "edits": [{"type": "replicas", "component": "web", "replicas": 2}]}),
        )
        .await;
    assert_eq!(status, 503, "{refused}");
    let (status, refused) = berth
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "other", "inputs": {"platform": "kubernetes"}}),
        )
        .await;
    assert_eq!(status, 503, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("unreachable"),
        "{refused}"
    );
    let (_, view) = berth.get(&base).await;
    assert_eq!(view["health"]["state"], "Unknown", "{}", view["health"]);
    assert!(
        view["health"]["reason"]
            .as_str()
            .unwrap()
            .contains("cluster unreachable since "),
        "{}",
        view["health"]
    );

    // The apiserver comes back: health recovers by itself within 10 s.
    drop(stopped);
    let back = Instant::now();
    loop {
        let (_, view) = berth.get(&base).await;
        if view["health"]["state"] != "Unknown" {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "still {}",
            view["health"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "health recovered {:?} after the apiserver came back",
        back.elapsed()
    );

    // Retrying (resuming the failed deploy) succeeds: every object is applied. (Whether every
    // pod is Ready again is up to the cluster: during the outage the node controller marked
    // KWOK's nodes NotReady, and their pods' Ready conditions with them.)
    berth.resume_to_success(&base, 1).await;
    let (_, view) = berth.get(&base).await;
    assert_ne!(view["health"]["state"], "Unknown", "{}", view["health"]);
    drop(berth);
    ns.delete().await;
}
