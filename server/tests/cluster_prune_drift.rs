//! Against the local control plane: an input change that drops an object lists it for pruning in
//! the preview and deletes it on apply; a field changed outside Berth is reported as drift and
//! never silently overwritten, unless the change is forced, even when it changes between a
//! preview and its confirmation.

mod common;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

const TEMPLATE: &str = "apiVersion: app.sealos.io/v1
kind: Template
metadata:
  name: tiny
spec:
  title: Tiny
  defaults:
    app_name:
      type: string
      value: tiny-${{ random(6) }}
  inputs:
    extra:
      description: Add an extra ConfigMap
      type: boolean
      default: 'true'
    init_tag:
      description: Tag of the init Job's image
      type: string
      default: '1.36'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${{ defaults.app_name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: '${{ defaults.app_name }}'}
  template:
    metadata:
      labels: {app: '${{ defaults.app_name }}'}
    spec:
      containers:
        - name: app
          image: nginx:1.27
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ${{ defaults.app_name }}-init
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: init
          image: busybox:${{ inputs.init_tag }}
          command: ['true']
---
${{ if(inputs.extra === 'true') }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${{ defaults.app_name }}-extra
data:
  hello: world
${{ endif() }}
";

#[tokio::test]
async fn pruning_and_drift() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "prune").await;
    let (api, dir) =
        TestApi::with_template("tiny", TEMPLATE, Cluster::connect(None, None).await).await;
    let base = format!("/api/v1/instances/{}/tiny", ns.name);

    let (status, op) = api
        .post(
            "/api/v1/instances?wait=true",
            json!({"template": "tiny", "namespace": ns.name, "name": "tiny"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    assert!(configmaps.get_opt("tiny-extra").await.unwrap().is_some());

    // Dropping the ConfigMap through an input: listed for pruning first, then deleted
    let edits = json!([{"type": "input", "name": "extra", "value": "false"}]);
    let (status, preview) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["prune"],
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "tiny-extra"}])
    );
    assert!(
        preview["diff"]
            .as_str()
            .unwrap()
            .contains("-  hello: world"),
        "{preview}"
    );
    assert!(
        configmaps.get_opt("tiny-extra").await.unwrap().is_some(),
        "nothing changes on preview"
    );
    let (status, op) = api.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert!(
        op["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "pruned" && r["object"]["name"] == "tiny-extra"),
        "{op}"
    );
    assert!(
        configmaps.get_opt("tiny-extra").await.unwrap().is_none(),
        "pruned"
    );

    // Someone scales the Deployment outside Berth
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    scale_outside_berth(&deployments, 4).await;

    // A change that touches the same field shows the drift and, unforced, overwrites nothing
    let edits = json!([{"type": "replicas", "component": "main", "replicas": 2}]);
    let (status, preview) = api.preview(&base, 2, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let drift = preview["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{preview}");
    assert!(
        drift[0]["message"]
            .as_str()
            .unwrap()
            .contains("kubectl-edit"),
        "the drift names who changed it: {drift:?}"
    );
    let (status, op) = api.confirm(&base, 2, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "failed", "{op}");
    assert!(
        op["message"]
            .as_str()
            .unwrap()
            .contains("changed outside Berth"),
        "{op}"
    );
    assert_eq!(
        deployments.get("tiny").await.unwrap().spec.replicas,
        Some(4),
        "not overwritten"
    );
    let (_, revisions) = api.get(&format!("{base}/revisions")).await;
    assert_eq!(
        revisions["revisions"][2]["status"], "failed",
        "the refused attempt is in history"
    );

    // Forced, the change wins
    let (_, instance) = api.get(&base).await;
    assert_eq!(
        instance["revision"], 2,
        "a failed change does not move the current revision"
    );
    let (_, preview) = api
        .post(
            &format!("{base}/changes/preview"),
            json!({"baseRevision": 2, "edits": edits, "force": true}),
        )
        .await;
    assert_eq!(preview["drift"], json!([]), "forced: nothing blocks");
    let (status, op) = api.post(&format!("{base}/changes?wait=true"), json!({"baseRevision": 2, "edits": edits, "planHash": preview["planHash"], "force": true})).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(
        deployments.get("tiny").await.unwrap().spec.replicas,
        Some(2)
    );

    // A Job's pod template cannot change: a new revision replaces the Job instead of failing
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client.clone(), &ns.name);
    let first_uid = jobs.get("tiny-init").await.unwrap().metadata.uid;
    let edits = json!([{"type": "input", "name": "init_tag", "value": "1.37"}]);
    let (_, preview) = api.preview(&base, 4, &edits).await;
    let job_plan = preview["dryRun"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"]["kind"] == "Job")
        .cloned()
        .unwrap();
    assert_eq!(
        job_plan["message"], "will be replaced: a Job's template cannot change",
        "{preview}"
    );
    let (_, op) = api.confirm(&base, 4, &edits, &preview).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    let job = jobs.get("tiny-init").await.unwrap();
    assert_ne!(job.metadata.uid, first_uid, "a new Job");
    assert_eq!(
        job.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("busybox:1.37")
    );

    // Drift that comes between a preview and its confirmation: the confirmation applies from
    // the preview's dry run (made before the drift), and the apply itself refuses to overwrite.
    let edits = json!([{"type": "replicas", "component": "main", "replicas": 3}]);
    let (_, preview) = api.preview(&base, 5, &edits).await;
    assert_eq!(preview["drift"], json!([]), "{preview}");
    scale_outside_berth(&deployments, 6).await;
    let (status, op) = api.confirm(&base, 5, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "failed", "{op}");
    assert!(
        op["results"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("kubectl-edit")),
        "the refusal names who changed it: {op}"
    );
    assert_eq!(
        deployments.get("tiny").await.unwrap().spec.replicas,
        Some(6),
        "not overwritten"
    );

    let _ = api
        .call(
            axum::http::Method::DELETE,
            &format!("{base}?wait=true"),
            None,
        )
        .await;
    let _ = std::fs::remove_dir_all(dir);
    ns.delete().await;
}

/// Scales the Deployment as `kubectl-edit`, another field manager, taking `spec.replicas` over.
async fn scale_outside_berth(deployments: &Api<Deployment>, replicas: i32) {
    let outside = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "tiny"}, "spec": {"replicas": replicas}});
    deployments
        .patch(
            "tiny",
            &PatchParams::apply("kubectl-edit").force(),
            &Patch::Apply(&outside),
        )
        .await
        .unwrap();
}
