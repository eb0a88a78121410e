//! Who may do what. Every route of the OpenAPI document is called without credentials, as a
//! viewer, an operator and an admin: mutations need their role (401 without a token, 403 with the
//! wrong one), reads need a viewer. Sessions are HttpOnly and SameSite=Strict, refuse cross-site
//! state changes, and end when signed out or revoked. History records the token's name, never a
//! header. The `berth token` commands and the first-start login URL work as documented.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use berth::{auth::Role, kube::Cluster};
use common::api::TestApi;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn api() -> TestApi {
    TestApi::new(Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await).await
}

/// Every documented operation under `/api/v1` (the public document aside), with a concrete path.
async fn operations(api: &TestApi) -> Vec<(Method, String, String)> {
    let (_, doc) = api.get("/api/v1/openapi.json").await;
    let mut out = Vec::new();
    for (path, methods) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") || path.ends_with("/openapi.json") {
            continue;
        }
        let concrete = common::concrete(path);
        for method in methods.as_object().expect("methods").keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            out.push((m, concrete.clone(), path.clone()));
        }
    }
    out
}

/// The role each operation needs.
fn needs(method: &Method, path: &str) -> Role {
    match *method {
        Method::GET => Role::Viewer,
        // Whoever may start an operation may cancel it.
        Method::DELETE if path.starts_with("/api/v1/operations/") => Role::Operator,
        Method::DELETE => Role::Admin,
        Method::POST if path == "/api/v1/templates" => Role::Admin,
        _ => Role::Operator,
    }
}

fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method, path.ends_with("/instances")) {
        (&Method::POST, true) => Some(json!({"template": "posthog", "namespace": "ns"})),
        (&Method::POST, false) if path.ends_with("/manifest-edits") => {
            Some(json!({"object": {"kind": "Deployment", "name": "x"}, "yaml": "a: 1"}))
        }
        (&Method::POST, false) if path.ends_with("/templates") => Some(json!({"source": "x"})),
        (&Method::POST, false) if path.ends_with("/intents") => {
            Some(json!({"text": "scale web to 2"}))
        }
        (&Method::POST, false) if path.contains("/changes") => Some(
            json!({"baseRevision": 1, "edits": [{"type": "replicas", "component": "web", "replicas": 2}], "planHash": "x"}),
        ),
        _ => None,
    }
}

