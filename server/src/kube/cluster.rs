//! The connection to Kubernetes.
//!
//! Berth resolves its cluster the standard way (`KUBECONFIG`, `~/.kube/config`, in-cluster), with
//! an optional context override. A missing or unreachable cluster is a state to report, never a
//! reason to stop serving: [`Cluster`] keeps either a client or the reason there is none.

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};
use serde::Serialize;

use super::client::Traffic;

/// How long a reachability probe may take before the cluster counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one call to the apiserver may go without an answer, unless configured.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The cluster Berth manages, or why it has none.
#[derive(Clone)]
pub struct Cluster {
    /// For every call but watches: a call not answered within the call timeout, or whose answer
    /// falls silent for that long, fails.
    client: Result<Client, String>,
    /// For watches, which wait for events by design (kube's own long read timeout).
    watch_client: Option<Client>,
    /// The API server URL from the configuration, when one was found.
    server: Option<String>,
    /// The last reachability probe, shared by clones.
    seen: Arc<Mutex<Seen>>,
}

/// What the last probe found, and since when the cluster has been unreachable.
#[derive(Default)]
struct Seen {
    at: Option<Instant>,
    down_since: Option<String>,
}

/// A client whose every answer from the apiserver (any status but a server error) counts as a
/// probe that found it reachable: while Berth is talking to the apiserver anyway, it never asks
/// for `/version` as well. After an apply, the health it ended with was read only after such a
/// probe, which waited its turn behind the apply's aftermath (1–15 ms).
fn client_hearing(
    config: Config,
    traffic: Traffic,
    seen: &Arc<Mutex<Seen>>,
) -> Result<Client, kube::Error> {
    let seen = seen.clone();
    super::client::build(config, traffic, move |status: http::StatusCode| {
        if !status.is_server_error() {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.at = Some(Instant::now());
            seen.down_since = None;
        }
    })
}

/// How long a probe's answer is reused.
const RECHECK: Duration = Duration::from_secs(2);

