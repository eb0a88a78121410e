//! The HTTP client Berth talks to the apiserver with: kube's own layers (the cluster's URL,
//! authentication, extra headers, retries of overloaded answers) over a hyper client whose pool
//! lets idle connections go.
//!
//! kube's `ClientBuilder` makes its hyper client without a timer, so that pool never sweeps. A
//! connection closed while idle (as a socket read timeout closes one) stays in the pool, with its
//! buffers, until the next request to the apiserver. After a burst of parallel
//! applies followed by no request at all (every instance deleted, nobody looking), that held
//! about half a megabyte (`end2end/bench/cycles.py`). Here the pool sweeps every
//! [`IDLE_CONNECTION`]: it drops the connections that have closed, and those idle that long.
//!
//! Calls ([`Traffic::Calls`]) speak HTTP/2 where the apiserver offers it (kube-apiserver does,
//! over TLS), as client-go does: every call in flight shares one connection. Over HTTP/1.1 each
//! call in flight needs a connection of its own, and a create sends 16 at once: with its
//! connections closed, a create opened 16 TLS connections first, a median of 276 ms against
//! 162 ms with them open (4 of each, on the local control plane). Watches and log follows
//! ([`Traffic::Streams`]) stay on HTTP/1.1: they never end, and kube-apiserver allows 100 streams
//! on one HTTP/2 connection, after which hyper would queue the next request behind them rather
//! than open another connection.
//!
//! A call must be answered within the call timeout. That timeout is a layer over the request, not
//! the socket's read timeout, which also ends a connection that sits idle in the pool: a create
//! after 30 s without calls would first open its connection again. The socket's timeouts are
//! longer than the pool's idle time, so they only catch a connection gone silent mid-answer.
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
use tower::{
    BoxError, ServiceBuilder, retry::RetryLayer, timeout::TimeoutLayer, util::MapResponseLayer,
};
use tower_http::timeout::ResponseBodyTimeoutLayer;

/// How long an apiserver connection may stay idle in the pool, and how often the pool sweeps.
/// Shorter than kube-apiserver's own idle timeout (90 s), so Berth, not the apiserver, ends an
/// idle connection: it is never sent a request just as the apiserver closes it.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(60);

/// How long a stream's answer may be silent when kube's configuration sets no limit: a year.
const UNLIMITED: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a client's requests are, which decides how long a connection may wait for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Calls, which end: each must be answered within `timeout`, and a connection left idle
    /// stays in the pool for [`IDLE_CONNECTION`].
    Calls { timeout: Duration },
    /// Watches and log follows, which stay open waiting for events: kube's own long read timeout.
    Streams,
}

/// A client for `config` carrying `traffic`, telling `on_answer` the status of every answer from
/// the apiserver.
pub fn build<F>(config: Config, traffic: Traffic, on_answer: F) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    build_with_idle(config, traffic, IDLE_CONNECTION, on_answer)
}

/// [`build`], letting connections go once idle for `idle` (tests use less than a second).
fn build_with_idle<F>(
    mut config: Config,
    traffic: Traffic,
    idle: Duration,
    on_answer: F,
) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    // Layers time a call: its answer must begin within the call timeout, and its body may not
    // fall silent for longer. The socket's own timeouts, longer than the idle time, never end an
    // idle connection. A stream's body may be silent as long as kube lets its socket be.
    let (call_timeout, body_silence) = match traffic {
        Traffic::Calls { timeout } => {
            let silent = timeout.max(idle) + Duration::from_secs(5);
            config.read_timeout = Some(silent);
            config.write_timeout = Some(silent);
            (Some(timeout), timeout)
        }
        Traffic::Streams => (None, config.read_timeout.unwrap_or(UNLIMITED)),
    };
    // The same three layers go round the answers below, built twice because each path's
    // answers have a body type of their own.
    if config.proxy_url.is_some() {
        let layers = ServiceBuilder::new()
            .layer(MapResponseLayer::new(telling(on_answer)))
            .option_layer(call_timeout.map(TimeoutLayer::new))
            .layer(ResponseBodyTimeoutLayer::new(body_silence));
        return Ok(ClientBuilder::try_from(config)?.with_layer(&layers).build());
    }
    let mut connector = hyper_timeout::TimeoutConnector::new(https(&config, traffic)?);
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
        .option_layer(call_timeout.map(TimeoutLayer::new))
        .layer(ResponseBodyTimeoutLayer::new(body_silence))
        .map_err(BoxError::from)
        .service(pooled);
    Ok(Client::new(service, config.default_namespace))
}

