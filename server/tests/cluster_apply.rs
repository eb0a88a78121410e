//! Against the local control plane: server-side apply of a Deployment under Berth's field manager,
//! its pods becoming Ready through KWOK, and clean-up.

mod common;

use std::time::Duration;

use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams},
    runtime::wait::{await_condition, conditions},
};

#[tokio::test]
async fn server_side_apply_creates_a_deployment_whose_pods_become_ready() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "ssa").await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);

    let manifest = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello", "labels": {"app.kubernetes.io/managed-by": "berth"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {"containers": [{"name": "hello", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            }
        }
    });
    let applied = deployments
        .patch(
            "hello",
            &PatchParams::apply("berth").force(),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("server-side apply");
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.iter().any(|m| m == "berth"),
        "field manager berth owns fields: {managers:?}"
    );

    tokio::time::timeout(
        Duration::from_secs(90),
        await_condition(
            deployments.clone(),
            "hello",
            conditions::is_deployment_completed(),
        ),
    )
    .await
    .expect("deployment completed within 90s")
    .expect("watch ok");

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    let list = pods
        .list(&ListParams::default().labels("app=hello"))
        .await
        .expect("list pods");
    assert_eq!(list.items.len(), 2);
    for pod in &list.items {
        let status = pod.status.as_ref().expect("pod status");
        assert_eq!(status.phase.as_deref(), Some("Running"));
        let ready = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        assert!(ready, "pod {:?} is Ready", pod.metadata.name);
    }

    // Applying the same manifest again changes nothing.
    let again = deployments
        .patch(
            "hello",
            &PatchParams::apply("berth").force(),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("re-apply");
    assert_eq!(again.metadata.generation, applied.metadata.generation);

    deployments
        .delete("hello", &DeleteParams::foreground())
        .await
        .expect("delete");
    tokio::time::timeout(
        Duration::from_secs(60),
        await_condition(
            deployments,
            "hello",
            conditions::is_deleted(&applied.metadata.uid.unwrap_or_default()),
        ),
    )
    .await
    .expect("deleted within 60s")
    .expect("watch ok");
    ns.delete().await;
}
