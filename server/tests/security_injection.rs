//! No template injection. Against the local control plane: PostHog's `storage_class` input set to
//! `"x\n        volumeMode: Block"` is refused with 422 naming the input (its pattern) and nothing
//! is recorded; an input edit re-renders through the same check. In a template whose input has no pattern, what a
//! caller types reaches the cluster as one string value, whether given at create or through an
//! input edit that re-renders: it never adds a key.

mod common;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde_json::json;

const INJECTION: &str = "x\n        volumeMode: Block";

/// A ConfigMap with one free-text input in a plain scalar and a quoted one.
const NOTE: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: note\nspec:\n  title: Note\n  defaults:\n    app_name:\n      type: string\n      value: note\n  inputs:\n    note:\n      description: Any text\n      type: string\n      default: hello\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  plain: ${{ inputs.note }}\n  quoted: \"${{ inputs.note }}\"\n";

#[tokio::test]
async fn a_newline_in_posthogs_storage_class_is_refused_naming_the_input() {
    let api = TestApi::new(Cluster::connect(None, None).await).await;
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "inject").await;
    let (status, body) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": ns.name, "name": "ph",
                   "inputs": {"storage_class": INJECTION}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("storage_class") && message.contains("pattern"),
        "{body}"
    );
    let (status, _) = api.get(&format!("/api/v1/instances/{}/ph", ns.name)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was recorded");
    ns.delete().await;
}

#[tokio::test]
async fn what_a_caller_types_stays_one_string_at_create_and_through_an_input_edit() {
    let (api, dir) = TestApi::with_template("note", NOTE, Cluster::connect(None, None).await).await;
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "typed").await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let data = |cm: ConfigMap| cm.data.unwrap_or_default();

    let (status, op) = api
        .post(
            "/api/v1/instances?wait=true",
            json!({"template": "note", "namespace": ns.name, "name": "note",
                   "inputs": {"note": INJECTION}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let created = data(maps.get("note").await.unwrap());
    assert_eq!(created.len(), 2, "no key was added: {created:?}");
    assert_eq!(created["plain"], INJECTION);
    assert_eq!(created["quoted"], INJECTION);

    let base = format!("/api/v1/instances/{}/note", ns.name);
    let edited = "a: b\nextra: \"1\" # and a comment";
    let edits = json!([{"type": "input", "name": "note", "value": edited}]);
    let (status, preview) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let (status, op) = api.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    let changed = data(maps.get("note").await.unwrap());
    assert_eq!(changed.len(), 2, "no key was added: {changed:?}");
    assert_eq!(changed["plain"], edited);
    assert_eq!(changed["quoted"], edited);

    api.delete_instance(&ns.name, "note").await;
    ns.delete().await;
    std::fs::remove_dir_all(dir).ok();
}
