//! Against the local control plane, Berth's apply path for the other workload kinds it deploys:
//! a StatefulSet whose claim templates bind from the default StorageClass and a Job, applied in
//! tiers through Berth's applier. Berth's health rules find the StatefulSet, its claims and the
//! Job Healthy, and Berth's delete of the instance's claims removes what the StatefulSet left.
//! Growing the StatefulSet's claim templates grows its claims and re-creates it with its pods
//! kept; shrinking them, or changing them otherwise, stays the apiserver's refusal.

mod common;

use std::time::Duration;

use app::model::{HealthState, ObjectAction};
use berth::{apply::Applier, components, health, kube::Discovery, manifest};
use k8s_openapi::api::{apps::v1::StatefulSet, batch::v1::Job, core::v1::PersistentVolumeClaim};
use kube::Api;
use serde_json::Value;

async fn healthy<K>(api: &Api<K>, name: &str) -> bool
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let Ok(Some(live)) = api.get_opt(name).await else {
        return false;
    };
    let mut live = serde_json::to_value(live).unwrap();
    live["kind"] = Value::String(K::kind(&()).to_string());
    health::object_health(&live, &[]).state == HealthState::Healthy
}

#[tokio::test]
async fn berth_applies_a_statefulset_that_becomes_ready_and_a_job_that_completes() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "workloads").await;
    let mut objects = vec![
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "wl-db"},
            "spec": {
                "replicas": 2, "serviceName": "wl-db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16",
                        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
            }
        }),
        serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "wl-db-init"},
            "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}]}}}
        }),
    ];
    let comps = components::derive(&objects, "wl");
    manifest::label(&mut objects, &comps, "wl", &ns.name);
    let applier = Applier::new(Discovery::new(client.clone()), "cluster-test");
    let resolved = applier.resolve(&objects, &comps).await.expect("resolve");
    let planned = applier.plan(&resolved, &ns.name, false).await;
    let results = applier
        .apply(&resolved, &planned, &ns.name, false, &|_| {})
        .await;
    assert!(
        results.iter().all(|r| r.action == ObjectAction::Created),
        "{results:?}"
    );

    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !(healthy(&sts, "wl-db").await && healthy(&jobs, "wl-db-init").await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the StatefulSet and the Job never became Healthy"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = sts.get("wl-db").await.unwrap().status.unwrap_or_default();
    assert_eq!(
        (status.ready_replicas, status.available_replicas),
        (Some(2), Some(2))
    );
    let job = jobs
        .get("wl-db-init")
        .await
        .unwrap()
        .status
        .unwrap_or_default();
    assert_eq!(job.succeeded, Some(1), "the Job completed");
    for claim in ["data-wl-db-0", "data-wl-db-1"] {
        assert!(healthy(&pvcs, claim).await, "{claim} is bound");
        let pvc = pvcs.get(claim).await.expect("claim exists");
        assert_eq!(
            pvc.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Bound"),
            "{claim} is bound"
        );
        let class = pvc.spec.and_then(|s| s.storage_class_name);
        assert_eq!(
            class.as_deref(),
            Some("berth-local"),
            "the default class applies"
        );
        assert_eq!(
            pvc.metadata.labels.unwrap_or_default()["berth.dev/instance"],
            "wl",
            "claims carry the instance label from the claim template"
        );
    }

    // Deleting the StatefulSet leaves its claims; Berth removes them by the instance label.
    common::delete_owned(&applier, &resolved, &ns.name, "wl").await;
    let claims = applier
        .delete_claims(&ns.name, "wl")
        .await
        .expect("delete claims");
    assert_eq!(claims.len(), 2, "{claims:?}");
    assert!(claims.iter().all(|c| c.action == ObjectAction::Deleted));
    ns.delete().await;
}

fn database(size: &str, access: &str) -> Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "gr-db"},
        "spec": {
            "replicas": 2, "serviceName": "gr-db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": [access], "resources": {"requests": {"storage": size}}}}]
        }
    })
}

