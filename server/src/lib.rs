//! Berth's server. Dependencies point one way:
//!
//! ```text
//! http ─▶ service ─▶ plan, apply, health, store, template, components, manifest ─▶ kube
//!                    template ─▶ advice
//! ```
//!
//! - [`http`]: routes, extractors and the OpenAPI document; thin callers of the service;
//! - [`error`]: the only place that chooses HTTP status codes;
//! - [`service`]: every operation, once (the REST API and the UI both call it);
//! - [`plan`]: pure planning of a new revision; [`apply`]: dry runs, ordered apply, prune;
//! - [`health`]: health rules, watches and Events; [`advice`]: troubleshooting hints and scale
//!   guidance, as data; [`store`]: SQLite; [`template`]: the template engine;
//! - [`components`], [`manifest`]: pure helpers over rendered objects;
//! - [`intent`]: the change box's parser (pure); [`llm`]: its optional language model;
//! - [`kube`]: the cluster connection, cached discovery, and the keys Berth writes.
//!
//! `main.rs` only parses the command line and calls into this library, so tests can build the
//! same [`http::router`] without a socket, or bind `127.0.0.1:0` and run the real server.

// Leptos views nest deeply in their types.
#![recursion_limit = "512"]
#![forbid(unsafe_code)]

pub mod advice;
pub mod apply;
pub mod auth;
pub mod cli;
pub mod components;
pub mod config;
pub mod error;
pub mod fuzzing;
pub mod health;
pub mod http;
pub mod intent;
pub mod kube;
pub mod llm;
pub mod manifest;
pub mod plan;
pub mod service;
pub mod state;
pub mod store;
pub mod template;
pub mod templates;

pub use config::Config;
pub use state::AppState;

use std::future::{Future, IntoFuture};
use tokio::net::TcpListener;

/// Opens the store, connects to the cluster and serves HTTP on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::init(&config).await?;
    if !config.addr.ip().is_loopback() {
        tracing::warn!(
            addr = %config.addr,
            "Berth serves plain HTTP on a non-loopback address: put a TLS proxy in front of it (see README, Security)"
        );
    }
    let service = state.service.clone();
    let app = http::router(state);
    tracing::info!(addr = %listener.local_addr()?, "berth is listening");
    use axum::serve::ListenerExt;
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    // Without TCP_NODELAY a response written in parts (a streamed page) waits on the client's
    // delayed ACK: about 40 ms per page on Linux.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set: {e}");
        }
    });
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = http_stopped.await;
            })
            .into_future(),
    );
    shutdown.await;
    // Reads (and callers waiting for their operation) are still served while the running
    // operations finish; new ones are refused with 503.
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
    let left = service.shutdown(grace).await;
    if left > 0 {
        tracing::warn!(
            left,
            "operations still running at shutdown are marked interrupted"
        );
    }
    let _ = stop_http.send(());
    // Event streams never end by themselves: give open connections a moment, then stop.
    match tokio::time::timeout(std::time::Duration::from_secs(3), server).await {
        Ok(Ok(done)) => done?,
        Ok(Err(e)) => return Err(anyhow::anyhow!("the HTTP server task failed: {e}")),
        Err(_) => tracing::info!("closing the connections still open"),
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
