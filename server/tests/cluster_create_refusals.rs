//! Creates Berth refuses, each before anything is recorded: a template whose expression fails
//! (under `strict`; without it, the plan says how it rendered), a cluster that cannot be reached,
//! and objects the apiserver refuses in its dry run, which leave no instance, revision or
//! namespace behind, but never remove a namespace another create is using.

mod common;

use axum::http::StatusCode;
use berth::kube::Cluster;
use common::api::TestApi;
use kube::Api;
use serde_json::{Value, json};

#[tokio::test]
async fn a_template_with_a_failing_expression_is_refused_with_its_line() {
    let (api, dir) = TestApi::with_template(
        "broken",
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: broken\nspec:\n  title: Broken\n  defaults:\n    app_name:\n      type: string\n      value: broken-${{ random(4) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  x: ${{ inputs.missing.toUpperCase() }}\n",
        Cluster::connect(None, None).await,
    )
    .await;
    let (status, err) = api
        .post(
            "/api/v1/instances",
            json!({"template": "broken", "namespace": "berth-test-broken", "strict": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("line 17: expression `inputs.missing.toUpperCase()` failed"),
        "{err}"
    );
    assert_eq!(err["details"]["line"], 17);
    // Without `strict` it renders as Sealos would (''), and the plan says so.
    let (status, plan) = api
        .post(
            "/api/v1/instances",
            json!({"template": "broken", "namespace": "berth-test-broken", "dryRun": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        plan["manifests"][0]["data"]["x"],
        Value::Null,
        "an unquoted '' is YAML's null, as in Sealos: {plan}"
    );
    assert_eq!(plan["warnings"][0]["line"], 17, "{plan}");
    assert_eq!(
        plan["warnings"][0]["expr"], "inputs.missing.toUpperCase()",
        "{plan}"
    );
    assert_eq!(plan["warnings"][0]["renderedAs"], "", "{plan}");
    let (status, err) = api
        .post("/api/v1/instances", json!({"template": "nope"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (_, list) = api.get("/api/v1/instances").await;
    assert_eq!(list["instances"], json!([]), "nothing was recorded");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unreachable_cluster_gives_503_on_create() {
    let api =
        TestApi::new(Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await).await;
    let (status, err) = api
        .post(
            "/api/v1/instances",
            json!({"template": "posthog", "namespace": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("unreachable"),
        "{err}"
    );
}

/// An API serving [`common::REFUSED_TEMPLATE`] against the local cluster, its directory, a client of the
/// cluster and its namespaces.
async fn refused_api() -> (
    TestApi,
    std::path::PathBuf,
    kube::Client,
    Api<k8s_openapi::api::core::v1::Namespace>,
) {
    let (api, dir) = TestApi::with_template(
        "refused",
        common::REFUSED_TEMPLATE,
        Cluster::connect(None, None).await,
    )
    .await;
    let client = common::cluster_client().await;
    let namespaces = Api::all(client.clone());
    (api, dir, client, namespaces)
}

/// Deletes the instance `namespace/name` (which must succeed), then its namespace.
async fn remove(
    api: &TestApi,
    namespaces: &Api<k8s_openapi::api::core::v1::Namespace>,
    namespace: &str,
    name: &str,
) {
    let (_, deleted) = api.delete_instance(namespace, name).await;
    assert_eq!(deleted["status"], "succeeded", "{deleted}");
    let _ = namespaces
        .delete(namespace, &kube::api::DeleteParams::default())
        .await;
}

#[tokio::test]
async fn a_create_the_apiserver_refuses_in_its_dry_run_leaves_no_instance_revision_or_namespace() {
    let (api, dir, _, namespaces) = refused_api().await;
    let namespace = format!("berth-test-refused-{}", std::process::id());
    let body =
        |key: &str| json!({"template": "refused", "namespace": namespace, "inputs": {"key": key}});

    let (status, err) = api
        .post("/api/v1/instances?wait=true", body("bad key!"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "invalid");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("ConfigMap/refused") && message.contains("a valid config key"),
        "the apiserver's reason: {message}"
    );
    assert_eq!(
        err["details"]["refused"][0]["object"]["kind"], "ConfigMap",
        "{err}"
    );
    let (status, _) = api
        .get(&format!("/api/v1/instances/{namespace}/refused"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no instance");
    let (status, _) = api
        .get(&format!("/api/v1/instances/{namespace}/refused/revisions"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no revision");
    let (_, list) = api.get("/api/v1/instances").await;
    assert_eq!(list["instances"], json!([]));
    assert!(
        namespaces.get_opt(&namespace).await.unwrap().is_none(),
        "no namespace is left behind"
    );

    // Fixed, the same request goes through.
    let (status, op) = api
        .post("/api/v1/instances?wait=true", body("ok-key"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["revision"], 1, "the first revision of a new instance");
    remove(&api, &namespaces, &namespace, "refused").await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A refused create removes the namespace it made, but never while another create uses it: two
/// creates into the same new namespace at once, one refused by the apiserver's dry run, leave
/// the other deployed there, whichever of them made the namespace.
#[tokio::test]
async fn a_refused_create_never_removes_a_namespace_another_create_is_using() {
    let (api, dir, client, namespaces) = refused_api().await;
    for round in 0..3 {
        let namespace = format!("berth-test-shared-{}-{round}", std::process::id());
        let create = |name: &str, key: &str| {
            api.post(
                "/api/v1/instances?wait=true",
                json!({"template": "refused", "namespace": namespace, "name": name,
                    "inputs": {"key": key}}),
            )
        };
        let ((bad, refused), (good, op)) =
            tokio::join!(create("bad", "bad key!"), create("good", "ok-key"));
        assert_eq!(bad, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(good, StatusCode::CREATED, "round {round}: {op}");
        assert_eq!(op["status"], "succeeded", "round {round}: {op}");
        let left = namespaces.get_opt(&namespace).await.unwrap();
        assert!(
            left.is_some_and(|ns| ns.metadata.deletion_timestamp.is_none()),
            "round {round}: the namespace stays"
        );
        let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(client.clone(), &namespace);
        assert!(
            // The instance's name is the template's `app_name`, so its ConfigMap's.
            config_maps.get_opt("good").await.unwrap().is_some(),
            "round {round}: the created instance's ConfigMap is there"
        );
        remove(&api, &namespaces, &namespace, "good").await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
