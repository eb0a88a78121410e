//! Berth's configuration: one [`Config`], from command-line flags with `BERTH_*` environment
//! fallbacks and defaults that work on a developer machine. Leptos' own `LEPTOS_*` variables are
//! left to `leptos_config`; only the address and the site root are overridden here.

use std::{net::SocketAddr, path::PathBuf};

/// Default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Everything the server needs to start.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BERTH_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Path of the SQLite database (created if missing).
    #[arg(long = "db", env = "BERTH_DB", default_value = "./berth.db")]
    pub db_path: PathBuf,

    /// Directory holding the built site (`pkg/berth.js`, `pkg/berth.wasm`, `pkg/berth.css`).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Kubeconfig file to use. Without it the standard resolution applies: `KUBECONFIG`, then
    /// `~/.kube/config`, then the in-cluster service account.
    #[arg(long, env = "BERTH_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one. The kubeconfig itself is found the
    /// standard way: `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    #[arg(long, env = "BERTH_KUBE_CONTEXT")]
    pub kube_context: Option<String>,
}

impl Config {
    /// A configuration for tests: in-memory database, an ephemeral port, the default kubeconfig.
    pub fn for_tests() -> Config {
        Config {
            addr: "127.0.0.1:0".parse().expect("valid literal address"),
            db_path: PathBuf::from(":memory:"),
            site_root: PathBuf::from("target/site"),
            kubeconfig: None,
            kube_context: None,
        }
    }
}