/// The TLS connector for `config` (kube's own TLS settings: roots, client identity, a fixed
/// server name). For calls it offers HTTP/2 by ALPN; streams speak HTTP/1.1. Plain `http://`
/// URLs pass through untouched, and speak HTTP/1.1.
fn https(config: &Config, traffic: Traffic) -> Result<HttpsConnector<HttpConnector>, kube::Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    if traffic == Traffic::Streams {
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
    /// requests made together each need a connection of their own) and keeps connections open
    /// until the client closes them.
    struct Stub {
        url: String,
        /// Connections open now.
        open: Arc<AtomicUsize>,
        /// Connections ever accepted.
        accepted: Arc<AtomicUsize>,
    }

    async fn stub() -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the stub");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let (open, accepted) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counted, counted_ever) = (open.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted_ever.fetch_add(1, Ordering::SeqCst);
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
        Stub {
            url,
            open,
            accepted,
        }
    }

    /// A calls client for `stub`, timing calls out after `timeout` and letting connections go
    /// once idle for `idle`.
    fn calls(stub: &Stub, timeout: Duration, idle: Duration) -> Client {
        // kube's defaults keep a read open for 295 s: only the pool's sweep closes them sooner.
        let config = Config::new(stub.url.parse().expect("the stub's URL"));
        build_with_idle(config, Traffic::Calls { timeout }, idle, |_| {}).expect("a client")
    }

    /// Makes `n` calls at once.
    async fn at_once(client: &Client, n: usize) -> Vec<Result<String, kube::Error>> {
        let calls = (0..n).map(|_| {
            let request = http::Request::get("/version")
                .body(Vec::new())
                .expect("a request");
            client.request_text(request)
        });
        futures::future::join_all(calls).await
    }

    #[tokio::test]
    async fn connections_left_idle_are_closed() {
        let stub = stub().await;
        let idle = Duration::from_millis(300);
        let client = calls(&stub, Duration::from_secs(5), idle);
        for answer in at_once(&client, 3).await {
            answer.expect("the stub answers");
        }
        assert_eq!(
            stub.open.load(Ordering::SeqCst),
            3,
            "three calls at once, three connections"
        );
        tokio::time::sleep(idle * 4).await;
        assert_eq!(
            stub.open.load(Ordering::SeqCst),
            0,
            "idle connections were closed"
        );
    }

    #[tokio::test]
    async fn idle_connections_outlive_the_call_timeout_and_are_used_again() {
        let stub = stub().await;
        let timeout = Duration::from_millis(500);
        let client = calls(&stub, timeout, Duration::from_secs(10));
        for answer in at_once(&client, 3).await {
            answer.expect("the stub answers");
        }
        tokio::time::sleep(timeout * 3).await;
        assert_eq!(
            stub.open.load(Ordering::SeqCst),
            3,
            "connections idle for longer than the call timeout are still open"
        );
        for answer in at_once(&client, 3).await {
            answer.expect("the stub answers again");
        }
        assert_eq!(
            stub.accepted.load(Ordering::SeqCst),
            3,
            "the second calls travelled on the first calls' connections"
        );
    }

    #[tokio::test]
    async fn a_call_not_answered_within_the_call_timeout_fails() {
        let stub = stub().await;
        let client = calls(&stub, Duration::from_millis(50), Duration::from_secs(10));
        let started = std::time::Instant::now();
        let answers = at_once(&client, 1).await;
        let error = answers
            .into_iter()
            .next()
            .expect("one answer")
            .expect_err("the stub answers after 200 ms, too late");
        assert!(
            started.elapsed() < Duration::from_millis(190),
            "it failed at the timeout, not at the answer: {:?}",
            started.elapsed()
        );
        assert!(
            error.to_string().contains("timed out"),
            "the error says why: {error}"
        );
    }

    #[tokio::test]
    async fn an_answer_that_falls_silent_midway_fails_within_the_call_timeout() {
        // A stub that sends the headers and the first bytes of the body at once, then nothing.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the stub");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"major\"";
                    let _ = socket.write_all(head.as_bytes()).await;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                });
            }
        });
        let config = Config::new(url.parse().expect("the stub's URL"));
        let calls = Traffic::Calls {
            timeout: Duration::from_millis(300),
        };
        let client =
            build_with_idle(config, calls, Duration::from_secs(10), |_| {}).expect("a client");
        let started = std::time::Instant::now();
        let request = http::Request::get("/version")
            .body(Vec::new())
            .expect("a request");
        let answer = client.request_text(request).await;
        assert!(answer.is_err(), "a body that never ends is an error");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it failed once silent for the call timeout, not the socket's 15 s: {:?}",
            started.elapsed()
        );
    }
}
