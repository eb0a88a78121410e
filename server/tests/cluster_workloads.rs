//! Against the local control plane: the other workload kinds Berth deploys behave as on a real
//! cluster. A StatefulSet's pods, with volumes claimed from the default StorageClass, become Running
//! and Ready; a Job's pod completes.

mod common;

use std::time::Duration;

use k8s_openapi::api::{apps::v1::StatefulSet, batch::v1::Job, core::v1::PersistentVolumeClaim};
use kube::{
    Api,
    api::{Patch, PatchParams},
    runtime::wait::{await_condition, conditions},
};

#[tokio::test]
async fn a_statefulset_becomes_ready_and_a_job_completes() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "workloads").await;
    let ssa = PatchParams::apply("berth").force();

    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    let manifest = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2, "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    });
    sts.patch("db", &ssa, &Patch::Apply(&manifest))
        .await
        .expect("apply statefulset");

    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    let job = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "init"},
        "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}]}}}
    });
    jobs.patch("init", &ssa, &Patch::Apply(&job))
        .await
        .expect("apply job");

    let ready = |s: Option<&StatefulSet>| {
        s.and_then(|s| s.status.as_ref())
            .is_some_and(|st| st.ready_replicas == Some(2) && st.available_replicas == Some(2))
    };
    tokio::time::timeout(Duration::from_secs(90), await_condition(sts, "db", ready))
        .await
        .expect("statefulset ready within 90s")
        .expect("watch ok");
    tokio::time::timeout(
        Duration::from_secs(90),
        await_condition(jobs, "init", conditions::is_job_completed()),
    )
    .await
    .expect("job completed within 90s")
    .expect("watch ok");
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    for claim in ["data-db-0", "data-db-1"] {
        let pvc = pvcs.get(claim).await.expect("claim exists");
        assert_eq!(
            pvc.status.and_then(|s| s.phase).as_deref(),
            Some("Bound"),
            "{claim} is bound"
        );
        let class = pvc.spec.and_then(|s| s.storage_class_name);
        assert_eq!(
            class.as_deref(),
            Some("berth-local"),
            "the default class applies"
        );
    }
    ns.delete().await;
}
