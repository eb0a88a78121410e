//! Both platform variants of `manifests/posthog` pass a server-side dry-run apply against the
//! local control plane, object by object: `kubernetes` as it is, and `sealos` once the Sealos and
//! KubeBlocks CRDs from `end2end/fixtures/crds/` are installed.

mod common;

use berth::template::RenderRequest;
use kube::{
    Api, Client,
    api::{DynamicObject, GroupVersionKind, Patch, PatchParams},
    discovery::{self, Scope},
};

fn render(platform: &str, namespace: &str) -> Vec<serde_json::Value> {
    let template = common::posthog_template();
    let request = RenderRequest {
        inputs: [("platform".to_string(), platform.to_string())].into(),
        platform: [("SEALOS_NAMESPACE".to_string(), namespace.to_string())].into(),
        seed: Some(42),
        ..Default::default()
    };
    template
        .render(&request)
        .expect("renders")
        .objects
        .into_iter()
        .map(|o| o.object)
        .collect()
}

/// Dry-runs each object with server-side apply; returns "Kind/name: error" for each failure.
async fn dry_run_each(
    client: &Client,
    namespace: &str,
    objects: &[serde_json::Value],
) -> Vec<String> {
    let mut failures = Vec::new();
    for obj in objects {
        let api_version = obj["apiVersion"].as_str().expect("apiVersion");
        let kind = obj["kind"].as_str().expect("kind");
        let name = obj["metadata"]["name"].as_str().expect("name");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = match discovery::pinned_kind(client, &gvk).await {
            Ok(found) => found,
            Err(e) => {
                failures.push(format!("{kind}/{name}: kind not served: {e}"));
                continue;
            }
        };
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, &resource),
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        let params = PatchParams::apply("berth").force().dry_run();
        if let Err(e) = api.patch(name, &params, &Patch::Apply(obj)).await {
            failures.push(format!("{kind}/{name}: {e}"));
        }
    }
    failures
}

/// Dry-runs every object and fails with the apiserver's words for each one it refuses.
async fn assert_dry_run_passes(client: &Client, namespace: &str, objects: &[serde_json::Value]) {
    let failures = dry_run_each(client, namespace, objects).await;
    assert!(
        failures.is_empty(),
        "dry run failed:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_kubernetes_variant_passes_a_server_side_dry_run() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "ph-k8s").await;
    let objects = render("kubernetes", &ns.name);
    assert!(objects.len() >= 30, "{} objects", objects.len());
    assert_dry_run_passes(&client, &ns.name, &objects).await;
    ns.delete().await;
}

#[tokio::test]
async fn the_sealos_variant_passes_a_server_side_dry_run_once_the_crds_are_installed() {
    let client = common::cluster_client().await;
    common::install_fixture_crds(&client).await;
    let ns = common::TestNamespace::create(&client, "ph-sealos").await;
    let objects = render("sealos", &ns.name);
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    for expected in ["Cluster", "ObjectStorageBucket", "App"] {
        assert!(
            kinds.contains(&expected),
            "the sealos variant has a {expected}"
        );
    }
    assert_dry_run_passes(&client, &ns.name, &objects).await;
    ns.delete().await;
}
