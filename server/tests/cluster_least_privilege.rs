//! Against the local control plane, Berth installed with least privilege: its own template
//! (`manifests/berth/index.yaml`) renders for both stores and passes a server-side dry run; its
//! ServiceAccount, bound to the template's roles, gets a token from the TokenRequest API; and a
//! Berth using only that token deploys PostHog, changes it, rolls it back and deletes it. It
//! binds itself where it deploys and nowhere else: it cannot read Secrets in a namespace where it
//! manages nothing, and once its instance is deleted, not there either. A permission it lacks is
//! a 502 naming the verb and the resource.

mod common;

use std::{collections::BTreeMap, time::Duration};

use axum::http::StatusCode;
use berth::{config::Config, kube::Cluster, template::parse::Template};
use common::api::TestApi;
use k8s_openapi::api::{
    authentication::v1::TokenRequest,
    core::v1::{Secret, ServiceAccount},
    rbac::v1::RoleBinding,
};
use kube::{
    Api, Client,
    api::{DynamicObject, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

/// Berth's own template, rendered as `name` into `namespace` with `inputs`.
fn render(name: &str, namespace: &str, inputs: &[(&str, &str)]) -> Vec<Value> {
    let template = Template::parse(include_str!("../../manifests/berth/index.yaml")).unwrap();
    let request = berth::template::render::RenderRequest {
        inputs: inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        platform: BTreeMap::from([("SEALOS_NAMESPACE".to_string(), namespace.to_string())]),
        app_name: Some(name.to_string()),
        seed: Some(7),
        strict: true,
        ..Default::default()
    };
    let rendered = template.render(&request).unwrap();
    rendered.objects.into_iter().map(|o| o.object).collect()
}

/// Server-side applies (or with `dry_run`, dry-runs) each object with the admin client.
async fn apply(client: &Client, namespace: &str, objects: &[Value], dry_run: bool) {
    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    for o in objects {
        let gvk = kube::api::GroupVersionKind::try_from(&kube::api::TypeMeta {
            api_version: o["apiVersion"].as_str().unwrap().into(),
            kind: o["kind"].as_str().unwrap().into(),
        })
        .unwrap();
        let (resource, caps) = discovery.resolve_gvk(&gvk).expect("served");
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
            Api::namespaced_with(client.clone(), namespace, &resource)
        } else {
            Api::all_with(client.clone(), &resource)
        };
        let mut pp = PatchParams::apply("berth-tests").force();
        pp.dry_run = dry_run;
        let name = o["metadata"]["name"].as_str().unwrap();
        api.patch(name, &pp, &Patch::Apply(o))
            .await
            .unwrap_or_else(|e| panic!("{} {name}: {e}", o["kind"]));
    }
}

#[tokio::test]
async fn berths_own_template_passes_a_server_side_dry_run_for_both_stores() {
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "berth-install").await;
    let sqlite = render("berth-dry", &ns.name, &[("store", "sqlite")]);
    let postgres = render(
        "berth-dry",
        &ns.name,
        &[
            ("store", "postgres"),
            ("replicas", "3"),
            ("host", "berth.example.com"),
        ],
    );
    let kinds = |objects: &[Value]| -> Vec<String> {
        objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(kinds(&sqlite).contains(&"PersistentVolumeClaim".to_string()));
    assert!(!kinds(&postgres).contains(&"PersistentVolumeClaim".to_string()));
    let deployment = |objects: &[Value]| {
        objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .unwrap()
            .clone()
    };
    assert_eq!(deployment(&sqlite)["spec"]["replicas"], 1);
    assert_eq!(deployment(&postgres)["spec"]["replicas"], 3);
    let container = deployment(&sqlite)["spec"]["template"]["spec"]["containers"][0].clone();
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    // No role grants `*`.
    for o in sqlite.iter().filter(|o| o["kind"] == "ClusterRole") {
        assert!(!o.to_string().contains("\"*\""), "{o}");
    }
    apply(&client, &ns.name, &sqlite, true).await;
    apply(&client, &ns.name, &postgres, true).await;
    ns.delete().await;
}

/// A kubeconfig for the local cluster that authenticates with `token` only.
fn kubeconfig_with(token: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let admin = std::env::var("KUBECONFIG").expect("KUBECONFIG");
    let text = std::fs::read_to_string(admin).unwrap();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap()
            .to_string()
    };
    let path = dir.join("berth-sa.kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: berth\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context: {{cluster: c, user: berth}}\ncurrent-context: c\n",
            field("server"),
            field("certificate-authority-data")
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn berth_with_its_service_accounts_token_runs_posthog_and_reads_no_other_secrets() {
    let admin = common::cluster_client().await;
    let home = common::TestNamespace::create(&admin, "berth-home").await;
    let elsewhere = common::TestNamespace::create(&admin, "not-berths").await;
    let install = format!("lp-{}", &home.name[home.name.len() - 6..]);
    // The install's ServiceAccount and roles (not its Deployment: Berth runs here, as this test).
    let rbac: Vec<Value> = render(&install, &home.name, &[("store", "sqlite")])
        .into_iter()
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("ServiceAccount" | "ClusterRole" | "ClusterRoleBinding")
            )
        })
        .collect();
    assert_eq!(rbac.len(), 4);
    apply(&admin, &home.name, &rbac, false).await;
    let sa: Api<ServiceAccount> = Api::namespaced(admin.clone(), &home.name);
    let request: TokenRequest =
        serde_json::from_value(json!({"spec": {"audiences": [], "expirationSeconds": 3600}}))
            .unwrap();
    let minted = sa
        .create_token_request(&install, &PostParams::default(), &request)
        .await
        .unwrap();
    let token = minted.status.unwrap().token.expect("a token");
    let dir = common::fresh_dir("least-privilege");
    let kubeconfig = kubeconfig_with(&token, &dir);
    let as_berth = Client::try_from(
        kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap(),
    )
    .unwrap();

    // Berth, with that token and no other credentials.
    let mut config = Config::for_tests();
    config.namespace_role = Some(format!("{install}-namespace"));
    config.service_account = Some(format!("{}/{install}", home.name));
    let api = TestApi::with_config(config, Cluster::connect(Some(&kubeconfig), None).await).await;
    let target = format!("{}-apps", home.name);
    let base = api.healthy_posthog(&target, "ph").await;

    // It bound itself there, and nowhere else.
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), &target);
    assert!(
        bindings
            .get_opt(&format!("{install}-namespace"))
            .await
            .unwrap()
            .is_some()
    );
    let secrets_there: Api<Secret> = Api::namespaced(as_berth.clone(), &target);
    assert!(secrets_there.list(&Default::default()).await.is_ok());
    let secrets_elsewhere: Api<Secret> = Api::namespaced(as_berth.clone(), &elsewhere.name);
    let refused = secrets_elsewhere
        .list(&Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 403),
        "{refused}"
    );
    let refused = secrets_elsewhere.get("anything").await.unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 403),
        "{refused}"
    );

    // Change, then roll back, with that token.
    let edits = json!([{"type": "replicas", "component": "capture", "replicas": 2}]);
    let (status, preview) = api.preview(&base, 1, &edits).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let (status, op) = api.confirm(&base, 1, &edits, &preview).await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let (status, op) = api
        .post(&format!("{base}/revisions/1/rollback?wait=true"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{op}");
    assert_eq!(op["status"], "succeeded", "{op}");
    let (_, view) = api.get(&base).await;
    assert_eq!(common::card(&view, "capture")["spec"]["replicas"], 1);

    // A permission it lacks (its binding there removed by an admin): a 502 naming the verb and
    // the resource, and nothing changes.
    let binding = bindings.get(&format!("{install}-namespace")).await.unwrap();
    bindings
        .delete(&format!("{install}-namespace"), &Default::default())
        .await
        .unwrap();
    let (_, view) = api.get(&base).await;
    let revision = view["revision"].as_i64().unwrap();
    let edits = json!([{"type": "replicas", "component": "capture", "replicas": 3}]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let preview = loop {
        // RBAC caches for a moment after a binding goes.
        let (status, preview) = api.preview(&base, revision, &edits).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        if preview["dryRun"][0]["action"] == "failed" {
            break preview;
        }
        assert!(tokio::time::Instant::now() < deadline, "{preview}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let said = preview["dryRun"][0]["message"].as_str().unwrap();
    assert!(
        said.contains(r#"cannot patch resource "deployments" in API group "apps""#),
        "the preview names the verb and the resource: {said}"
    );
    let (status, answer) = api.confirm(&base, revision, &edits, &preview).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    assert_eq!(answer["error"], "cluster_forbidden", "{answer}");
    assert!(
        answer
            .to_string()
            .contains(r#"cannot patch resource \"deployments\""#),
        "{answer}"
    );
    let (_, after) = api.get(&base).await;
    assert_eq!(after["revision"], revision);
    let mut restored = binding.clone();
    restored.metadata.resource_version = None;
    restored.metadata.uid = None;
    restored.metadata.managed_fields = None;
    restored.metadata.creation_timestamp = None;
    bindings
        .create(&PostParams::default(), &restored)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while secrets_there.list(&Default::default()).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restored binding never took"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Deleted: its binding goes with its last instance there.
    let (status, op) = api
        .call(
            axum::http::Method::DELETE,
            &format!("{base}?wait=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{op}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while bindings
        .get_opt(&format!("{install}-namespace"))
        .await
        .unwrap()
        .is_some()
    {
        assert!(tokio::time::Instant::now() < deadline, "the binding stays");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refused = secrets_there.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 403),
        "{refused}"
    );

    for o in rbac.iter().filter(|o| o["kind"] != "ServiceAccount") {
        let kind = o["kind"].as_str().unwrap();
        let plural = if kind == "ClusterRole" {
            "clusterroles"
        } else {
            "clusterrolebindings"
        };
        let api: Api<DynamicObject> = Api::all_with(
            admin.clone(),
            &kube::discovery::ApiResource::from_gvk_with_plural(
                &kube::api::GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", kind),
                plural,
            ),
        );
        let _ = api
            .delete(o["metadata"]["name"].as_str().unwrap(), &Default::default())
            .await;
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin.clone());
    let _ = namespaces.delete(&target, &Default::default()).await;
    home.delete().await;
    elsewhere.delete().await;
}
