//! The state every request handler can reach: Leptos' options and the service.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{
    apply::{Limits, NamespaceGrant},
    auth::{self, Role},
    config::Config,
    kube::Cluster,
    llm::Llm,
    service::{Platform, Service},
    store::Store,
    templates::Templates,
};

/// Shared application state. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Options for server rendering and static files.
    pub leptos_options: LeptosOptions,
    /// Everything Berth does.
    pub service: Service,
    /// The host names requests may name ([`Config::hosts`]).
    pub hosts: Arc<Vec<String>>,
}

impl AppState {
    /// Opens the store and connects to the cluster as `config` says.
    pub async fn init(config: &Config) -> anyhow::Result<AppState> {
        let store = Store::open_with_key(
            &config.db_path,
            config.secret_key.as_deref(),
            &config.key_file(),
        )
        .await?;
        first_start(config, &store).await?;
        let cluster = Cluster::connect_with(
            config.kubeconfig.as_deref(),
            config.kube_context.as_deref(),
            Duration::from_secs(config.kube_timeout_secs.max(1)),
        )
        .await;
        AppState::assemble(config, store, cluster).await
    }

    /// Builds the state from an open store and a cluster handle: loads the templates and marks
    /// operations a previous run left unfinished as interrupted.
    pub async fn assemble(
        config: &Config,
        store: Store,
        cluster: Cluster,
    ) -> anyhow::Result<AppState> {
        let interrupted = store.interrupt_orphans().await?.len();
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "operations left running by a previous run are marked interrupted"
            );
        }
        let templates = Templates::load(&config.templates_dir);
        let platform = Platform {
            default_namespace: config.namespace.clone(),
            cloud_domain: config.cloud_domain.clone(),
            cert_secret_name: config.cert_secret_name.clone(),
            default_target: config.platform,
            allow_system_namespaces: config.allow_system_namespaces,
        };
        let limits = Limits {
            call_timeout: Duration::from_secs(config.kube_timeout_secs.max(1)),
            deadline: Duration::from_secs(config.operation_deadline_secs.max(1)),
            pace: Duration::from_millis(config.apply_pace_ms),
        };
        let grant = match (&config.namespace_role, &config.service_account) {
            (Some(role), Some(sa)) => {
                Some(NamespaceGrant::parse(role, sa).map_err(anyhow::Error::msg)?)
            }
            _ => None,
        };
        let mut service = Service::new(store, templates, platform, cluster, true)
            .with_limits(limits)
            .with_grant(grant);
        if let Some(url) = &config.llm_url {
            let model = config.llm_model.as_deref().unwrap_or_default();
            let llm = Llm::new(url, model, config.llm_key_file.as_deref())?;
            tracing::info!(
                model = llm.model(),
                "the change box asks a language model when its parser matches nothing"
            );
            service = service.with_llm(llm);
        }
        service.join_replicas().await?;
        let imported = service.load_imported_templates().await?;
        if imported > 0 {
            tracing::info!(imported, "offering templates imported before");
        }
        Ok(AppState {
            leptos_options: leptos_options(config),
            service,
            hosts: Arc::new(config.hosts()),
        })
    }
}

/// On a database with no live token, makes an `admin` token and prints the one-time login URL
/// (as Jupyter does), so whoever started Berth can sign in.
async fn first_start(config: &Config, store: &Store) -> anyhow::Result<()> {
    if store.live_tokens().await? > 0 {
        return Ok(());
    }
    let name = format!("admin-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    let token = auth::create_token(store, &name, Role::Admin).await?;
    eprintln!(
        "\n  Berth has no tokens yet, so it made an admin token named {name}. Sign in at:\n\n    http://{}/login?token={}\n\n  Make more with `berth token create --role viewer|operator|admin --name NAME`.\n",
        config.addr, token.token
    );
    Ok(())
}

/// Leptos' options: the output name cargo-leptos compiled in (`berth`), and Berth's address and
/// site root.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(Arc::<str>::from(
            option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("berth"),
        ))
        .site_root(Arc::<str>::from(
            config.site_root.to_string_lossy().as_ref(),
        ))
        .site_addr(config.addr)
        .build()
}
