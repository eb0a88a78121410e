//! The HTTP client Berth talks to the apiserver with: kube's own layers (the cluster's URL,
//! authentication, extra headers, retries of overloaded answers) over a hyper client whose pool
//! lets idle connections go.
//!
//! kube's `ClientBuilder` makes its hyper client without a timer, so that pool never sweeps. A
//! connection closed while idle (the call timeout closes one after 30 s of silence) stays in the
//! pool, with its buffers, until the next request to the apiserver. After a burst of parallel
//! applies followed by no request at all (every instance deleted, nobody looking), that held
//! about half a megabyte (`end2end/bench/cycles.py`). Here the pool sweeps every
//! [`IDLE_CONNECTION`]: it drops the connections that have closed, and those idle that long.
//!
//! Calls speak HTTP/2 where the apiserver offers it (kube-apiserver does, over TLS), as client-go
//! does: every call in flight shares one connection. Over HTTP/1.1 each call in flight needs a
//! connection of its own, and a create sends 16 at once, so after 30 s without calls (when the
//! call timeout has closed the idle ones) a create opened 16 TLS connections first: a median of
//! 276 ms against 162 ms for one whose connections were still open (4 of each, on the local
//! control plane). Watches and log follows stay on HTTP/1.1 ([`Protocol::OnePerRequest`]): they
//! never end, and kube-apiserver allows 100 streams on one HTTP/2 connection, after which hyper
//! would queue the next request behind them rather than open another connection.
//!
//! A configuration with a proxy is built by kube, as before: its proxy connectors are kube's.

use std::time::Duration;

use http::{Response, StatusCode};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use kube::{
    Client, Config,
    client::{Body, ClientBuilder, ConfigExt, RustlsTlsError, retry::RetryPolicy},
};
use rustls_pki_types::ServerName;
use tower::{BoxError, ServiceBuilder, retry::RetryLayer, util::MapResponseLayer};

/// How long an apiserver connection may stay idle in the pool, and how often the pool sweeps.
/// Longer than the call timeout ([`super::cluster::DEFAULT_CALL_TIMEOUT`]), which closes a
/// connection that has heard nothing for that long: the sweep never ends a connection sooner than
/// kube's own pool would have let it live, it only clears the closed ones out.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(60);

/// How a client's requests share connections to the apiserver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/2 where the server offers it, HTTP/1.1 where not: requests in flight share one
    /// connection. For calls, which end.
    Multiplexed,
    /// HTTP/1.1 only: one connection per request in flight. For watches and log follows, which
    /// stay open.
    OnePerRequest,
}

/// A client for `config` speaking `protocol`, telling `on_answer` the status of every answer from
/// the apiserver.
pub fn build<F>(config: Config, protocol: Protocol, on_answer: F) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    build_with_idle(config, protocol, IDLE_CONNECTION, on_answer)
}

/// [`build`], letting connections go once idle for `idle` (tests use less than a second).
fn build_with_idle<F>(
    config: Config,
    protocol: Protocol,
    idle: Duration,
    on_answer: F,
) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    if config.proxy_url.is_some() {
        let told = MapResponseLayer::new(telling(on_answer));
        return Ok(ClientBuilder::try_from(config)?.with_layer(&told).build());
    }
    let mut connector = hyper_timeout::TimeoutConnector::new(https(&config, protocol)?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let pooled: HyperClient<_, Body> = HyperClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(idle)
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .layer(MapResponseLayer::new(telling(on_answer)))
        .map_err(BoxError::from)
        .service(pooled);
    Ok(Client::new(service, config.default_namespace))
}

/// The TLS connector for `config` (kube's own TLS settings: roots, client identity, a fixed
/// server name), offering HTTP/2 by ALPN when `protocol` is [`Protocol::Multiplexed`]. Plain
/// `http://` URLs pass through untouched, and speak HTTP/1.1.
fn https(
    config: &Config,
    protocol: Protocol,
) -> Result<HttpsConnector<HttpConnector>, kube::Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    if protocol == Protocol::OnePerRequest {
        return config.rustls_https_connector_with_connector(http);
    }
    // HTTP/2 writes a request as several frames: with Nagle's algorithm on, the second waits for
    // the server to acknowledge the first, which Linux delays by up to 40 ms.
    http.set_nodelay(true);
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(config.rustls_client_config()?)
        .https_or_http();
    let builder = match &config.tls_server_name {
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .map_err(|e| kube::Error::RustlsTls(RustlsTlsError::InvalidServerName(e)))?;
            builder
                .with_server_name_resolver(FixedServerNameResolver::new(name))
                .enable_all_versions()
        }
        None => builder.enable_all_versions(),
    };
    Ok(builder.wrap_connector(http))
}

/// Passes each answer on, having told `on_answer` its status.
fn telling<B>(
    on_answer: impl Fn(StatusCode) + Clone,
) -> impl Fn(Response<B>) -> Response<B> + Clone {
    move |response| {
        on_answer(response.status());
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A stub apiserver over plain HTTP/1.1 that answers every request after 200 ms (so that
    /// requests made together each need a connection of their own), keeps connections open
    /// until the client closes them, and counts how many are open.
    async fn stub() -> (Arc<AtomicUsize>, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the stub");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let open = Arc::new(AtomicUsize::new(0));
        let counted = open.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let open = counted.clone();
                open.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        request.extend_from_slice(&buf[..n]);
                        if request.windows(4).any(|w| w == b"\r\n\r\n") {
                            request.clear();
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            let body = r#"{"major":"1","minor":"37"}"#;
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if socket.write_all(answer.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        (open, url)
    }

    #[tokio::test]
    async fn connections_left_idle_are_closed() {
        let (open, url) = stub().await;
        // kube's defaults keep a read open for 295 s: only the pool's sweep closes them sooner.
        let config = Config::new(url.parse().expect("the stub's URL"));
        let idle = Duration::from_millis(300);
        let client =
            build_with_idle(config, Protocol::Multiplexed, idle, |_| {}).expect("a client");
        let calls = (0..3).map(|_| {
            let request = http::Request::get("/version")
                .body(Vec::new())
                .expect("a request");
            client.request_text(request)
        });
        for answer in futures::future::join_all(calls).await {
            answer.expect("the stub answers");
        }
        assert_eq!(
            open.load(Ordering::SeqCst),
            3,
            "three calls at once, three connections"
        );
        tokio::time::sleep(idle * 4).await;
        assert_eq!(
            open.load(Ordering::SeqCst),
            0,
            "idle connections were closed"
        );
    }
}