/// The console's server functions (`/ui/...`), with a body each accepts, and the role it needs.
const UI_FUNCTIONS: &[(&str, &str, Role)] = &[
    ("instances", "{}", Role::Viewer),
    ("templates", "{}", Role::Viewer),
    ("instance", r#"{"namespace":"ns","name":"x"}"#, Role::Viewer),
    (
        "revisions",
        r#"{"namespace":"ns","name":"x"}"#,
        Role::Viewer,
    ),
    (
        "k8s-events",
        r#"{"namespace":"ns","name":"x","component":"web"}"#,
        Role::Viewer,
    ),
    (
        "diff",
        r#"{"namespace":"ns","name":"x","number":2,"against":1}"#,
        Role::Viewer,
    ),
    (
        "plan_deploy",
        r#"{"request":{"template":"posthog","namespace":"ns"}}"#,
        Role::Operator,
    ),
    (
        "deploy",
        r#"{"request":{"template":"posthog","namespace":"ns"}}"#,
        Role::Operator,
    ),
    (
        "preview_change",
        r#"{"namespace":"ns","name":"x","request":{"baseRevision":1,"edits":[]}}"#,
        Role::Operator,
    ),
    (
        "apply_change",
        r#"{"namespace":"ns","name":"x","request":{"baseRevision":1,"edits":[]}}"#,
        Role::Operator,
    ),
    (
        "preview_rollback",
        r#"{"namespace":"ns","name":"x","to":1}"#,
        Role::Operator,
    ),
    (
        "rollback",
        r#"{"namespace":"ns","name":"x","to":1,"plan_hash":"h"}"#,
        Role::Operator,
    ),
    (
        "read_intent",
        r#"{"namespace":"ns","name":"x","text":"scale web to 2"}"#,
        Role::Operator,
    ),
    (
        "resume",
        r#"{"namespace":"ns","name":"x","number":1}"#,
        Role::Operator,
    ),
    ("cancel", r#"{"id":"ns:x:1"}"#, Role::Operator),
    ("delete", r#"{"namespace":"ns","name":"x"}"#, Role::Admin),
    ("import_template", r#"{"source":"x"}"#, Role::Admin),
];

#[tokio::test]
async fn every_console_function_needs_its_role() {
    let api = api().await;
    let viewer = api.make_token("ui-viewer", Role::Viewer).await;
    let operator = api.make_token("ui-operator", Role::Operator).await;
    let admin = api.make_token("ui-admin", Role::Admin).await;
    for (name, body, needs) in UI_FUNCTIONS {
        let call = |token: Option<&String>| {
            let mut req =
                Request::post(format!("/ui/{name}")).header("content-type", "application/json");
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let req = req.body(Body::from(body.to_string())).unwrap();
            let router = api.router.clone();
            async move {
                let res = router.oneshot(req).await.unwrap();
                let status = res.status();
                let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .unwrap();
                (status, String::from_utf8_lossy(&bytes).into_owned())
            }
        };
        let (status, text) = call(None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "/ui/{name} without credentials: {text}"
        );
        for (role, token) in [
            (Role::Viewer, &viewer),
            (Role::Operator, &operator),
            (Role::Admin, &admin),
        ] {
            let (status, text) = call(Some(token)).await;
            let refused = text.contains("\"forbidden\"") || status == StatusCode::FORBIDDEN;
            if role >= *needs {
                assert!(
                    !refused && status != StatusCode::UNAUTHORIZED,
                    "/ui/{name} as {role:?} is allowed: {status} {text}"
                );
            } else {
                assert!(
                    refused,
                    "/ui/{name} as {role:?} is refused: {status} {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_route_needs_its_role() {
    let api = api().await;
    let viewer = api.make_token("a-viewer", Role::Viewer).await;
    let operator = api.make_token("an-operator", Role::Operator).await;
    let admin = api.make_token("an-admin", Role::Admin).await;
    let ops = operations(&api).await;
    assert!(ops.len() >= 14, "{ops:?}");
    let mutations = ops.iter().filter(|(m, ..)| *m != Method::GET).count();
    assert!(
        mutations >= 5,
        "create, preview, apply, rollback, delete: {ops:?}"
    );
    for (method, path, documented) in &ops {
        let body = body_for(method, path);
        let call = |token: Option<String>| {
            let (api, method, path, body) = (
                api.with_token(token),
                method.clone(),
                path.clone(),
                body.clone(),
            );
            async move { api.call(method, &path, body).await }
        };
        let (status, answer) = call(None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {documented} without a token: {answer}"
        );
        assert_eq!(answer["error"], "unauthorized");
        let (status, answer) = call(Some("berth_0000000000000000_forged".into())).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {documented} with a forged token: {answer}"
        );
        for (role, token) in [
            (Role::Viewer, &viewer),
            (Role::Operator, &operator),
            (Role::Admin, &admin),
        ] {
            let (status, answer) = call(Some(token.clone())).await;
            if role >= needs(method, path) {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{method} {documented} as {role:?} is allowed: {status} {answer}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {documented} as {role:?}: {answer}"
                );
                assert_eq!(answer["error"], "forbidden");
            }
        }
    }
    let (status, _) = api.with_token(None).get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "the document is public");
    let (status, _) = api.with_token(None).get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the health probe is public");
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let api = api().await;
    let token = api.make_token("leaver", Role::Operator).await;
    let as_leaver = api.with_token(Some(token));
    assert_eq!(as_leaver.get("/api/v1/instances").await.0, StatusCode::OK);
    api.state
        .service
        .store()
        .revoke_token("leaver")
        .await
        .expect("revoke");
    assert_eq!(
        as_leaver.get("/api/v1/instances").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn send(api: &TestApi, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = api.router.clone().oneshot(req).await.expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn sessions_are_strict_cookies_that_refuse_cross_site_changes_and_end_on_sign_out() {
    let api = api().await;
    let token = api.make_token("browser-user", Role::Operator).await;
    let (status, headers, _) = send(
        &api,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "http://localhost")
            .header("host", "localhost")
            .body(Body::from(format!("token={token}&next=/instances/ns/x")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/instances/ns/x");
    let set = headers["set-cookie"].to_str().unwrap();
    for part in ["berth_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();

    let with_cookie = |method: &str, site: Option<&str>| {
        let mut r = Request::builder()
            .method(method)
            .uri("/api/v1/instances")
            .header("cookie", &cookie)
            .header("content-type", "application/json");
        if let Some(site) = site {
            r = r.header("sec-fetch-site", site);
        }
        r.body(Body::from(
            json!({"template": "posthog", "namespace": "ns"}).to_string(),
        ))
        .unwrap()
    };
    let (status, _, _) = send(&api, with_cookie("GET", Some("same-origin"))).await;
    assert_eq!(status, StatusCode::OK, "a session reads");
    let (status, _, body) = send(&api, with_cookie("POST", Some("cross-site"))).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a cross-site form post changes nothing: {body}"
    );
    assert!(body.contains("cross-site"), "{body}");
    let foreign_origin = Request::post("/api/v1/instances")
        .header("cookie", &cookie)
        .header("origin", "http://evil.test")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&api, foreign_origin).await.0, StatusCode::FORBIDDEN);
    let (status, _, body) = send(&api, with_cookie("POST", Some("same-origin"))).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "allowed, then the cluster is down: {body}"
    );

    // Pages need a session; sign-out ends it.
    let page = |c: Option<&str>| {
        let mut r = Request::get("/");
        if let Some(c) = c {
            r = r.header("cookie", c);
        }
        r.body(Body::empty()).unwrap()
    };
    let (status, headers, _) = send(&api, page(None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/login?next=/");
    assert_eq!(send(&api, page(Some(&cookie))).await.0, StatusCode::OK);
    let logout = Request::post("/logout")
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&api, logout).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&api, page(Some(&cookie))).await.0,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    let (status, _, form) = send(
        &api,
        Request::get("/login?token=berth_bad_token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("unknown or revoked"), "{form}");
}

#[tokio::test]
async fn the_actor_in_history_is_the_tokens_name_never_a_header() {
    let (api, dir) = TestApi::with_template(
        "tiny",
        "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: tiny\nspec:\n  title: Tiny\n  defaults:\n    app_name:\n      type: string\n      value: tiny\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{ defaults.app_name }}\ndata:\n  a: b\n",
        Cluster::connect(None, None).await,
    )
    .await;
    let token = api.make_token("release-bot", Role::Operator).await;
    let client = common::cluster_client().await;
    let ns = common::TestNamespace::create(&client, "actor").await;
    let req = Request::post("/api/v1/instances?wait=true")
        .header("authorization", format!("Bearer {token}"))
        .header("x-berth-actor", "someone-else")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"template": "tiny", "namespace": ns.name}).to_string(),
        ))
        .unwrap();
    let (status, _, body) = send(&api, req).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, revisions) = api
        .get(&format!("/api/v1/instances/{}/tiny/revisions", ns.name))
        .await;
    assert_eq!(
        revisions["revisions"][0]["actor"], "release-bot",
        "{revisions}"
    );
    let (_, view) = api
        .get(&format!("/api/v1/instances/{}/tiny", ns.name))
        .await;
    assert_eq!(view["createdBy"], "release-bot");
    let (status, _) = api.delete_instance(&ns.name, "tiny").await;
    assert_eq!(status, StatusCode::OK);
    ns.delete().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn berth(args: &[&str], db: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn berth_token_creates_lists_and_revokes_and_never_shows_a_secret_twice() {
    let dir = common::fresh_dir("tokens");
    let db = dir.join("berth.db");
    let (code, token, err) = berth(
        &["token", "create", "--role", "operator", "--name", "ci"],
        &db,
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("berth_") && token.len() == 87, "{token}");
    let (code, _, err) = berth(&["token", "create", "--role", "root", "--name", "x"], &db);
    assert_eq!(code, 2, "an unknown role is a usage error: {err}");
    let (code, _, err) = berth(
        &["token", "create", "--role", "viewer", "--name", "ci"],
        &db,
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = berth(
        &["token", "create", "--role", "viewer", "--name", "a b"],
        &db,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("token name \"a b\": use 1 to 64 letters"),
        "{err}"
    );
    let (code, list, _) = berth(&["token", "list"], &db);
    assert_eq!(code, 0);
    assert!(list.contains("ci\toperator\t"), "{list}");
    assert!(
        !list.contains(&token[23..]),
        "the list never shows a secret"
    );
    let (code, out, _) = berth(&["token", "revoke", "ci"], &db);
    assert_eq!((code, out.trim()), (0, "revoked ci"));
    let (code, _, err) = berth(&["token", "revoke", "ci"], &db);
    assert_eq!(code, 1, "{err}");
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !raw.windows(64).any(|w| w == &token.as_bytes()[23..]),
        "the secret is not stored"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_first_start_prints_a_one_time_login_url_that_signs_in() {
    let dir = common::fresh_dir("first");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--db"])
        .arg(dir.join("berth.db"))
        .arg("--kubeconfig")
        .arg(common::unreachable_kubeconfig())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("berth serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("/login?token=") {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let url = url.expect("a login URL on stderr");
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/login?token=berth_")),
        "{url}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_host_berth_does_not_serve_is_refused_against_dns_rebinding() {
    let config = berth::Config {
        allowed_hosts: vec!["berth.example.com".into()],
        ..berth::Config::for_tests()
    };
    let api = TestApi::with_config(
        config,
        Cluster::connect(Some(&common::unreachable_kubeconfig()), None).await,
    )
    .await;
    let token = api.token.clone().unwrap();
    let with_host = |host: &str, path: &str| {
        Request::get(path)
            .header("host", host)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(&api, with_host("evil.example:8080", "/api/v1/instances")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("--allowed-host evil.example"), "{body}");
    let (status, _, _) = send(&api, with_host("evil.example", "/login")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "pages too");
    for host in [
        "127.0.0.1:18080",
        "localhost:8080",
        "[::1]:8080",
        "BERTH.example.com",
    ] {
        let (status, _, body) = send(&api, with_host(host, "/api/v1/instances")).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
    }
    let (status, _, _) = send(&api, with_host("10.0.0.7:8080", "/healthz")).await;
    assert_eq!(status, StatusCode::OK, "probes may name Berth by address");
}
