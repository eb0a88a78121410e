//! Against the local control plane, through the REST API: deploy the `kubernetes` variant of
//! PostHog, watch it become Healthy, change it with a previewed change set, roll back, refuse bad
//! input without changing anything, keep history readable with the cluster down, and delete it
//! leaving nothing behind.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    core::v1::{PersistentVolumeClaim, Pod},
};
use kube::{Api, api::ListParams};
use serde_json::{Value, json};

async fn wait_until<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn deployment_of(objects: &[Value], name: &str) -> Value {
    objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn posthog_lifecycle_through_the_api() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "posthog").await;
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let base = format!("/api/v1/instances/{}/ph", ns.name);

    // Given the PostHog template with its inputs schema
    let (status, t) = api.get("/api/v1/templates/posthog").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["inputs"][0]["name"], "platform");

    // When it is deployed (kubernetes variant)
    let (status, op) = api
        .post("/api/v1/instances?wait=true", json!({"template": "posthog", "namespace": ns.name, "name": "ph", "inputs": {"platform": "kubernetes"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let results = op["results"].as_array().unwrap();
    assert!(results.len() >= 30);
    assert!(results.iter().all(|r| r["action"] == "created"), "{op}");

    // A second instance of the same template in the namespace does not collide: the same name is
    // refused, and an unnamed one gets its own generated name for every object
    let (status, err) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "ph"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (status, plan) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "dryRun": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let other = plan["name"].as_str().unwrap();
    assert!(other.starts_with("posthog-") && other != "ph", "{other}");
    assert!(
        plan["dryRun"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "planned"),
        "{plan}"
    );
    let foreign: Vec<&str> = plan["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metadata"]["name"].as_str().unwrap())
        .filter(|n| !n.contains(other))
        .collect();
    assert!(
        foreign.is_empty(),
        "every object is named after the instance {other}: {foreign:?}"
    );
    let pg_secret = plan["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metadata"]["name"] == format!("{other}-pg-conn-credential"))
        .unwrap();
    assert!(
        pg_secret["stringData"]["password"]
            .as_str()
            .unwrap()
            .starts_with("<redacted:"),
        "plans redact secrets: {pg_secret}"
    );

    // Then every object exists and every workload becomes ready, and the instance is Healthy
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    wait_until("the instance to be Healthy", 180, || async {
        let (_, view) = api.get(&base).await;
        view["health"]["state"] == "Healthy"
    })
    .await;
    let (_, view) = api.get(&base).await;
    let ids: Vec<&str> = view["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for expected in [
        "web",
        "worker",
        "plugins",
        "capture",
        "replay-capture",
        "feature-flags",
        "pg",
        "redis",
        "kafka",
        "clickhouse",
        "zookeeper",
        "storage",
        "ingress",
    ] {
        assert!(ids.contains(&expected), "component {expected} in {ids:?}");
    }
    let card = |id: &str| common::card(&view, id);
    assert_eq!(card("capture")["dependsOn"], json!(["kafka", "redis"]));
    assert_eq!(card("capture")["card"], "app");
    assert_eq!(card("capture")["health"]["reason"], "1/1 ready");
    let capture_service = card("capture")["objectHealth"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"]["kind"] == "Service")
        .cloned()
        .unwrap();
    assert_eq!(
        capture_service["health"],
        json!({"state": "Healthy", "reason": "1 endpoint"}),
        "Services report their endpoints"
    );
    assert_eq!(
        (
            card("capture")["podsReady"].clone(),
            card("capture")["podsTotal"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(card("clickhouse")["dependsOn"], json!(["zookeeper"]));
    assert_eq!(card("pg")["card"], "database");
    for d in deployments.list(&ListParams::default()).await.unwrap() {
        let s = d.status.unwrap_or_default();
        assert_eq!(
            s.ready_replicas, d.spec.replicas,
            "{:?} ready",
            d.metadata.name
        );
    }
    for s in statefulsets.list(&ListParams::default()).await.unwrap() {
        assert_eq!(
            s.status.unwrap_or_default().ready_replicas,
            Some(1),
            "{:?} ready",
            s.metadata.name
        );
    }

    // When a change set scales capture to 3 and gives worker 2Gi
    let edits = json!([
        {"type": "replicas", "component": "capture", "replicas": 3},
        {"type": "resources", "component": "worker", "memoryRequest": "2Gi", "memoryLimit": "2Gi"}
    ]);
    let (status, preview) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let diff = preview["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  replicas: 1") && diff.contains("+  replicas: 3"),
        "{diff}"
    );
    assert!(diff.contains("+            memory: 2Gi"), "{diff}");
    assert!(
        preview["dryRun"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "planned"),
        "{preview}"
    );
    // Checked against the real generated passwords once they are in the cluster (below).
    let preview_diff = diff.to_string();

    // Nothing changes before the confirming call
    let capture = deployments.get("ph-capture").await.unwrap();
    assert_eq!(capture.spec.replicas, Some(1));
    let (status, err) = api
        .post(
            &format!("{base}/changes"),
            json!({"baseRevision": 1, "edits": edits}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "apply needs the preview's plan hash: {err}"
    );

    let (status, op) = api.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["revision"], 2);
    wait_until("3/3 ready capture pods", 60, || async {
        deployments
            .get("ph-capture")
            .await
            .ok()
            .and_then(|d| d.status)
            .and_then(|s| s.ready_replicas)
            == Some(3)
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    let capture_pods = pods
        .list(&ListParams::default().labels("berth.dev/component=capture"))
        .await
        .unwrap();
    assert_eq!(
        capture_pods
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count(),
        3
    );
    let worker = deployments.get("ph-worker").await.unwrap();
    let limits = worker.spec.template.spec.unwrap().containers[0]
        .resources
        .clone()
        .unwrap()
        .limits
        .unwrap();
    assert_eq!(limits["memory"].0, "2Gi");

    // A stale change set is refused with the current revision
    let (status, err) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["details"]["currentRevision"], 2);

    // Bad input gets a clear error and changes nothing
    for (edit, needle) in [
        (
            json!({"type": "replicas", "component": "captur", "replicas": 2}),
            "unknown component `captur`",
        ),
        (
            json!({"type": "resources", "component": "worker", "memoryLimit": "2 gigs"}),
            "`2 gigs` is not a valid memory quantity",
        ),
        (
            json!({"type": "storage", "component": "clickhouse", "size": "1Gi"}),
            "cannot shrink from 5Gi to 1Gi",
        ),
        (
            json!({"type": "input", "name": "platform", "value": "openshift"}),
            "expected one of kubernetes, sealos",
        ),
    ] {
        let (status, err) = api
            .post(
                &format!("{base}/changes/preview"),
                json!({"baseRevision": 2, "edits": [edit]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
        assert_eq!(err["error"], "invalid");
    }
    let (status, err) = api
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 2, "edits": [{"type": "teleport"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = api
        .call(
            axum::http::Method::POST,
            &format!("{base}/changes/preview"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    assert_eq!(
        revisions["revisions"].as_array().unwrap().len(),
        2,
        "refused changes leave no revision"
    );

    // A rollback is previewed as a change is: the diff back, and a plan hash that a stale
    // confirmation cannot match.
    let (status, preview) = api
        .post(&format!("{base}/revisions/1/rollback/preview"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview["diff"].as_str().unwrap().contains("-  replicas: 3"),
        "{preview}"
    );
    assert_eq!(preview["baseRevision"], 2);
    let (status, stale) = api
        .post(
            &format!("{base}/revisions/1/rollback?wait=true&planHash=stale"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");

    // Rolling back (the previewed plan) restores the previous manifests exactly
    let hash = preview["planHash"].as_str().unwrap();
    let (status, op) = api
        .post(
            &format!("{base}/revisions/1/rollback?wait=true&planHash={hash}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["revision"], 3);
    let (_, r1) = api.get(&format!("{base}/revisions/1")).await;
    let (_, r3) = api.get(&format!("{base}/revisions/3")).await;
    assert_eq!(
        r1["manifests"], r3["manifests"],
        "revision 3 has revision 1's manifests"
    );
    assert_eq!(r3["kind"], "rollback");
    assert_eq!(r3["change"]["rollbackTo"], 1);
    let (_, d) = api.get(&format!("{base}/revisions/3/diff?against=1")).await;
    assert_eq!(d["diff"], "");
    let (_, d) = api.get(&format!("{base}/revisions/2/diff?against=1")).await;
    assert!(d["diff"].as_str().unwrap().contains("+  replicas: 3"));
    let live_worker = deployments.get("ph-worker").await.unwrap();
    let limits = live_worker.spec.template.spec.unwrap().containers[0]
        .resources
        .clone()
        .unwrap()
        .limits
        .unwrap();
    assert_eq!(limits["memory"].0, "1Gi", "the worker's memory is back");
    assert_eq!(
        deployments.get("ph-capture").await.unwrap().spec.replicas,
        Some(1)
    );
    assert_eq!(
        deployment_of(r1["manifests"].as_array().unwrap(), "ph-capture")["spec"]["replicas"],
        1
    );

    // History has who, what and the results; secrets never appear
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    let list = revisions["revisions"].as_array().unwrap();
    assert_eq!(
        list.iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["deploy", "change", "rollback"]
    );
    assert!(
        list.iter()
            .all(|r| r["actor"] == "test-suite" && r["status"] == "succeeded")
    );
    // Each also records, just after its end, the health it left the instance in.
    wait_until("each revision's health", 10, || async {
        let (_, revisions) = api.get(&format!("{base}/revisions")).await;
        let list = revisions["revisions"].as_array().unwrap().clone();
        list.iter().all(|r| r["health"].is_string())
    })
    .await;
    // Every generated password and key (the values of the instance's Secrets) stays out of
    // every diff, revision and view.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), &ns.name);
    let generated: Vec<String> = secrets
        .list(&kube::api::ListParams::default().labels("berth.dev/instance=ph"))
        .await
        .unwrap()
        .items
        .into_iter()
        .flat_map(|s| s.data.unwrap_or_default().into_values())
        .filter_map(|v| String::from_utf8(v.0).ok())
        .filter(|v| v.len() >= 12 && v.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    assert!(
        generated.len() >= 4,
        "the instance has generated passwords: {}",
        generated.len()
    );
    let pg = secrets.get("ph-pg-conn-credential").await.unwrap();
    let password = String::from_utf8(pg.data.unwrap()["password"].0.clone()).unwrap();
    assert!(generated.contains(&password));
    let mut answers = vec![("the preview diff".to_string(), preview_diff.clone())];
    let paths = [
        format!("{base}/revisions/1"),
        format!("{base}/revisions/2"),
        format!("{base}/revisions/3"),
        format!("{base}/revisions/2/diff?against=1"),
        format!("{base}/revisions/3/diff?against=2"),
        format!("{base}/revisions"),
        base.clone(),
    ];
    answers.extend(api.get_all(&paths).await);
    for (what, text) in &answers {
        for secret in &generated {
            assert!(
                !text.contains(secret.as_str()),
                "{what} leaks a generated secret"
            );
        }
    }
    assert!(
        answers[1].1.contains("<redacted:"),
        "the revision shows where a secret was"
    );

    // With the cluster down, history stays readable and operations answer 503
    let down = TestApi::with_store(
        berth::Config::for_tests(),
        api.state.service.store().clone(),
        Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await,
    )
    .await;
    let (status, revs) = down.get(&format!("{base}/revisions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revs["revisions"].as_array().unwrap().len(), 3);
    let (status, err) = down
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 3, "edits": edits}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err["error"], "unavailable");
    let (status, view) = down.get(&base).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["health"]["state"], "Unknown");

    // Delete runs in the background like every operation, and leaves nothing behind
    let (status, running) = api.call(axum::http::Method::DELETE, &base, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{running}");
    assert_eq!(running["status"], "running", "{running}");
    let id = running["id"].as_str().unwrap().to_string();
    let mut op = running.clone();
    wait_until("the delete to finish", 120, || {
        let (api, id) = (api.clone(), id.clone());
        async move { api.get(&format!("/api/v1/operations/{id}")).await.1["status"] != "running" }
    })
    .await;
    if let (StatusCode::OK, done) = api.get(&format!("/api/v1/operations/{id}")).await {
        op = done;
    }
    assert_eq!(op["status"], "succeeded", "{op}");
    let removed = op["results"].as_array().unwrap();
    assert!(
        removed
            .iter()
            .any(|r| r["object"]["kind"] == "PersistentVolumeClaim"),
        "claims of StatefulSets are removed too"
    );
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    wait_until("every object to be gone", 120, || async {
        let lp = ListParams::default().labels("berth.dev/instance=ph");
        deployments.list(&lp).await.unwrap().items.is_empty()
            && statefulsets.list(&lp).await.unwrap().items.is_empty()
            && claims.list(&lp).await.unwrap().items.is_empty()
            && pods.list(&lp).await.unwrap().items.is_empty()
            && secrets.list(&lp).await.unwrap().items.is_empty()
    })
    .await;
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    assert_eq!(
        revisions["revisions"].as_array().unwrap().len(),
        4,
        "the delete is a revision and history is kept"
    );
    ns.delete().await;
}
