//! Health rules: fixtures under `testdata/`, one state per file, then the roll-up into a card.

use super::*;
use serde_json::json;

/// Each fixture under `testdata/` and the health it must get: (file, state, reason, or the
/// start of the reason when it ends with `…`).
const FIXTURES: &[(&str, HealthState, &str)] = &[
    (
        "deployment-progressing-generation.yaml",
        HealthState::Progressing,
        "…",
    ),
    ("deployment-healthy.yaml", HealthState::Healthy, "3/3 ready"),
    (
        "deployment-rolling-out.yaml",
        HealthState::Progressing,
        "rolling out: 1/3 updated, 1 ready",
    ),
    (
        "deployment-image-pull-backoff.yaml",
        HealthState::Degraded,
        "0/3 ready: image pull back-off",
    ),
    ("deployment-paused.yaml", HealthState::Suspended, "…"),
    ("job-complete.yaml", HealthState::Healthy, "…"),
    (
        "job-failed.yaml",
        HealthState::Degraded,
        "failed: BackoffLimitExceeded",
    ),
    ("job-running.yaml", HealthState::Progressing, "running"),
    ("pvc-pending.yaml", HealthState::Progressing, "…"),
    ("pvc-bound.yaml", HealthState::Healthy, "bound (2Gi)"),
    (
        "kubeblocks-cluster-waiting.yaml",
        HealthState::Progressing,
        "waiting for operator…",
    ),
    (
        "bucket-waiting.yaml",
        HealthState::Progressing,
        "waiting for operator…",
    ),
];

/// The object of a fixture, and its pods (the documents after the first).
fn fixture(file: &str) -> (Value, Vec<Value>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/health/testdata")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs: Vec<Value> = text
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{file}: {e}")))
        .collect();
    let object = docs.remove(0);
    (object, docs)
}

#[test]
fn every_fixture_gets_its_health() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/health/testdata");
    let on_disk = std::fs::read_dir(&dir).expect("testdata").count();
    assert_eq!(
        on_disk,
        FIXTURES.len(),
        "every fixture file is in the table"
    );
    for (file, state, reason) in FIXTURES {
        let (object, pods) = fixture(file);
        let pods: Vec<&Value> = pods.iter().collect();
        let h = object_health(&object, &pods);
        assert_eq!(h.state, *state, "{file}: {}", h.reason);
        match reason.strip_suffix('…') {
            Some(prefix) => assert!(h.reason.starts_with(prefix), "{file}: {}", h.reason),
            None => assert_eq!(h.reason, *reason, "{file}"),
        }
    }
}

#[test]
fn a_component_waiting_for_its_init_job_says_so() {
    let comp = Component {
        id: "web".into(),
        card: app::model::CardKind::App,
        primary: ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "x".into(),
        },
        objects: vec![],
        depends_on: vec![],
    };
    let job_ref = ObjectRef {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        name: "x-migrate".into(),
    };
    let live = ComponentLive {
        component: &comp,
        objects: vec![
            (
                comp.primary.clone(),
                Live::Present(
                    json!({"kind": "Deployment", "spec": {"replicas": 1}, "status": {"replicas": 1, "updatedReplicas": 1}}),
                ),
            ),
            (
                job_ref,
                Live::Present(json!({"kind": "Job", "status": {"active": 1}})),
            ),
            (
                ObjectRef {
                    api_version: "v1".into(),
                    kind: "Service".into(),
                    name: "svc".into(),
                },
                Live::NotWatched,
            ),
        ],
        pods: vec![],
    };
    let s = component_status(&live);
    assert_eq!(
        s.health,
        Health::new(HealthState::Progressing, "waiting for `x-migrate` Job")
    );
    assert_eq!(s.object_health.len(), 3);
    let unsynced = ComponentLive {
        component: &comp,
        objects: vec![(comp.primary.clone(), Live::NotSynced)],
        pods: vec![],
    };
    assert_eq!(
        component_status(&unsynced).health.state,
        HealthState::Unknown,
        "never Healthy before the watch has synced"
    );
    let gone = ComponentLive {
        component: &comp,
        objects: vec![(comp.primary.clone(), Live::Absent)],
        pods: vec![],
    };
    assert_eq!(component_status(&gone).health.state, HealthState::Missing);
}

#[test]
fn services_count_ready_endpoints() {
    let svc = json!({"kind": "Service", "spec": {"selector": {"app": "web"}}});
    let pod = |app: &str, ready: &str| json!({"kind": "Pod", "metadata": {"labels": {"app": app}}, "status": {"conditions": [{"type": "Ready", "status": ready}]}});
    assert_eq!(
        service(
            &svc,
            &[pod("web", "True"), pod("web", "True"), pod("db", "True")]
        ),
        Health::new(HealthState::Healthy, "2 endpoints")
    );
    assert_eq!(
        service(&svc, &[pod("web", "False")]).reason,
        "no ready endpoints (0/1 pods ready)"
    );
    assert_eq!(service(&svc, &[]).state, HealthState::Progressing);
    let headless = json!({"kind": "Service", "spec": {"selector": {"app": "web"}, "publishNotReadyAddresses": true}});
    assert_eq!(
        service(&headless, &[pod("web", "False")]).state,
        HealthState::Healthy
    );
    assert_eq!(
        service(&json!({"kind": "Service", "spec": {}}), &[]).state,
        HealthState::Healthy
    );
}

#[test]
fn worst_follows_gitops_engine_order() {
    let h = worst([
        Health::new(HealthState::Healthy, "a"),
        Health::new(HealthState::Missing, "b"),
        Health::new(HealthState::Progressing, "c"),
    ]);
    assert_eq!(h.state, HealthState::Missing);
}
