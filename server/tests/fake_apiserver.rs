//! The cheapest tier that talks "Kubernetes": a scripted apiserver (`tower_test`'s mock, as
//! kube-rs's controller-rs does) answers Berth's requests and records them. It shows the order
//! Berth applies PostHog in (every dry run first, then the patches tier by tier, each with
//! `fieldManager=berth`), and counts what a confirmed change costs: no discovery request beyond
//! the cached pass; right after its preview, one apply of each object that changes (the
//! preview's dry run stands); otherwise one dry run and one apply of each. None of the rest.

use std::{
    collections::HashMap,
    pin::pin,
    sync::{Arc, Mutex},
};

use app::{
    model::{ChangeRequest, CreateRequest, Edit, OperationStatus},
    service::Created,
};
use berth::{
    kube::Cluster,
    service::{Platform, Service},
    store::{Sealer, Store},
    templates::Templates,
};
use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};

/// One request the apiserver received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: HashMap<String, String>,
}

impl Seen {
    fn is_discovery(&self) -> bool {
        self.method == Method::GET
            && (self.path == "/api/v1" || self.path.starts_with("/apis/"))
            && self.path.split('/').count() <= 4
    }
    fn is_dry_run(&self) -> bool {
        self.method == Method::PATCH && self.query.get("dryRun").map(String::as_str) == Some("All")
    }
    fn is_object_patch(&self) -> bool {
        self.method == Method::PATCH
            && !self.is_dry_run()
            && !self.path.ends_with("/namespaces/ph-ns")
    }
    /// The plural resource a request is about (`deployments`, ...).
    fn resource(&self) -> &str {
        let parts: Vec<&str> = self.path.split('/').collect();
        parts
            .get(parts.len().wrapping_sub(2))
            .copied()
            .unwrap_or_default()
    }
}

/// Resources the fake serves, by group/version: (plural, kind, namespaced).
fn served(group_version: &str) -> Vec<(&'static str, &'static str, bool)> {
    match group_version {
        "v1" => vec![
            ("namespaces", "Namespace", false),
            ("configmaps", "ConfigMap", true),
            ("secrets", "Secret", true),
            ("services", "Service", true),
            ("serviceaccounts", "ServiceAccount", true),
            ("persistentvolumeclaims", "PersistentVolumeClaim", true),
        ],
        "apps/v1" => vec![
            ("deployments", "Deployment", true),
            ("statefulsets", "StatefulSet", true),
        ],
        "batch/v1" => vec![("jobs", "Job", true)],
        "networking.k8s.io/v1" => vec![("ingresses", "Ingress", true)],
        "rbac.authorization.k8s.io/v1" => vec![
            ("roles", "Role", true),
            ("rolebindings", "RoleBinding", true),
        ],
        _ => vec![],
    }
}

/// Apply order by resource: config and RBAC, services, the backing StatefulSets and the Ingress
/// (which needs only its Services), Jobs, then the app workloads.
fn rank(resource: &str) -> u8 {
    match resource {
        "configmaps" | "secrets" | "serviceaccounts" | "roles" | "rolebindings" => 2,
        "persistentvolumeclaims" => 3,
        "services" => 4,
        "statefulsets" | "ingresses" => 5,
        "jobs" => 6,
        "deployments" => 7,
        _ => 8,
    }
}

