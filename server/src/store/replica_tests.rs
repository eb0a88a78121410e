//! What replicas sharing a PostgreSQL need of the store: instance and namespace locks, finding the
//! operations of a replica that went away, progress between replicas, and writes that never
//! collide. These run when `BERTH_TEST_POSTGRES` names a server (`end2end/test-all` starts one),
//! and say so when not.

use std::{path::Path, time::Duration};

use app::model::{ObjectAction, ObjectRef, ObjectResult, OperationStatus, Progress};
use futures::StreamExt as _;
use serde_json::json;

use super::{tests::scratch_postgres, *};

/// Two stores ("replicas") on one fresh PostgreSQL database, or `None` without a server.
async fn two_replicas() -> Option<(Store, Store)> {
    let Some(url) = scratch_postgres().await else {
        eprintln!("BERTH_TEST_POSTGRES is not set: skipped");
        return None;
    };
    let a = Store::open(Path::new(&url), Sealer::new([7; 32]))
        .await
        .expect("a");
    let b = Store::open(Path::new(&url), Sealer::new([7; 32]))
        .await
        .expect("b");
    assert_eq!(
        a.installation(),
        b.installation(),
        "one installation per database"
    );
    Some((a, b))
}

async fn begin(store: &Store, name: &str, kind: &str) -> Result<i64> {
    store
        .begin_revision(&NewRevision {
            namespace: "ns",
            name,
            template: "posthog",
            kind,
            actor: "tester",
            change: None,
            redacted_inputs: &json!({}),
            redacted_manifests: &[],
            state: &RevisionState::default(),
            planned: 5,
        })
        .await
}

#[tokio::test]
async fn one_replica_at_a_time_holds_an_instance_lock() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let held = a
        .lock_instance("ns", "ph")
        .await
        .unwrap()
        .expect("free at first");
    assert!(
        b.lock_instance("ns", "ph").await.unwrap().is_none(),
        "a holds it"
    );
    assert!(
        b.lock_instance("ns", "other").await.unwrap().is_some(),
        "another instance's lock is its own"
    );
    drop(held);
    // Dropping closes the session in the background: the lock is free once it has.
    let mut again = None;
    for _ in 0..50 {
        again = b.lock_instance("ns", "ph").await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "released when its holder let go");
}

#[tokio::test]
async fn a_namespace_lock_waits_for_the_other_replica_and_is_apart_from_instance_locks() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let short = Duration::from_millis(100);
    let held = a
        .lock_namespace("ns", short)
        .await
        .unwrap()
        .expect("free at first");
    let started = std::time::Instant::now();
    assert!(
        b.lock_namespace("ns", short).await.unwrap().is_none(),
        "a holds it"
    );
    assert!(started.elapsed() >= short, "b waited its limit first");
    assert!(
        b.lock_instance("ns", "ns").await.unwrap().is_some(),
        "an instance's lock is not its namespace's"
    );
    // Released while b waits: b gets it as soon as the session has closed.
    let waiting = tokio::spawn(async move { b.lock_namespace("ns", Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(held);
    let got = waiting.await.unwrap().unwrap();
    assert!(got.is_some(), "released when its holder let go");
}

#[tokio::test]
async fn an_operation_is_interrupted_only_once_its_replica_is_gone() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let held = a.lock_instance("ns", "ph").await.unwrap().expect("lock");
    let n = begin(&a, "ph", "deploy").await.unwrap();
    let applied = ObjectResult {
        object: ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "c".into(),
        },
        action: ObjectAction::Created,
        message: None,
    };
    a.record_results("ns", "ph", n, &[applied]).await.unwrap();
    // Replica b sweeps while a runs it: a's operation is not b's to end.
    assert!(b.interrupt_orphans().await.unwrap().is_empty());
    assert_eq!(
        b.revision("ns", "ph", n).await.unwrap().summary.status,
        OperationStatus::Running
    );
    // Replica a goes away: its session ends, and with it the lock.
    drop(held);
    a.pool.close().await;
    let mut found = Vec::new();
    for _ in 0..50 {
        found = b.interrupt_orphans().await.unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        found,
        [Interrupted {
            instance: "ns/ph".into(),
            revision: n,
            message: "Berth stopped while this operation ran, after 1 of 5 objects; resume it or roll back".into(),
        }]
    );
    let unfinished = b
        .instance("ns", "ph")
        .await
        .unwrap()
        .unfinished
        .expect("unfinished");
    assert_eq!(unfinished.status, OperationStatus::Interrupted);
    assert!(b.interrupt_orphans().await.unwrap().is_empty(), "once");
    // The sweep let go of every lock it took: none is left on the sessions b's pool keeps.
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND a.datname = current_database()",
    )
    .fetch_one(&b.pool)
    .await
    .unwrap();
    assert_eq!(held, 0, "advisory locks left after the sweep");
}

