//! Against the local control plane, Berth's own apply path: cached discovery resolves the kind, a
//! server-side dry run finds it new, the apply creates it under the field manager `berth`, KWOK
//! makes its pods Ready and Berth's health rules say so, a second apply changes nothing, and
//! Berth's delete removes it.

mod common;

use std::time::Duration;

use app::model::{HealthState, ObjectAction};
use berth::{
    apply::Applier,
    components, health,
    kube::{Discovery, FIELD_MANAGER},
    manifest,
};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kube::{Api, api::ListParams};

#[tokio::test]
async fn berth_applies_a_deployment_whose_pods_become_ready_then_deletes_it() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "ssa").await;
    let mut objects = vec![serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "hello"}},
            "template": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {"containers": [{"name": "hello", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            }
        }
    })];
    let comps = components::derive(&objects, "hello");
    manifest::label(&mut objects, &comps, "hello", &ns.name);
    let discovery = Discovery::new(client.clone());
    let applier = Applier::new(discovery.clone(), "cluster-test");
    let resolved = applier.resolve(&objects, &comps).await.expect("resolve");
    assert_eq!(resolved.len(), 1);

    let planned = applier.plan(&resolved, &ns.name, false).await;
    assert_eq!(planned[0].result.action, ObjectAction::Planned);
    assert_eq!(
        planned[0].existing,
        Some(None),
        "the dry run sees a new object"
    );
    let results = applier
        .apply(&resolved, &planned, &ns.name, false, &|_| {})
        .await;
    assert_eq!(results[0].action, ObjectAction::Created, "{results:?}");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns.name);
    let applied = deployments.get("hello").await.expect("exists");
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.iter().any(|m| m == FIELD_MANAGER),
        "Berth's field manager owns fields: {managers:?}"
    );
    assert_eq!(
        applied.metadata.labels.unwrap_or_default()["berth.dev/instance"],
        "hello"
    );

    // Berth's health rules follow KWOK's pods to Healthy.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let live = serde_json::to_value(deployments.get("hello").await.unwrap()).unwrap();
        let pod_list: Vec<serde_json::Value> = pods
            .list(&ListParams::default().labels("app=hello"))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| serde_json::to_value(p).unwrap())
            .collect();
        let refs: Vec<&serde_json::Value> = pod_list.iter().collect();
        let h = health::object_health(&live, &refs);
        if h.state == HealthState::Healthy {
            assert_eq!(h.reason, "2/2 ready");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never Healthy: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

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

    // Applying the same objects again changes nothing, and discovery is not asked again.
    let resolved = applier.resolve(&objects, &comps).await.expect("resolve");
    let planned = applier.plan(&resolved, &ns.name, false).await;
    assert!(planned[0].existing.as_ref().is_some_and(Option::is_some));
    let again = applier
        .apply(&resolved, &planned, &ns.name, false, &|_| {})
        .await;
    assert_eq!(again[0].action, ObjectAction::Unchanged, "{again:?}");
    assert_eq!(
        deployments.get("hello").await.unwrap().metadata.generation,
        applied.metadata.generation
    );

    let deleted = common::delete_owned(&applier, &resolved, &ns.name, "hello").await;
    assert_eq!(deleted[0].action, ObjectAction::Deleted, "{deleted:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while deployments.get_opt("hello").await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "not deleted");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    ns.delete().await;
}
