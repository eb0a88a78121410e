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
//! A configuration with a proxy is built by kube, as before: its proxy connectors are kube's.

use std::time::Duration;

use http::{Response, StatusCode};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use kube::{
    Client, Config,
    client::{Body, ClientBuilder, ConfigExt, retry::RetryPolicy},
};
use tower::{BoxError, ServiceBuilder, retry::RetryLayer, util::MapResponseLayer};

/// How long an apiserver connection may stay idle in the pool, and how often the pool sweeps.
/// Longer than the call timeout ([`super::cluster::DEFAULT_CALL_TIMEOUT`]), which closes a
/// connection that has heard nothing for that long: the sweep never ends a connection sooner than
/// kube's own pool would have let it live, it only clears the closed ones out.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(60);

/// A client for `config`, telling `on_answer` the status of every answer from the apiserver.
pub fn build<F>(config: Config, on_answer: F) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    build_with_idle(config, IDLE_CONNECTION, on_answer)
}

/// [`build`], letting connections go once idle for `idle` (tests use less than a second).
fn build_with_idle<F>(config: Config, idle: Duration, on_answer: F) -> Result<Client, kube::Error>
where
    F: Fn(StatusCode) + Clone + Send + Sync + 'static,
{
    if config.proxy_url.is_some() {
        let told = MapResponseLayer::new(telling(on_answer));
        return Ok(ClientBuilder::try_from(config)?.with_layer(&told).build());
    }
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let mut connector =
        hyper_timeout::TimeoutConnector::new(config.rustls_https_connector_with_connector(http)?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let pooled: HyperClient<_, Body> = HyperClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
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
        let client = build_with_idle(config, idle, |_| {}).expect("a client");
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
