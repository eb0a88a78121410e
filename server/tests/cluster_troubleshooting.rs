//! Against the local control plane, the troubleshooting hints of Berth's PostHog stack: each of
//! the PostHog-on-Sealos guide's four failures, reproduced, shows its hint with its evidence on
//! the card (through the REST API), and so do an image that cannot be pulled and a container that
//! was OOMKilled (set through pod status patches, as a kubelet would report them). A hint goes
//! away when its cause does.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::{
    core::v1::{Pod, Secret},
    networking::v1::Ingress,
};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

/// Reads the instance until `found` picks something out of it (3 minutes at most).
async fn until<T>(api: &TestApi, path: &str, what: &str, found: impl Fn(&Value) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let (_, view) = api.get(path).await;
        if let Some(t) = found(&view) {
            return t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not seen in 180s; last view: {view}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The hint `rule` on card `id`, if it is there.
fn hint(view: &Value, id: &str, rule: &str) -> Option<Value> {
    view["components"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == id)?["hints"]
        .as_array()?
        .iter()
        .find(|h| h["rule"] == rule)
        .cloned()
}

fn evidence(h: &Value) -> Vec<String> {
    h["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

/// Sets `component`'s replicas through Berth (preview, then confirm).
async fn scale(api: &TestApi, base: &str, component: &str, replicas: u32) {
    let (_, view) = api.get(base).await;
    let revision = view["revision"].as_i64().unwrap();
    let edits = json!([{"type": "replicas", "component": component, "replicas": replicas}]);
    let (status, preview) = api.preview(base, revision, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let (status, done) = api.confirm(base, revision, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

#[tokio::test]
async fn the_guides_failures_show_their_hints_until_their_cause_is_gone() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "hints").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = api.healthy_posthog(&ns.name, "ts").await;

    // Public URL: no ingress controller gave the Ingress an address, and the TLS Secret it names
    // (the cluster's wildcard certificate) does not exist here.
    let h = until(&api, &base, "the public URL hint", |v| {
        hint(v, "ingress", "posthog-public-url")
    })
    .await;
    let ev = evidence(&h);
    assert!(
        ev.iter().any(|e| e.contains("has no address yet")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.contains("TLS Secret wildcard-cert") && e.contains("does not exist")),
        "{ev:?}"
    );
    // The certificate is issued and the controller admits the Ingress: the hint goes.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns.name);
    let tls: Secret = serde_json::from_value(json!({"metadata": {"name": "wildcard-cert"},
        "type": "kubernetes.io/tls", "stringData": {"tls.crt": "x", "tls.key": "y"}}))
    .unwrap();
    secrets.create(&PostParams::default(), &tls).await.unwrap();
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), &ns.name);
    let ingress = ingresses.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    ingresses
        .patch_status(
            &ingress,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}})),
        )
        .await
        .unwrap();
    until(&api, &base, "the public URL hint gone", |v| {
        hint(v, "ingress", "posthog-public-url")
            .is_none()
            .then_some(())
    })
    .await;

    // The broker scaled to 0: web and worker say background processing is delayed.
    scale(&api, &base, "kafka", 0).await;
    for card in ["web", "worker"] {
        // While the StatefulSet scales down the hint may first say so; then no pod is left.
        let h = until(&api, &base, "the delayed-processing hint", |v| {
            hint(v, card, "posthog-background-delayed").filter(|h| {
                evidence(h)
                    .iter()
                    .any(|e| e.starts_with("kafka is not ready: 0/"))
            })
        })
        .await;
        assert_eq!(h["actions"][0]["kind"], "logs", "{h}");
        assert!(
            h["actions"][0]["components"]
                .as_array()
                .unwrap()
                .contains(&json!("kafka"))
        );
    }
    assert!(
        hint(
            &api.get(&base).await.1,
            "capture",
            "posthog-background-delayed"
        )
        .is_none()
    );
    scale(&api, &base, "kafka", 1).await;
    until(&api, &base, "the delayed-processing hint gone", |v| {
        hint(v, "web", "posthog-background-delayed")
            .is_none()
            .then_some(())
    })
    .await;

    // Redis scaled to 0: the plugin server cannot validate its connections; the env check
    // names the variable that reaches Redis, and the fix is a restart of plugins.
    scale(&api, &base, "redis", 0).await;
    let h = until(&api, &base, "the plugins hint", |v| {
        hint(v, "plugins", "posthog-plugins-validation")
    })
    .await;
    let ev = evidence(&h);
    assert!(
        ev.iter().any(|e| e.starts_with("redis is not ready")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.starts_with("plugins reaches redis through env ")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.starts_with("plugins reaches kafka through env ")),
        "{ev:?}"
    );
    assert_eq!(
        h["actions"][0],
        json!({"kind": "restart", "component": "plugins"})
    );
    scale(&api, &base, "redis", 1).await;
    until(&api, &base, "the plugins hint gone", |v| {
        hint(v, "plugins", "posthog-plugins-validation")
            .is_none()
            .then_some(())
    })
    .await;
    ns.delete().await;
}

