//! The probes. `GET /healthz`: the database and the cluster, reported separately; 200 whenever
//! Berth itself can work (its database answers), even with the cluster down, because Berth still
//! serves its UI and history then; the body says what is wrong. A database that does not answer
//! gives 503.
//!
//! For a Deployment's probes: `GET /livez` is the process (it answers, so it lives), and
//! `GET /readyz` is whether it should get traffic: the store answers, and the cluster is
//! reachable, or deliberately absent (Berth run with no cluster serves its history).

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{kube::ClusterStatus, state::AppState};

/// The body of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok` when both parts are fine, `degraded` when only the cluster is down, `down` otherwise.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// The SQLite store.
    pub database: DatabaseStatus,
    /// The Kubernetes API server.
    pub cluster: ClusterStatus,
}

/// What a probe of the store found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseStatus {
    /// Whether a query succeeded.
    pub ok: bool,
    /// SQLite's journal mode (`wal` for a file database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_mode: Option<String>,
    /// Why the store is not usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Probes the store and the cluster concurrently.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses(
        (status = 200, description = "Berth works (`degraded` while the cluster is down)", body = Health),
        (status = 503, description = "the database does not answer", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (journal, cluster) = tokio::join!(
        state.service.store().journal_mode(),
        state.service.cluster().status()
    );
    let database = match journal {
        Ok(mode) => DatabaseStatus {
            ok: true,
            journal_mode: Some(mode),
            reason: None,
        },
        Err(e) => DatabaseStatus {
            ok: false,
            journal_mode: None,
            reason: Some(e.to_string()),
        },
    };
    let (code, status) = match (database.ok, cluster.reachable) {
        (true, true) => (StatusCode::OK, "ok"),
        (true, false) => (StatusCode::OK, "degraded"),
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "down"),
    };
    (
        code,
        Json(Health {
            status,
            database,
            cluster,
        }),
    )
}

/// The body of `/livez` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// `ok`, or what is wrong.
    pub status: String,
}

/// Whether the process answers (for a liveness probe): always 200.
#[utoipa::path(get, path = "/livez", tag = "meta",
    responses((status = 200, description = "the process answers", body = Probe)))]
pub async fn livez() -> Json<Probe> {
    Json(Probe {
        status: "ok".into(),
    })
}

/// Whether Berth should get traffic (for a readiness probe): 200 when its store answers and its
/// cluster is reachable (or none is configured), 503 with the reason otherwise.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses(
        (status = 200, description = "ready", body = Probe),
        (status = 503, description = "not ready, and why", body = Probe)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Probe>) {
    let service = &state.service;
    if let Err(e) = service.store().journal_mode().await {
        let status = format!("the database does not answer: {e}");
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Probe { status }));
    }
    if service.cluster().client().is_ok() && !service.cluster().status().await.reachable {
        let status = "the cluster does not answer".to_string();
        return (StatusCode::SERVICE_UNAVAILABLE, Json(Probe { status }));
    }
    (
        StatusCode::OK,
        Json(Probe {
            status: "ok".into(),
        }),
    )
}