#[tokio::test]
async fn progress_reaches_the_other_replica_and_not_its_sender() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let mut on_b = Box::pin(b.listen_progress("b").await.unwrap().expect("a bus"));
    let mut on_a = Box::pin(a.listen_progress("a").await.unwrap().expect("a bus"));
    let sent = Progress::Finished {
        instance: "ns/ph".into(),
        revision: 3,
        status: OperationStatus::Succeeded,
        message: "x".repeat(20_000),
    };
    a.publish_progress("a", &sent).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), on_b.next())
        .await
        .expect("b hears within 5 s")
        .expect("a notification");
    let Progress::Finished {
        instance,
        revision,
        message,
        ..
    } = got
    else {
        panic!("{got:?}")
    };
    assert_eq!((instance.as_str(), revision), ("ns/ph", 3));
    assert!(message.ends_with("(cut short between replicas; the revision has it whole)"));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), on_a.next())
            .await
            .is_err(),
        "a does not hear itself"
    );
}

#[tokio::test]
async fn two_replicas_writing_at_once_never_share_a_revision_number() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let n = begin(&a, "ph", "deploy").await.unwrap();
    a.finish_revision(
        "ns",
        "ph",
        n,
        &Outcome {
            status: OperationStatus::Succeeded,
            message: "",
            results: &[],
        },
    )
    .await
    .unwrap();
    let writes = (0..10).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { begin(&store, "ph", "change").await.unwrap() }
    });
    let mut numbers = futures::future::join_all(writes).await;
    numbers.sort();
    assert_eq!(numbers, (2..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn postgres_takes_its_key_from_the_environment_and_never_shows_a_password() {
    let url = "postgres://berth:hunter2@127.0.0.1:9/berth";
    let err = Store::open_with_key(Path::new(url), None, Path::new("/nonexistent.key"))
        .await
        .expect_err("no key");
    assert!(err.to_string().contains("BERTH_SECRET_KEY"), "{err}");
    // What an error or the store's Debug shows of the URL.
    let shown = format!("{:?}", Dsn(url.into()));
    assert_eq!(shown, "postgres://berth:***@127.0.0.1:9/berth");
    assert_eq!(
        Backend::Sqlite.address("/var/lib/berth.db"),
        "/var/lib/berth.db"
    );
}

#[tokio::test]
async fn a_server_offering_tls_is_reached_over_verified_tls() {
    let (Some(url), Ok(ca)) = (
        scratch_postgres().await,
        std::env::var("BERTH_TEST_POSTGRES_CA"),
    ) else {
        eprintln!("BERTH_TEST_POSTGRES or BERTH_TEST_POSTGRES_CA is not set: skipped");
        return;
    };
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    let store = Store::open(Path::new(&verified), Sealer::new([7; 32]))
        .await
        .expect("open over TLS");
    let tls: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert!(tls, "the session is encrypted");
    // A certificate that the given roots do not sign is refused, and says why.
    let unverifiable =
        format!("{url}?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt");
    let err = Store::open(Path::new(&unverifiable), Sealer::new([7; 32]))
        .await
        .expect_err("an unverifiable server");
    assert!(err.to_string().starts_with("cannot open database"), "{err}");
}
