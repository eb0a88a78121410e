//! Berth's configuration: one [`Config`], from command-line flags with `BERTH_*` environment
//! fallbacks and defaults that work on a developer machine. Leptos' own `LEPTOS_*` variables are
//! left to `leptos_config`; only the address and the site root are overridden here.

use std::{net::SocketAddr, path::PathBuf};

/// Default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Namespace for instances whose request names none.
pub const DEFAULT_NAMESPACE: &str = "berth";
/// `SEALOS_CLOUD_DOMAIN` unless configured: public hosts are `<app>.berth.localhost`.
pub const DEFAULT_CLOUD_DOMAIN: &str = "berth.localhost";
/// `SEALOS_CERT_SECRET_NAME` unless configured.
pub const DEFAULT_CERT_SECRET: &str = "wildcard-cert";

/// Everything the server needs to start.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BERTH_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Host names people reach Berth by (besides `localhost`, `127.0.0.1`, `::1` and the address
    /// it listens on), comma-separated. Requests for any other `Host` are refused, so a page
    /// elsewhere cannot reach Berth by rebinding its own name to Berth's address.
    #[arg(
        long = "allowed-host",
        env = "BERTH_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// The store: the path of a SQLite database (created if missing), or a PostgreSQL URL
    /// (`postgres://user:password@host/db`) that several replicas may share.
    #[arg(long = "db", env = "BERTH_DB", default_value = "./berth.db")]
    pub db_path: PathBuf,

    /// Directory holding the built site (`pkg/berth.js`, `pkg/berth.wasm`, `pkg/berth.css`).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Directory of templates (`<dir>/<id>/index.yaml`).
    #[arg(long, env = "BERTH_TEMPLATES", default_value = "manifests")]
    pub templates_dir: PathBuf,

    /// Namespace for instances whose request names none.
    #[arg(long, env = "BERTH_NAMESPACE", default_value = DEFAULT_NAMESPACE)]
    pub namespace: String,

    /// `SEALOS_CLOUD_DOMAIN` for templates: public hosts are `<app>.<domain>`.
    #[arg(long, env = "BERTH_CLOUD_DOMAIN", default_value = DEFAULT_CLOUD_DOMAIN)]
    pub cloud_domain: String,

    /// `SEALOS_CERT_SECRET_NAME` for templates: the TLS Secret of the public hosts.
    #[arg(long, env = "BERTH_CERT_SECRET", default_value = DEFAULT_CERT_SECRET)]
    pub cert_secret_name: String,

    /// What a template deploys to when it has no `platform` input of its own: `kubernetes`, or
    /// `sealos` (also create Sealos's `Instance` CR and ownership labels, so that Sealos's
    /// console lists and cleans up the instance).
    #[arg(long, env = "BERTH_PLATFORM", value_enum, default_value_t = TargetPlatform::Kubernetes)]
    pub platform: TargetPlatform,

    /// Allow instances in `kube-system`, `kube-public`, `kube-node-lease` and `default`.
    #[arg(long, env = "BERTH_ALLOW_SYSTEM_NAMESPACES")]
    pub allow_system_namespaces: bool,

    /// Key that encrypts secret values kept for rollback (32 bytes, base64 or hex), from the
    /// environment variable `BERTH_SECRET_KEY` only: never from the command line, where `ps`
    /// would show it. Without it, Berth uses the file `<db>.key` (created, mode 0600, on a
    /// database that has nothing sealed yet).
    #[arg(skip = std::env::var("BERTH_SECRET_KEY").ok().filter(|k| !k.is_empty()))]
    pub secret_key: Option<String>,

    /// Kubeconfig file to use. Without it the standard resolution applies: `KUBECONFIG`, then
    /// `~/.kube/config`, then the in-cluster service account.
    #[arg(long, env = "BERTH_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one. The kubeconfig itself is found the
    /// standard way: `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    #[arg(long, env = "BERTH_KUBE_CONTEXT")]
    pub kube_context: Option<String>,

    /// Seconds one call to the apiserver may go unanswered before it fails (watches aside).
    #[arg(long, env = "BERTH_KUBE_TIMEOUT_SECS", default_value_t = 30)]
    pub kube_timeout_secs: u64,

    /// Seconds a whole operation may take; objects not started by then are not applied.
    #[arg(long, env = "BERTH_OPERATION_DEADLINE_SECS", default_value_t = 600)]
    pub operation_deadline_secs: u64,

    /// Seconds a shutdown (SIGTERM) waits for running operations before marking them
    /// interrupted.
    #[arg(long, env = "BERTH_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Milliseconds to pause before each object is applied: for fault drills only, which need
    /// an apply slow enough to interrupt at a chosen object.
    #[arg(long, env = "BERTH_APPLY_PACE_MS", default_value_t = 0, hide = true)]
    pub apply_pace_ms: u64,

    /// Installed with least privilege: the ClusterRole Berth binds to its own ServiceAccount in
    /// each namespace it deploys into (with `--service-account`).
    #[arg(long, env = "BERTH_NAMESPACE_ROLE", requires = "service_account")]
    pub namespace_role: Option<String>,

    /// Berth's own ServiceAccount, `namespace/name` (with `--namespace-role`).
    #[arg(long, env = "BERTH_SERVICE_ACCOUNT", requires = "namespace_role")]
    pub service_account: Option<String>,

    /// The change box's optional language model: an OpenAI-compatible chat completions URL
    /// (`https://host/v1/chat/completions`). It is asked only when the built-in parser matches
    /// nothing; without it, Berth works the same with no network and no model.
    #[arg(long, env = "BERTH_LLM_URL")]
    pub llm_url: Option<String>,

    /// The model's name, sent with each request (required with `BERTH_LLM_URL`).
    #[arg(long, env = "BERTH_LLM_MODEL")]
    pub llm_model: Option<String>,

    /// File holding the model's API key (sent as a bearer token; never logged).
    #[arg(long, env = "BERTH_LLM_KEY_FILE")]
    pub llm_key_file: Option<PathBuf>,
}

