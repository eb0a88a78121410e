//! Helpers shared by the integration tests: a client for the test cluster and throwaway namespaces.
#![allow(dead_code)]

pub mod api;
pub mod process;

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{DeleteParams, Patch, PatchParams},
};

/// A client for the cluster named by `KUBECONFIG`. Panics with instructions when there is none:
/// these tests are meant to run against `end2end/cluster/up`, never to be skipped silently.
pub async fn cluster_client() -> Client {
    let client = Client::try_default().await.unwrap_or_else(|e| {
        panic!("cluster tests need a cluster: run `eval \"$(end2end/cluster/up | tail -n 1)\"` first ({e})")
    });
    tokio::time::timeout(Duration::from_secs(10), client.apiserver_version())
        .await
        .expect("API server answered within 10s")
        .expect("API server reachable");
    client
}

/// A namespace `berth-test-<suffix>`, for one test, which deletes it at its end
/// ([`TestNamespace::delete`]).
pub struct TestNamespace {
    pub name: String,
    client: Client,
}

impl TestNamespace {
    /// Creates (server-side apply) a fresh namespace for one test.
    pub async fn create(client: &Client, purpose: &str) -> TestNamespace {
        let suffix = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % 0xffffff
        );
        let name = format!("berth-test-{purpose}-{suffix}");
        let api: Api<Namespace> = Api::all(client.clone());
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        api.patch(
            &name,
            &PatchParams::apply("berth-tests").force(),
            &Patch::Apply(&ns),
        )
        .await
        .expect("create namespace");
        TestNamespace {
            name,
            client: client.clone(),
        }
    }
}

impl TestNamespace {
    /// Deletes the namespace and waits until it is gone. A test that panics before this leaves its
    /// namespace behind; `end2end/cluster/down` wipes etcd, so nothing outlives the cluster.
    pub async fn delete(self) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.delete(&self.name, &DeleteParams::background())
            .await
            .expect("delete namespace");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while api
            .get_opt(&self.name)
            .await
            .expect("get namespace")
            .is_some()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "namespace {} not gone after 60s",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A kubeconfig whose API server is a closed loopback port.
pub fn unreachable_kubeconfig() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "berth-unreachable-{}.kubeconfig",
        std::process::id()
    ));
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n\
         users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: gone\n  context: {cluster: gone, user: u}\ncurrent-context: gone\n",
    )
    .expect("write kubeconfig");
    path
}

/// Berth's PostHog template, parsed.
pub fn posthog_template() -> berth::template::Template {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../manifests/posthog/index.yaml"
    );
    berth::template::Template::parse(&std::fs::read_to_string(path).expect("template file"))
        .expect("the PostHog template parses")
}

/// The CRDs under `end2end/fixtures/crds/` (Sealos's App, Instance and ObjectStorageBucket, and
/// a KubeBlocks Cluster), as (name, CRD).
pub fn fixture_crds() -> Vec<(String, serde_json::Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/fixtures/crds");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("crd file");
            let crd: serde_json::Value =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let name = crd["metadata"]["name"]
                .as_str()
                .expect("crd name")
                .to_string();
            (name, crd)
        })
        .collect()
}

/// Installs the fixture CRDs and waits until the apiserver serves them.
pub async fn install_fixture_crds(client: &Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::{
        api::{Patch, PatchParams},
        runtime::wait::{await_condition, conditions},
    };
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for (name, crd) in fixture_crds() {
        api.patch(
            &name,
            &PatchParams::apply("berth-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {e}"));
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("crd established in 30s")
        .expect("watch");
    }
    // Discovery caches in the API server settle quickly but not instantly.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// Removes the fixture CRDs and waits until they are gone.
pub async fn remove_fixture_crds(client: &Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for (name, _) in fixture_crds() {
        if api.get_opt(&name).await.expect("get crd").is_some() {
            api.delete(&name, &DeleteParams::default())
                .await
                .expect("delete crd");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while api.get_opt(&name).await.expect("get crd").is_some() {
                assert!(tokio::time::Instant::now() < deadline, "{name} not removed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Records a `deploy` revision of `ns/name` with `state` sealed, as a crashed or earlier Berth
/// would have left it: its number.
pub async fn record_deploy(
    store: &berth::store::Store,
    ns: &str,
    name: &str,
    state: &berth::store::RevisionState,
) -> i64 {
    store
        .begin_revision(&berth::store::NewRevision {
            namespace: ns,
            name,
            template: "posthog",
            kind: "deploy",
            actor: "me",
            change: None,
            redacted_inputs: &serde_json::json!({}),
            redacted_manifests: &[],
            state,
            planned: 0,
        })
        .await
        .expect("a sealed revision")
}

/// A documented path with its parameters filled in (an instance `ns/nope`, revision 1).
pub fn concrete(path: &str) -> String {
    let filled = path
        .replace("{namespace}", "ns")
        .replace("{name}", "nope")
        .replace("{number}", "1")
        .replace("{id}", "ns:nope:1");
    if filled.ends_with("/diff") {
        format!("{filled}?against=1")
    } else {
        filled
    }
}

/// A namespaced API for a kind no typed client knows (a CRD's).
pub fn dynamic_api(
    client: &Client,
    namespace: &str,
    (group, version, kind, plural): (&str, &str, &str, &str),
) -> Api<kube::api::DynamicObject> {
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    Api::namespaced_with(
        client.clone(),
        namespace,
        &kube::discovery::ApiResource::from_gvk_with_plural(&gvk, plural),
    )
}

/// The card of component `id` in an instance view.
pub fn card(view: &serde_json::Value, id: &str) -> serde_json::Value {
    view["components"]
        .as_array()
        .and_then(|cards| cards.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no card {id} in {view}"))
}

/// An empty temporary directory for this test process, named after `purpose`.
pub fn fresh_dir(purpose: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-{purpose}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Deletes, through Berth's applier, the objects instance `instance` owns in `namespace`.
pub async fn delete_owned(
    applier: &berth::apply::Applier,
    objects: &[berth::apply::Resolved],
    namespace: &str,
    instance: &str,
) -> Vec<app::model::ObjectResult> {
    let owner = berth::kube::instance_key(namespace, instance);
    applier
        .delete(
            objects,
            namespace,
            &owner,
            app::model::ObjectAction::Deleted,
        )
        .await
}

/// A template whose ConfigMap key comes from an input: `bad key!` is not a valid key, which only
/// the apiserver checks.
pub const REFUSED_TEMPLATE: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: refused\nspec:\n  title: Refused\n  defaults:\n    app_name:\n      type: string\n      value: refused\n  inputs:\n    key:\n      type: string\n      default: ok-key\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  \"${{ inputs.key }}\": value\n";
