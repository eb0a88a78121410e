//! The state every request handler can reach: Leptos' options, the store and the cluster.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{cluster::Cluster, config::Config, store::Store};

/// Shared application state. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Options for server rendering and static files.
    pub leptos_options: LeptosOptions,
    /// The SQLite store.
    pub store: Store,
    /// The Kubernetes connection (possibly absent).
    pub cluster: Cluster,
}

impl AppState {
    /// Opens the store and connects to the cluster as `config` says.
    pub async fn init(config: &Config) -> anyhow::Result<AppState> {
        let store = Store::open(&config.db_path).await?;
        let cluster =
            Cluster::connect(config.kubeconfig.as_deref(), config.kube_context.as_deref()).await;
        Ok(AppState {
            leptos_options: leptos_options(config),
            store,
            cluster,
        })
    }
}

/// Leptos' options from its environment (as cargo-leptos sets it), with Berth's address and site root.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let mut options = leptos::prelude::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| {
            LeptosOptions::builder()
                .output_name(Arc::<str>::from("berth"))
                .build()
        });
    options.site_addr = config.addr;
    options.site_root = Arc::from(config.site_root.to_string_lossy().as_ref());
    options
}