/// A scripted apiserver: discovery from the table above, the namespace exists, and objects
/// remember their resourceVersion so a dry run can tell new from existing.
struct FakeApiserver {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeApiserver {
    fn start() -> (kube::Client, FakeApiserver) {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            let mut handle = pin!(handle);
            let mut versions: HashMap<String, u64> = HashMap::new();
            while let Some((request, send)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let body = body.collect_bytes().await.unwrap_or_default();
                let query: HashMap<String, String> = parts
                    .uri
                    .query()
                    .unwrap_or_default()
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let seen = Seen {
                    method: parts.method.clone(),
                    path: parts.uri.path().to_string(),
                    query,
                };
                log.lock().unwrap().push(seen.clone());
                let answer = answer(&seen, &body, &mut versions);
                send.send_response(
                    Response::builder()
                        .status(answer.0)
                        .header("content-type", "application/json")
                        .body(Body::from(answer.1.to_string().into_bytes()))
                        .unwrap(),
                );
            }
        });
        (
            kube::Client::new(service, "default"),
            FakeApiserver { seen },
        )
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn answer(seen: &Seen, body: &[u8], versions: &mut HashMap<String, u64>) -> (u16, Value) {
    if seen.is_discovery() {
        let gv = seen
            .path
            .trim_start_matches("/api/")
            .trim_start_matches("/apis/");
        let resources: Vec<Value> = served(gv)
            .into_iter()
            .map(|(name, kind, namespaced)| json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get", "list", "watch", "create", "patch", "delete"]}))
            .collect();
        return (
            200,
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
        );
    }
    if seen.method == Method::GET && seen.path.ends_with("/namespaces/ph-ns") {
        return (
            200,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ph-ns"}}),
        );
    }
    if seen.method == Method::PATCH {
        let mut object: Value = serde_saphyr::from_slice(body)
            .or_else(|_| serde_json::from_slice(body))
            .unwrap_or(json!({}));
        let version = if seen.is_dry_run() {
            versions.get(&seen.path).copied()
        } else {
            let v = versions.entry(seen.path.clone()).or_insert(0);
            *v += 1;
            Some(*v)
        };
        object["metadata"]["resourceVersion"] =
            json!(version.map(|v| v.to_string()).unwrap_or_default());
        return (200, object);
    }
    (
        404,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound", "message": format!("{} not scripted", seen.path)}),
    )
}

async fn service(client: kube::Client) -> Service {
    let store = Store::in_memory(Sealer::new([1; 32])).await.expect("store");
    let templates =
        Templates::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests"));
    Service::new(
        store,
        templates,
        Platform::default(),
        Cluster::from_client(client),
        false,
    )
}

async fn deploy(svc: &Service) -> i64 {
    let request = CreateRequest {
        template: "posthog".into(),
        namespace: Some("ph-ns".into()),
        name: Some("ph".into()),
        inputs: [("platform".to_string(), "kubernetes".to_string())].into(),
        ..Default::default()
    };
    match svc.create(request, "test", true).await.expect("create") {
        Created::Started(op) => {
            assert_eq!(op.status, OperationStatus::Succeeded, "{op:?}");
            op.results.len() as i64
        }
        Created::Planned(_) => panic!("not a dry run"),
    }
}

#[tokio::test]
async fn posthog_is_dry_run_first_then_applied_tier_by_tier_as_berth() {
    let (client, fake) = FakeApiserver::start();
    let svc = service(client).await;
    let objects = deploy(&svc).await as usize;
    let seen = fake.take();
    let dry_runs: Vec<&Seen> = seen.iter().filter(|s| s.is_dry_run()).collect();
    let patches: Vec<&Seen> = seen.iter().filter(|s| s.is_object_patch()).collect();
    assert_eq!(objects, 37, "PostHog on plain Kubernetes has 37 objects");
    assert_eq!(dry_runs.len(), objects, "one dry run per object");
    assert_eq!(patches.len(), objects, "one apply per object");
    let last_dry_run = seen.iter().rposition(Seen::is_dry_run).unwrap();
    let first_patch = seen.iter().position(Seen::is_object_patch).unwrap();
    assert!(
        last_dry_run < first_patch,
        "every dry run comes before the first apply"
    );
    for s in dry_runs.iter().chain(&patches) {
        assert_eq!(
            s.query.get("fieldManager").map(String::as_str),
            Some("berth"),
            "{s:?}"
        );
        assert!(
            !s.query.contains_key("force"),
            "never forced unless asked: {s:?}"
        );
    }
    let ranks: Vec<u8> = patches.iter().map(|s| rank(s.resource())).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "applied in tier order: {:?}",
        patches.iter().map(|s| s.resource()).collect::<Vec<_>>()
    );
    assert_eq!(ranks.first(), Some(&2), "config and RBAC first");
    assert_eq!(
        patches.last().map(|s| s.resource()),
        Some("deployments"),
        "the workloads last"
    );
    let ingress = patches.iter().position(|s| s.resource() == "ingresses");
    let first_job = patches.iter().position(|s| s.resource() == "jobs");
    assert!(
        ingress.is_some() && ingress < first_job,
        "the Ingress before the Jobs and workloads, not after them"
    );
}

#[tokio::test]
async fn a_confirmed_change_dry_runs_and_applies_only_what_changed() {
    let (client, fake) = FakeApiserver::start();
    let svc = service(client).await;
    let objects = deploy(&svc).await as usize;
    let cold: Vec<Seen> = fake.take().into_iter().filter(Seen::is_discovery).collect();
    assert!(
        !cold.is_empty() && cold.len() <= 11,
        "one lookup per kind at most: {cold:?}"
    );

    let change = |base_revision: i64, replicas: u32, plan_hash: Option<String>| ChangeRequest {
        base_revision,
        edits: vec![Edit::Replicas {
            component: "capture".into(),
            replicas,
        }],
        plan_hash,
        force: false,
        strict: false,
        adopt: false,
    };
    let preview = svc
        .preview("ph-ns", "ph", &change(1, 3, None))
        .await
        .expect("preview");
    assert_eq!(preview.changed.len(), 1);
    let seen = fake.take();
    assert_eq!(
        seen.iter().filter(|s| s.is_dry_run()).count(),
        1,
        "a preview dry-runs what changes"
    );
    assert_eq!(
        seen.iter().filter(|s| s.is_discovery()).count(),
        0,
        "discovery is cached"
    );

    // Confirmed right after its preview: the preview's dry run stands, only the apply is sent.
    let op = confirmed(&svc, &change(1, 3, Some(preview.plan_hash))).await;
    let seen = fake.take();
    let (discovery, dry_runs, patches) = counted(&seen);
    println!(
        "confirmed right after its preview: {discovery} discovery requests, {} dry runs and {} applies of {objects} objects, {} requests in all",
        dry_runs.len(),
        patches.len(),
        seen.len()
    );
    assert_eq!(discovery, 0, "no discovery request beyond the cached pass");
    assert_eq!(
        (dry_runs.len(), patches.len(), seen.len()),
        (0, 1, 1),
        "one request: the apply of the one object that changes: {seen:?}"
    );
    assert_eq!(op.results.len(), 1, "{op:?}");

    // A preview is kept for exactly what it previewed: once another preview of the instance
    // has replaced it, confirming the first plans and dry-runs again.
    let first = svc
        .preview("ph-ns", "ph", &change(2, 4, None))
        .await
        .expect("preview");
    svc.preview("ph-ns", "ph", &change(2, 5, None))
        .await
        .expect("another preview");
    fake.take();
    confirmed(&svc, &change(2, 4, Some(first.plan_hash.clone()))).await;
    let seen = fake.take();
    let (discovery, dry_runs, patches) = counted(&seen);
    assert_eq!(discovery, 0);
    assert_eq!(
        (dry_runs.len(), patches.len()),
        (1, 1),
        "the one object that changes is dry-run once and applied once: {dry_runs:?} {patches:?}"
    );
    assert_eq!(dry_runs[0], patches[0]);

    // And a confirmation of a preview the history has moved past is stale, kept or not.
    let again = svc
        .apply_change(
            "ph-ns",
            "ph",
            &change(2, 4, Some(first.plan_hash)),
            "test",
            true,
        )
        .await;
    assert!(
        matches!(again, Err(berth::service::Error::StaleRevision { .. })),
        "{again:?}"
    );
    assert!(fake.take().is_empty(), "nothing was sent");

    // A rollback confirmed right after its preview is applied from it too: capture goes back
    // to revision 1's replicas with one request.
    let preview = svc
        .rollback_preview("ph-ns", "ph", 1, false)
        .await
        .expect("rollback preview");
    assert_eq!(preview.changed.len(), 1, "{:?}", preview.changed);
    fake.take();
    let op = svc
        .rollback(
            "ph-ns",
            "ph",
            1,
            Some(&preview.plan_hash),
            "test",
            false,
            true,
        )
        .await
        .expect("rollback");
    assert_eq!(op.status, OperationStatus::Succeeded, "{op:?}");
    let seen = fake.take();
    let (_, dry_runs, patches) = counted(&seen);
    assert_eq!(
        (dry_runs.len(), patches.len(), seen.len()),
        (0, 1, 1),
        "{seen:?}"
    );
}

/// Applies a change to ph-ns/ph, waiting; it must succeed.
async fn confirmed(svc: &Service, change: &ChangeRequest) -> app::model::OperationInfo {
    let op = svc
        .apply_change("ph-ns", "ph", change, "test", true)
        .await
        .expect("apply");
    assert_eq!(op.status, OperationStatus::Succeeded, "{op:?}");
    op
}

/// Discovery requests, and the paths of dry runs and of applies, among `seen`.
fn counted(seen: &[Seen]) -> (usize, Vec<&String>, Vec<&String>) {
    let discovery = seen.iter().filter(|s| s.is_discovery()).count();
    let dry_runs = seen
        .iter()
        .filter(|s| s.is_dry_run())
        .map(|s| &s.path)
        .collect();
    let patches = seen
        .iter()
        .filter(|s| s.is_object_patch())
        .map(|s| &s.path)
        .collect();
    (discovery, dry_runs, patches)
}