async fn pod_uids(client: &kube::Client, ns: &str) -> Vec<String> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), ns);
    let mut uids: Vec<String> = pods
        .list(&kube::api::ListParams::default().labels("app=db"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.metadata.uid)
        .collect();
    uids.sort();
    uids
}

#[tokio::test]
async fn growing_a_statefulsets_volumes_grows_its_claims_and_keeps_its_pods() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "regrow").await;
    let applier = Applier::new(Discovery::new(client.clone()), "cluster-test");
    let apply = |size: &'static str, access: &'static str| {
        let applier = applier.clone();
        let ns = ns.name.clone();
        async move {
            let mut objects = vec![database(size, access)];
            let comps = components::derive(&objects, "gr");
            manifest::label(&mut objects, &comps, "gr", &ns);
            let resolved = applier.resolve(&objects, &comps).await.expect("resolve");
            let planned = applier.plan(&resolved, &ns, false).await;
            if planned[0].result.action == ObjectAction::Failed {
                return (planned[0].result.clone(), None);
            }
            let results = applier
                .apply(&resolved, &planned, &ns, false, &|_| {})
                .await;
            (planned[0].result.clone(), Some(results[0].clone()))
        }
    };
    let (_, created) = apply("1Gi", "ReadWriteOnce").await;
    assert_eq!(created.unwrap().action, ObjectAction::Created);
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !(healthy(&sts, "gr-db").await
        && healthy(&pvcs, "data-gr-db-0").await
        && healthy(&pvcs, "data-gr-db-1").await)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the StatefulSet never became Healthy"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let pods_before = pod_uids(&client, &ns.name).await;
    assert_eq!(pods_before.len(), 2);

    // Grow: the dry run says what will happen, the apply does it.
    let (planned, applied) = apply("3Gi", "ReadWriteOnce").await;
    assert_eq!(planned.action, ObjectAction::Planned, "{planned:?}");
    let said = planned.message.unwrap_or_default();
    assert!(
        said.contains("re-created with its pods kept running")
            && said.contains("data-gr-db-0 1Gi → 3Gi")
            && said.contains("data-gr-db-1 1Gi → 3Gi"),
        "{said}"
    );
    let applied = applied.expect("applied");
    assert_eq!(applied.action, ObjectAction::Configured, "{applied:?}");
    let live = sts.get("gr-db").await.unwrap();
    let template = &live.spec.volume_claim_templates.unwrap()[0];
    assert_eq!(
        template
            .spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"]
            .0,
        "3Gi"
    );
    // The claims ask for 3Gi, and the local provisioner expands them (as a CSI resizer would).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for claim in ["data-gr-db-0", "data-gr-db-1"] {
        loop {
            let pvc = pvcs.get(claim).await.unwrap();
            let asked = pvc.spec.unwrap().resources.unwrap().requests.unwrap()["storage"]
                .0
                .clone();
            assert_eq!(asked, "3Gi", "{claim}");
            let held = pvc
                .status
                .and_then(|s| s.capacity)
                .map(|c| c["storage"].0.clone());
            if held.as_deref() == Some("3Gi") {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{claim} holds {held:?}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    assert_eq!(
        pod_uids(&client, &ns.name).await,
        pods_before,
        "no pod restarted"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !healthy(&sts, "gr-db").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the re-created StatefulSet adopts its pods"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Shrinking, or any other change to the templates, stays the apiserver's refusal.
    for (size, access) in [("2Gi", "ReadWriteOnce"), ("4Gi", "ReadWriteMany")] {
        let (planned, applied) = apply(size, access).await;
        assert_eq!(
            planned.action,
            ObjectAction::Failed,
            "{size} {access}: {planned:?}"
        );
        assert!(applied.is_none());
    }
    assert_eq!(pod_uids(&client, &ns.name).await, pods_before);

    let resolved = applier
        .resolve(&[database("3Gi", "ReadWriteOnce")], &[])
        .await
        .unwrap();
    common::delete_owned(&applier, &resolved, &ns.name, "gr").await;
    applier
        .delete_claims(&ns.name, "gr")
        .await
        .expect("delete claims");
    ns.delete().await;
}