#[tokio::test]
async fn a_failing_postgres_init_job_shows_the_database_hint_on_the_app_cards() {
    let client = common::cluster_client().await;
    // The local cluster fails every Job pod in a namespace named `...failing-jobs...`.
    let ns = common::TestNamespace::create(&client, "failing-jobs").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    // Not waited for: its Jobs never succeed.
    let (status, op) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "db"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{op}");
    let base = format!("/api/v1/instances/{}/db", ns.name);
    for card in ["web", "worker", "plugins"] {
        let h = until(&api, &base, "the database startup hint", |v| {
            hint(v, card, "posthog-database-startup")
                .filter(|h| evidence(h).iter().any(|e| e.contains("of its pods failed")))
        })
        .await;
        let ev = evidence(&h);
        assert!(
            ev.iter()
                .any(|e| e.starts_with("Job db-pg-init has not succeeded: ")),
            "{ev:?}"
        );
        assert_eq!(
            h["actions"][0],
            json!({"kind": "restart", "component": card})
        );
    }
    // Capture does not use PostgreSQL: no such hint there.
    assert!(
        hint(
            &api.get(&base).await.1,
            "capture",
            "posthog-database-startup"
        )
        .is_none()
    );
    ns.delete().await;
}

#[tokio::test]
async fn an_image_pull_back_off_and_an_oom_kill_show_their_evidence() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "podfaults").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = api.healthy_posthog(&ns.name, "pf").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    let pod_of = |component: &'static str| {
        let pods = pods.clone();
        async move {
            let lp = ListParams::default().labels(&format!("berth.dev/component={component}"));
            pods.list(&lp).await.unwrap().items[0].clone()
        }
    };

    // What a kubelet reports when the image cannot be pulled.
    let capture = pod_of("capture").await;
    let container = capture.spec.as_ref().unwrap().containers[0].name.clone();
    let status = json!({"status": {"containerStatuses": [{"name": container, "image": "x", "imageID": "",
        "ready": false, "restartCount": 0, "started": false,
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/posthog/capture:nope\""}}}]}});
    pods.patch_status(
        capture.metadata.name.as_deref().unwrap(),
        &PatchParams::default(),
        &Patch::Strategic(status),
    )
    .await
    .unwrap();
    let h = until(&api, &base, "the image pull hint", |v| {
        hint(v, "capture", "image-pull")
    })
    .await;
    assert_eq!(
        evidence(&h),
        [format!(
            "pod {}, container {container}: ImagePullBackOff (Back-off pulling image \"ghcr.io/posthog/capture:nope\")",
            capture.metadata.name.as_deref().unwrap()
        )]
    );
    until(&api, &base, "capture Degraded", |v| {
        (common::card(v, "capture")["health"]["reason"]
            .as_str()?
            .contains("image pull back-off"))
        .then_some(())
    })
    .await;

    // What a kubelet reports after the kernel killed a container at its memory limit.
    let worker = pod_of("worker").await;
    let container = worker.spec.as_ref().unwrap().containers[0].name.clone();
    let status = json!({"status": {"containerStatuses": [{"name": container, "image": "x", "imageID": "",
        "ready": true, "restartCount": 1, "started": true,
        "state": {"running": {"startedAt": "2026-11-26T00:00:00Z"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
            "startedAt": "2026-11-26T00:00:00Z", "finishedAt": "2026-11-26T00:00:01Z"}}}]}});
    pods.patch_status(
        worker.metadata.name.as_deref().unwrap(),
        &PatchParams::default(),
        &Patch::Strategic(status),
    )
    .await
    .unwrap();
    let h = until(&api, &base, "the OOM hint", |v| {
        hint(v, "worker", "oom-killed")
    })
    .await;
    let (_, view) = api.get(&base).await;
    let limit = common::card(&view, "worker")["spec"]["containers"][0]["memoryLimit"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        evidence(&h),
        [format!(
            "pod {}, container {container}: OOMKilled (exit code 137); its memory limit is {limit}",
            worker.metadata.name.as_deref().unwrap()
        )]
    );
    assert_eq!(common::card(&view, "worker")["restarts"], 1);

    // The instance page's cards show both, with their evidence.
    let (status, html) = api.page(&format!("/instances/{}/pf", ns.name)).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        r#"data-rule="image-pull""#,
        "ImagePullBackOff (Back-off pulling image",
        r#"data-rule="oom-killed""#,
        &format!("OOMKilled (exit code 137); its memory limit is {limit}"),
    ] {
        assert!(html.contains(shown), "the page shows {shown}");
    }
    ns.delete().await;
}
