//! The health watches against the local control plane: a kind no instance needs stops being
//! watched once it has held nothing for the idle time, a kind whose store holds this
//! installation's objects is kept, and a kind needed again is watched again. Objects another
//! installation labelled are never cached.

mod common;

use std::time::Duration;

use berth::health::watch::Watches;
use k8s_openapi::api::apps::v1::Deployment;
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

fn deployment(name: &str, installation: &str) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {
            "app.kubernetes.io/managed-by": "berth", "berth.dev/instance": name,
            "berth.dev/installation": installation}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
}

async fn wait_for(what: &str, secs: u64, mut ok: impl AsyncFnMut() -> bool) {
    for _ in 0..secs * 10 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {secs}s waiting for {what}");
}

#[tokio::test]
async fn unused_kinds_stop_being_watched_and_used_ones_stay() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "watches").await;
    let installation = format!("w{}", std::process::id());
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let apply = PatchParams::apply("berth-test");
    deployments
        .patch(
            "mine",
            &apply,
            &Patch::Apply(deployment("mine", &installation)),
        )
        .await
        .expect("mine");
    deployments
        .patch(
            "theirs",
            &apply,
            &Patch::Apply(deployment("theirs", "someone-else")),
        )
        .await
        .expect("theirs");

    let watches = Watches::start_with_idle(client.clone(), &installation, Duration::from_secs(2));
    wait_for("the core kinds to be watched", 10, async || {
        watches.kinds().await.contains(&"Job".to_string()) && watches.is_ready("Deployment").await
    })
    .await;
    wait_for("this installation's Deployment", 10, async || {
        watches.get("Deployment", &ns.name, "mine").await.is_some()
    })
    .await;
    assert!(
        watches
            .get("Deployment", &ns.name, "theirs")
            .await
            .is_none(),
        "another installation's object is never cached"
    );

    // Nothing of this installation is a Job, a DaemonSet or an Ingress: those watches stop. The
    // Deployment watch holds `mine`, so it stays.
    wait_for("the unused kinds to stop", 15, async || {
        !watches.kinds().await.contains(&"Job".to_string())
    })
    .await;
    let kinds = watches.kinds().await;
    assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
    for unused in ["Job", "DaemonSet", "Ingress"] {
        assert!(
            !kinds.contains(&unused.to_string()),
            "{unused} still watched: {kinds:?}"
        );
    }

    // Needed again (an operation applies a Job): watched again, and kept while it is needed.
    watches.need_kinds(&["Job"]).await;
    wait_for("the Job watch to sync again", 10, async || {
        watches.is_ready("Job").await
    })
    .await;
    assert!(watches.kinds().await.contains(&"Job".to_string()));
    ns.delete().await;
}
