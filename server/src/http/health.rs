//! `GET /healthz`: the database and the cluster, reported separately.
//!
//! The answer is 200 whenever Berth itself can work (its database answers), even with the cluster
//! down, because Berth still serves its UI and history then; the body says what is wrong.
//! A database that does not answer gives 503.

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
