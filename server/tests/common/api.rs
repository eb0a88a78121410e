//! Driving the REST API in-process (`router(state).oneshot(..)`), with JSON in and out.
#![allow(dead_code)]

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode},
};
use berth::{
    AppState, Config,
    kube::Cluster,
    store::{Sealer, Store},
};
use serde_json::Value;
use tower::ServiceExt;

/// A Berth API over an in-memory store and the given cluster.
#[derive(Clone)]
pub struct TestApi {
    pub router: Router,
    pub state: AppState,
}

impl TestApi {
    pub async fn new(cluster: Cluster) -> TestApi {
        Self::with_config(Config::for_tests(), cluster).await
    }

    pub async fn with_config(config: Config, cluster: Cluster) -> TestApi {
        let sealer = Sealer::load(config.secret_key.as_deref(), &config.key_file()).expect("key");
        let store = Store::open(&config.db_path, sealer).await.expect("store");
        Self::with_store(config, store, cluster).await
    }

    pub async fn with_store(config: Config, store: Store, cluster: Cluster) -> TestApi {
        let state = AppState::assemble(&config, store, cluster)
            .await
            .expect("state");
        TestApi {
            router: berth::http::router(state.clone()),
            state,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("x-berth-actor", "test-suite");
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
}
