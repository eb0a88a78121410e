//! How Berth's two apiserver clients use connections, against the local control plane: calls made
//! together share one connection (HTTP/2, which kube-apiserver offers over TLS), so a burst after
//! a quiet spell opens one TLS connection rather than one per call; requests that stay open
//! (watches, log follows) each get a connection of their own (HTTP/1.1), so they never queue
//! behind the apiserver's limit of streams on one HTTP/2 connection.
//!
//! A quiet spell longer than the call timeout leaves the calls' connection open, to be used again.
//!
//! Its own test binary with one test: it counts this process's connections to the apiserver.

mod common;

use std::{collections::HashSet, time::Duration};

use berth::kube::Cluster;
use kube::Client;

/// The inodes of this process's open sockets.
fn own_sockets() -> HashSet<u64> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// This process's established TCP connections to `port`, by their sockets' inodes.
fn connections_to(port: u16) -> HashSet<u64> {
    let own = own_sockets();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| text.lines().skip(1).map(str::to_string).collect::<Vec<_>>())
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            let established = fields.get(3) == Some(&"01");
            let inode = fields.get(9).and_then(|i| i.parse::<u64>().ok())?;
            (remote_port == Some(port) && established && own.contains(&inode)).then_some(inode)
        })
        .collect()
}

/// Sends `n` requests for `path` at once and keeps their answers (bodies unread) open until the
/// connections have been listed.
async fn at_once(client: &Client, path: &str, n: usize, port: u16) -> HashSet<u64> {
    let requests = (0..n).map(|_| {
        let request = http::Request::get(path)
            .body(Vec::new())
            .expect("a request");
        client.send(request.map(Into::into))
    });
    let answers: Vec<_> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|answer| answer.expect("the apiserver answers"))
        .collect();
    assert!(
        answers.iter().all(|a| a.status().is_success()),
        "every request succeeded"
    );
    let counted = connections_to(port);
    drop(answers);
    counted
}

/// The call timeout of this test's Berth client: short, so that the test can wait longer.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn calls_share_one_connection_and_watches_get_their_own() {
    // Kept until the end, so that its connection closing cannot upset the counts.
    let _probe = common::cluster_client().await;
    let config = kube::Config::infer()
        .await
        .expect("the test cluster's kubeconfig");
    let port = config.cluster_url.port_u16().unwrap_or(443);
    let cluster = Cluster::connect_with(None, None, CALL_TIMEOUT).await;
    let calls = cluster.client().expect("a client").clone();
    let watches = cluster.watch_client().expect("a watch client").clone();
    let before = connections_to(port);

    // The first call opens the connection (16 at once into an empty pool would each start one,
    // and all but the first to agree on HTTP/2 would be dropped).
    let first = at_once(&calls, "/api/v1/namespaces", 1, port).await;
    let opened: HashSet<u64> = first.difference(&before).copied().collect();
    assert_eq!(opened.len(), 1, "the first call opened a connection");
    let during = at_once(&calls, "/api/v1/namespaces", 16, port).await;
    assert_eq!(
        during.difference(&before).copied().collect::<HashSet<_>>(),
        opened,
        "16 calls at once travelled on that one connection"
    );

    // Idle for longer than the call timeout, the connection is still there to be used again.
    tokio::time::sleep(CALL_TIMEOUT + Duration::from_secs(1)).await;
    let later = at_once(&calls, "/api/v1/namespaces", 16, port).await;
    assert_eq!(
        later.difference(&before).copied().collect::<HashSet<_>>(),
        opened,
        "after a quiet spell longer than the call timeout, calls travel on the same connection"
    );

    // Watches that stay open until the count is taken (the apiserver ends them after 30 s).
    let watching = at_once(
        &watches,
        "/api/v1/namespaces?watch=true&timeoutSeconds=30",
        3,
        port,
    )
    .await;
    assert_eq!(
        watching.difference(&later).count(),
        3,
        "three watches at once, three connections of their own"
    );
}
