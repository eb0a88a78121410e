//! Driving the REST API in-process (`router(state).oneshot(..)`), with JSON in and out.
#![allow(dead_code)]

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode},
};
use berth::{
    AppState, Config,
    auth::Role,
    kube::Cluster,
    store::{Sealer, Store},
};
use serde_json::Value;
use tower::ServiceExt;

/// A Berth API over an in-memory store and the given cluster, called with an admin token named
/// `test-suite` unless told otherwise.
#[derive(Clone)]
pub struct TestApi {
    pub router: Router,
    pub state: AppState,
    /// The bearer token sent, if any.
    pub token: Option<String>,
}

impl TestApi {
    pub async fn new(cluster: Cluster) -> TestApi {
        Self::with_config(Config::for_tests(), cluster).await
    }

    pub async fn with_config(config: Config, cluster: Cluster) -> TestApi {
        let sealer =
            Sealer::load(config.secret_key.as_deref(), &config.key_file(), true).expect("key");
        let store = Store::open(&config.db_path, sealer).await.expect("store");
        Self::with_store(config, store, cluster).await
    }

    pub async fn with_store(config: Config, store: Store, cluster: Cluster) -> TestApi {
        let state = AppState::assemble(&config, store, cluster)
            .await
            .expect("state");
        let mut api = TestApi {
            router: berth::http::router(state.clone()),
            state,
            token: None,
        };
        api.token = Some(api.make_token("test-suite", Role::Admin).await);
        api
    }

    /// A token with `role`, named `name` (or `name-2`, `-3`, ... when taken).
    pub async fn make_token(&self, name: &str, role: Role) -> String {
        let store = self.state.service.store();
        for n in 1.. {
            let candidate = if n == 1 {
                name.to_string()
            } else {
                format!("{name}-{n}")
            };
            match berth::auth::create_token(store, &candidate, role).await {
                Ok(t) => return t.token,
                Err(berth::auth::Error::Store(berth::store::Error::Exists(_))) => continue,
                Err(e) => panic!("token: {e}"),
            }
        }
        unreachable!()
    }

    /// The same API, called with `token` (or with none).
    pub fn with_token(&self, token: Option<String>) -> TestApi {
        TestApi {
            token,
            ..self.clone()
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = &self.token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("response");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .expect("body");
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Previews `edits` against revision `base_revision` of the instance at `base`.
    pub async fn preview(
        &self,
        base: &str,
        base_revision: i64,
        edits: &Value,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({"baseRevision": base_revision, "edits": edits});
        self.post(&format!("{base}/changes/preview"), body).await
    }

    /// Confirms a preview: applies the same `edits` with its plan hash, and waits.
    pub async fn confirm(
        &self,
        base: &str,
        base_revision: i64,
        edits: &Value,
        preview: &Value,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({"baseRevision": base_revision, "edits": edits, "planHash": preview["planHash"]});
        self.post(&format!("{base}/changes?wait=true"), body).await
    }

    /// A Berth API whose only template is `text`, as `<dir>/<name>/index.yaml` in a fresh
    /// temporary directory (returned, for clean-up).
    pub async fn with_template(
        name: &str,
        text: &str,
        cluster: Cluster,
    ) -> (TestApi, std::path::PathBuf) {
        Self::with_template_and_db(name, text, cluster, false).await
    }

    /// As [`TestApi::with_template`]; with `on_disk`, the store is `<dir>/berth.db` rather than
    /// in memory, so a test can read what was written.
    pub async fn with_template_and_db(
        name: &str,
        text: &str,
        cluster: Cluster,
        on_disk: bool,
    ) -> (TestApi, std::path::PathBuf) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("berth-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(dir.join(name)).expect("template dir");
        std::fs::write(dir.join(name).join("index.yaml"), text).expect("template file");
        let mut config = Config {
            templates_dir: dir.clone(),
            ..Config::for_tests()
        };
        if on_disk {
            config.db_path = dir.join("berth.db");
        }
        (Self::with_config(config, cluster).await, dir)
    }

    /// Deletes an instance and waits: the status and the operation.
    pub async fn delete_instance(&self, namespace: &str, name: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/instances/{namespace}/{name}?wait=true");
        self.call(Method::DELETE, &path, None).await
    }

    /// The `Authorization` header value of this API's token.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token.clone().unwrap_or_default())
    }

    /// Deploys Berth's PostHog as `ns/name`, waits until it is Healthy (3 minutes at most), and
    /// returns its API path.
    pub async fn healthy_posthog(&self, ns: &str, name: &str) -> String {
        let (status, op) = self
            .post(
                "/api/v1/instances?wait=true",
                serde_json::json!({"template": "posthog", "namespace": ns, "name": name}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{op}");
        let base = format!("/api/v1/instances/{ns}/{name}");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(180);
        loop {
            let (_, view) = self.get(&base).await;
            if view["health"]["state"] == "Healthy" {
                return base;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never healthy: {view}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }

    /// A console page, rendered on the server, as the signed-in test token sees it.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let token = self.token.clone().expect("a token");
        let login = Request::get(format!("/login?token={token}"))
            .body(Body::empty())
            .expect("request");
        let resp = self.router.clone().oneshot(login).await.expect("response");
        let cookie = resp.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("name=value")
            .to_string();
        let req = Request::get(path)
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// GETs each path, expecting 200: (path, body as text), to search answers for secrets.
    pub async fn get_all(&self, paths: &[String]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for path in paths {
            let (status, body) = self.get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            out.push((path.clone(), body.to_string()));
        }
        out
    }
}