/// What a probe of the cluster found.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// Whether the API server answered.
    pub reachable: bool,
    /// API server URL, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Kubernetes version reported by the API server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the cluster is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Cluster {
    /// Loads the kubeconfig (from `kubeconfig` if given, else the standard places, honouring
    /// `context`) and builds a client. Never fails: a bad or missing configuration becomes the
    /// reason reported by [`Cluster::status`].
    pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> Cluster {
        Cluster::connect_with(kubeconfig, context, DEFAULT_CALL_TIMEOUT).await
    }

    /// [`Cluster::connect`], with calls (watches aside) that fail once the apiserver has not
    /// answered for `call_timeout`.
    pub async fn connect_with(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        call_timeout: Duration,
    ) -> Cluster {
        let opts = KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        let config = match (kubeconfig, context) {
            (Some(path), _) => match Kubeconfig::read_from(path) {
                Ok(kc) => Config::from_custom_kubeconfig(kc, &opts)
                    .await
                    .map_err(|e| format!("kubeconfig {}: {e}", path.display())),
                Err(e) => Err(format!("kubeconfig {}: {e}", path.display())),
            },
            (None, Some(ctx)) => Config::from_kubeconfig(&opts)
                .await
                .map_err(|e| format!("kubeconfig context {ctx:?}: {e}")),
            (None, None) => Config::infer()
                .await
                .map_err(|e| format!("no usable kubeconfig: {e}")),
        };
        match config {
            Ok(config) => {
                let server = Some(config.cluster_url.to_string());
                let seen = Arc::default();
                let watch_client = client_hearing(config.clone(), Traffic::Streams, &seen).ok();
                let calls = Traffic::Calls {
                    timeout: call_timeout,
                };
                let client = client_hearing(config, calls, &seen)
                    .map_err(|e| format!("cannot build a client: {e}"));
                Cluster {
                    client,
                    watch_client,
                    server,
                    seen,
                }
            }
            Err(reason) => {
                tracing::warn!(%reason, "no cluster configured");
                Cluster {
                    client: Err(reason),
                    watch_client: None,
                    server: None,
                    seen: Arc::default(),
                }
            }
        }
    }

    /// A cluster over an existing client, such as one driving a scripted apiserver in tests.
    pub fn from_client(client: Client) -> Cluster {
        Cluster {
            watch_client: Some(client.clone()),
            client: Ok(client),
            server: None,
            seen: Arc::default(),
        }
    }

    /// The client for watches (no short read timeout), if there is a client at all.
    pub fn watch_client(&self) -> Option<&Client> {
        self.watch_client.as_ref()
    }

    /// The client, or why there is none.
    pub fn client(&self) -> Result<&Client, &str> {
        self.client.as_ref().map_err(String::as_str)
    }

    /// Whether the cluster answers, from a probe (or any other answer of the apiserver's) at most
    /// [`RECHECK`] old: `Err` with the time (UTC) since which it has not.
    pub async fn reachability(&self) -> Result<(), String> {
        {
            let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if seen.at.is_some_and(|at| at.elapsed() < RECHECK) {
                return seen.down_since.clone().map_or(Ok(()), Err);
            }
        }
        let reachable = self.status().await.reachable;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.at = Some(Instant::now());
        if reachable {
            seen.down_since = None;
            return Ok(());
        }
        let since = seen.down_since.get_or_insert_with(|| {
            chrono::Utc::now()
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        });
        Err(since.clone())
    }

    /// Asks the API server for its version, within [`PROBE_TIMEOUT`].
    pub async fn status(&self) -> ClusterStatus {
        let client = match &self.client {
            Ok(c) => c,
            Err(reason) => {
                return ClusterStatus {
                    reachable: false,
                    server: None,
                    version: None,
                    reason: Some(reason.clone()),
                };
            }
        };
        let probe = tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await;
        let (version, reason) = match probe {
            Ok(Ok(info)) => (Some(info.git_version), None),
            Ok(Err(e)) => (None, Some(format!("API server did not answer: {e}"))),
            Err(_) => (
                None,
                Some(format!(
                    "API server did not answer within {}s",
                    PROBE_TIMEOUT.as_secs()
                )),
            ),
        };
        ClusterStatus {
            reachable: version.is_some(),
            server: self.server.clone(),
            version,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{Json, Router, routing::get};
    use k8s_openapi::api::core::v1::Namespace;
    use kube::Api;
    use serde_json::json;

    use super::*;

    /// A stub apiserver over plain HTTP that counts the probes (`/version`) it is asked, and a
    /// kubeconfig that points at it.
    async fn stub() -> (Arc<AtomicUsize>, std::path::PathBuf) {
        let probes = Arc::new(AtomicUsize::new(0));
        let counted = probes.clone();
        let app = Router::new()
            .route(
                "/version",
                get(move || async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Json(json!({"major": "1", "minor": "37", "gitVersion": "v1.37.2"}))
                }),
            )
            .fallback(|| async {
                Json(json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {}, "items": []}))
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the stub");
        let addr = listener.local_addr().expect("the stub's address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let path = std::env::temp_dir().join(format!(
            "berth-stub-{}-{}.kubeconfig",
            std::process::id(),
            addr.port()
        ));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: stub\n  cluster:\n    server: http://{addr}\n\
                 users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: stub\n  context: {{cluster: stub, user: u}}\ncurrent-context: stub\n"
            ),
        )
        .expect("write the stub's kubeconfig");
        (probes, path)
    }

    #[tokio::test]
    async fn an_answer_from_the_apiserver_counts_as_a_probe() {
        let (probes, kubeconfig) = stub().await;
        let cluster = Cluster::connect(Some(&kubeconfig), None).await;
        assert_eq!(cluster.reachability().await, Ok(()));
        assert_eq!(
            probes.load(Ordering::SeqCst),
            1,
            "nothing heard yet: it probes"
        );

        // Past the probe's age, an answer to another call stands in for a probe.
        tokio::time::sleep(RECHECK + Duration::from_millis(100)).await;
        let namespaces: Api<Namespace> = Api::all(cluster.client().expect("a client").clone());
        namespaces
            .list(&Default::default())
            .await
            .expect("the stub answers");
        assert_eq!(cluster.reachability().await, Ok(()));
        assert_eq!(
            probes.load(Ordering::SeqCst),
            1,
            "it heard the list's answer"
        );

        // Without one, it probes again.
        tokio::time::sleep(RECHECK + Duration::from_millis(100)).await;
        assert_eq!(cluster.reachability().await, Ok(()));
        assert_eq!(
            probes.load(Ordering::SeqCst),
            2,
            "nothing heard for a while: it probes"
        );
        std::fs::remove_file(kubeconfig).ok();
    }
}
