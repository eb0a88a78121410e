//! No secret shown, anywhere. Against the local control plane: a change sets an environment
//! variable `API_TOKEN`, a password input, and a variable `BILLING_ACCOUNT` marked `secret`. The
//! values reach the cluster (the last one only in a Secret Berth owns, which the Deployment
//! references), and none appears in the preview, the operation, the history (revisions, their
//! change sets and manifests, diffs), the instance view, the SSE stream, the bytes of the database
//! file, or any log line (every crate at debug, Berth at trace), checked by searching for them.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use berth::kube::Cluster;
use common::api::TestApi;
use futures::StreamExt;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Secret};
use kube::Api;
use serde_json::json;
use tower::ServiceExt;

const VAULT: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: vault\nspec:\n  title: Vault\n  defaults:\n    app_name:\n      type: string\n      value: vault\n  inputs:\n    admin_password:\n      type: string\n      default: first-password-1234\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${{ defaults.app_name }}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: vault}}\n  template:\n    metadata: {labels: {app: vault}}\n    spec:\n      containers:\n        - name: vault\n          image: nginx:1.27\n          env:\n            - name: ADMIN_PASSWORD\n              value: ${{ inputs.admin_password }}\n";

const TOKEN: &str = "sk-live-0123456789abcdef";
const PASSWORD: &str = "hunter2-rotated-9876";
const ACCOUNT: &str = "acct-9f8e7d6c5b4a-billing";

/// Every log line of this test process, as written.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Logs {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug,berth=trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    logs
}

#[tokio::test]
async fn an_api_token_env_and_a_password_input_never_leave_berth_in_the_clear() {
    let logs = capture_logs();
    let (api, dir) =
        TestApi::with_template_and_db("vault", VAULT, Cluster::connect(None, None).await, true)
            .await;
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "secrets").await;
    let base = format!("/api/v1/instances/{}/vault", ns.name);
    let (status, op) = api
        .post(
            "/api/v1/instances?wait=true",
            json!({"template": "vault", "namespace": ns.name}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");

    // Listen to the instance's stream while the change runs.
    let events = Request::get(format!("{base}/events"))
        .header("authorization", api.bearer())
        .body(Body::empty())
        .unwrap();
    let stream = api.router.clone().oneshot(events).await.unwrap();
    let sse = tokio::spawn(async move {
        let mut text = String::new();
        let mut body = stream.into_body().into_data_stream();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !text.contains("event: finished") && tokio::time::Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(5), body.next()).await {
                Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => break,
                Err(_) => {}
            }
        }
        text
    });

    let edits = json!([
        {"type": "env", "component": "main", "name": "API_TOKEN", "value": {"kind": "value", "value": TOKEN}},
        {"type": "input", "name": "admin_password", "value": PASSWORD},
        {"type": "env", "component": "main", "name": "BILLING_ACCOUNT", "value": {"kind": "value", "value": ACCOUNT}, "secret": true}
    ]);
    let (status, preview) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview["diff"].as_str().unwrap().contains("API_TOKEN"),
        "the diff shows what changed: {preview}"
    );
    let (status, op) = api.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let streamed = sse.await.unwrap();
    assert!(streamed.contains("event: finished"), "{streamed}");

    // The cluster has the real values.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let live = serde_json::to_string(&deployments.get("vault").await.unwrap()).unwrap();
    assert!(live.contains(TOKEN) && live.contains(PASSWORD), "applied");
    assert!(
        !live.contains(ACCOUNT),
        "a secret variable is not in the Deployment"
    );
    assert!(
        live.contains(r#"{"name":"BILLING_ACCOUNT","valueFrom":{"secretKeyRef":{"key":"BILLING_ACCOUNT","name":"vault-berth-env"}}}"#),
        "it references Berth's Secret: {live}"
    );
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns.name);
    let kept = secrets.get("vault-berth-env").await.unwrap();
    assert_eq!(
        kept.data.unwrap()["BILLING_ACCOUNT"].0,
        ACCOUNT.as_bytes(),
        "the value is in the Secret"
    );
    assert_eq!(
        kept.metadata.annotations.unwrap()["berth.dev/owner"],
        format!("{}/vault", ns.name),
        "which Berth owns"
    );

    let mut answers = vec![
        ("the preview".to_string(), preview.to_string()),
        ("the operation".to_string(), op.to_string()),
        ("the SSE stream".to_string(), streamed),
    ];
    let paths = [
        base.clone(),
        format!("{base}/revisions"),
        format!("{base}/revisions/1"),
        format!("{base}/revisions/2"),
        format!("{base}/revisions/2/diff?against=1"),
        format!("/api/v1/operations/{}:vault:2", ns.name),
        format!("{base}/events/k8s"),
    ];
    answers.extend(api.get_all(&paths).await);
    // The pod prints its token and password: its log (served by KWOK from a file) is redacted.
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &ns.name);
    let dir_logs = common::fresh_dir("secrets-logs");
    let file = dir_logs.join("vault.log");
    std::fs::write(
        &file,
        format!("2026-11-26T05:00:00.000000000Z stdout F token={TOKEN} password={PASSWORD} account={ACCOUNT}\n"),
    )
    .unwrap();
    let kwok_logs = common::dynamic_api(
        &client,
        &ns.name,
        ("kwok.x-k8s.io", "v1alpha1", "Logs", "logs"),
    );
    for pod in pods.list(&Default::default()).await.unwrap() {
        let object: kube::api::DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
            "metadata": {"name": pod.metadata.name},
            "spec": {"logs": [{"logsFile": file, "follow": false}]}
        }))
        .unwrap();
        kwok_logs
            .create(&Default::default(), &object)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, log) = api.get(&format!("{base}/logs?component=main")).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let log = log.as_str().unwrap_or_default().to_string();
    assert!(
        log.contains("event: line") && log.contains("token="),
        "{log}"
    );
    answers.push(("the pod's log".into(), log));
    let db =
        |suffix: &str| std::fs::read(dir.join(format!("berth.db{suffix}"))).unwrap_or_default();
    let stored = [db(""), db("-wal")].concat();
    answers.push((
        "the database file".into(),
        String::from_utf8_lossy(&stored).into_owned(),
    ));
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logged.lines().count() > 10, "logs were captured: {logged}");
    answers.push(("the log".into(), logged));
    for (what, text) in &answers {
        assert!(!text.contains(TOKEN), "{what} shows the API token");
        assert!(!text.contains(PASSWORD), "{what} shows the password");
        assert!(!text.contains(ACCOUNT), "{what} shows the secret variable");
    }
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    let change = revisions["revisions"][1]["change"].to_string();
    assert!(
        change.contains("<secret: changed>"),
        "the change set says a secret changed: {change}"
    );
    let (_, revision) = api.get(&format!("{base}/revisions/2")).await;
    assert_eq!(revision["inputs"]["admin_password"], "<redacted>");

    let (status, _) = api.delete_instance(&ns.name, "vault").await;
    assert_eq!(status, StatusCode::OK);
    ns.delete().await;
    let _ = std::fs::remove_dir_all(dir);
}