/// The kind of cluster an instance is deployed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetPlatform {
    /// Plain Kubernetes: the template's objects and Berth's labels, nothing more.
    Kubernetes,
    /// Sealos: also Sealos's `Instance` CR and `cloud.sealos.io/deploy-on-sealos` labels.
    Sealos,
}

impl TargetPlatform {
    /// Reads a template's `platform` input value.
    pub fn from_input(value: &str) -> Option<TargetPlatform> {
        match value {
            "kubernetes" => Some(TargetPlatform::Kubernetes),
            "sealos" => Some(TargetPlatform::Sealos),
            _ => None,
        }
    }
}

impl Config {
    /// Every host name requests may name: the configured ones, the loopback names, and the
    /// address Berth listens on (unless it is the unspecified address), lowercase, no port.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|h| h.to_string())
            .chain(self.allowed_hosts.iter().map(|h| host_part(h).to_string()))
            .collect();
        if !self.addr.ip().is_unspecified() {
            hosts.push(self.addr.ip().to_string());
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// A configuration for tests: in-memory database, an ephemeral port, the default kubeconfig.
    pub fn for_tests() -> Config {
        Config {
            addr: "127.0.0.1:0".parse().expect("valid literal address"),
            allowed_hosts: Vec::new(),
            db_path: PathBuf::from(":memory:"),
            site_root: PathBuf::from("target/site"),
            kubeconfig: None,
            kube_context: None,
            templates_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests")),
            namespace: DEFAULT_NAMESPACE.into(),
            cloud_domain: DEFAULT_CLOUD_DOMAIN.into(),
            cert_secret_name: DEFAULT_CERT_SECRET.into(),
            platform: TargetPlatform::Kubernetes,
            allow_system_namespaces: false,
            secret_key: Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()),
            llm_url: None,
            namespace_role: None,
            service_account: None,
            llm_model: None,
            llm_key_file: None,
            kube_timeout_secs: 30,
            operation_deadline_secs: 600,
            shutdown_grace_secs: 30,
            apply_pace_ms: 0,
        }
    }

    /// The file holding the secret-encryption key when none is given.
    pub fn key_file(&self) -> PathBuf {
        let mut name = self.db_path.clone().into_os_string();
        name.push(".key");
        PathBuf::from(name)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            // A PostgreSQL URL may hold a password.
            .field(
                "db_path",
                &match self.db_path.to_string_lossy() {
                    db if db.starts_with("postgres") => "<a PostgreSQL URL>".into(),
                    db => db,
                },
            )
            .field("templates_dir", &self.templates_dir)
            .field("namespace", &self.namespace)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

/// The host of a `Host` header or an allowed-host entry: lowercase, without its port or the
/// brackets of an IPv6 literal.
pub fn host_part(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_string();
    }
    match h.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.contains(':') => {
            name.to_string()
        }
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_and_brackets() {
        assert_eq!(host_part("Berth.Example.com:8443"), "berth.example.com");
        assert_eq!(host_part("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_part("[::1]:8080"), "::1");
        assert_eq!(host_part("localhost"), "localhost");
        let config = Config {
            addr: "0.0.0.0:8080".parse().unwrap(),
            allowed_hosts: vec!["berth.example.com:443".into()],
            ..Config::for_tests()
        };
        assert_eq!(
            config.hosts(),
            ["127.0.0.1", "::1", "berth.example.com", "localhost"]
        );
    }
}
