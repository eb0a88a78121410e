//! The store on a real SQLite (files in WAL mode, and in memory) and, when `BERTH_TEST_POSTGRES`
//! names a PostgreSQL server (`end2end/test-all` starts one), on a fresh database of it: every
//! test of the tables runs on both. `replica_tests.rs` has what only PostgreSQL does.

use std::path::Path;

use app::model::{HealthState, ObjectResult, OperationStatus};
use serde_json::json;

use super::*;

fn sealer() -> Sealer {
    Sealer::new([7; 32])
}

/// A fresh database on the PostgreSQL server `BERTH_TEST_POSTGRES` names (a URL Berth's tests
/// may create databases with), or `None` when it names none.
pub(super) async fn scratch_postgres() -> Option<String> {
    use sqlx::Connection as _;
    let server = std::env::var("BERTH_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())?;
    let mut admin = sqlx::postgres::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("BERTH_TEST_POSTGRES is set but cannot be reached: {e}"));
    let name = format!("berth_test_{}", hex::encode(rand::random::<[u8; 6]>()));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a scratch database");
    let mut url = url::Url::parse(&server).expect("BERTH_TEST_POSTGRES is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A fresh store on each backend there is: SQLite in memory, and PostgreSQL when configured.
async fn stores() -> Vec<Store> {
    let mut all = vec![Store::in_memory(sealer()).await.expect("sqlite store")];
    match scratch_postgres().await {
        Some(url) => all.push(
            Store::open(Path::new(&url), sealer())
                .await
                .expect("postgres store"),
        ),
        None => eprintln!("BERTH_TEST_POSTGRES is not set: this test ran on SQLite only"),
    }
    all
}

fn state(replicas: u32) -> RevisionState {
    RevisionState {
        manifests: vec![json!({"kind": "Deployment", "spec": {"replicas": replicas}})],
        defaults: [("password".to_string(), "s3cret-generated".to_string())].into(),
        ..Default::default()
    }
}

async fn begin(store: &Store, kind: &str, replicas: u32) -> Result<i64> {
    store
        .begin_revision(&NewRevision {
            namespace: "ns",
            name: "ph",
            template: "posthog",
            kind,
            actor: "tester",
            change: None,
            redacted_inputs: &json!({}),
            redacted_manifests: &[json!({"kind": "Deployment"})],
            state: &state(replicas),
            planned: 3,
        })
        .await
}

async fn finish(store: &Store, number: i64, status: OperationStatus) {
    store
        .finish_revision(
            "ns",
            "ph",
            number,
            &Outcome {
                status,
                message: "done",
                results: &[] as &[ObjectResult],
            },
        )
        .await
        .expect("finish");
}

async fn deleted(store: &Store) -> bool {
    let instance = store.instance("ns", "ph").await.expect("instance");
    instance.deleted_at.is_some()
}

async fn numbers(store: &Store) -> Vec<i64> {
    store
        .revisions("ns", "ph")
        .await
        .expect("revisions")
        .iter()
        .map(|r| r.number)
        .collect()
}

#[tokio::test]
async fn a_file_database_opens_in_wal_mode_with_migrations_applied() {
    let dir = std::env::temp_dir().join(format!("berth-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("berth.db");
    let store = Store::open(&path, sealer()).await.expect("open");
    assert_eq!(store.journal_mode().await.expect("pragma"), "wal");
    let applied = store.applied_migrations().await.expect("count");
    assert!(applied >= 1, "expected migrations to run, got {applied}");
    // Opening again is idempotent: no migration runs twice, and the installation id stays.
    let id = store.installation().to_string();
    assert_eq!(id.len(), 16, "{id}");
    drop(store);
    let again = Store::open(&path, sealer()).await.expect("reopen");
    assert_eq!(again.applied_migrations().await.expect("count"), applied);
    assert_eq!(again.installation(), id);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let err = Store::open(Path::new("/proc/berth/definitely/not/here.db"), sealer())
        .await
        .expect_err("must fail");
    assert!(
        err.to_string().contains("cannot open database /proc/berth"),
        "{err}"
    );
}

#[tokio::test]
async fn a_deploy_records_its_instance_and_first_revision_together() {
    for store in stores().await {
        a_deploy_records_its_instance_and_first_revision_together_on(store).await;
    }
}

async fn a_deploy_records_its_instance_and_first_revision_together_on(store: Store) {
    assert!(matches!(
        store.instance("ns", "ph").await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(begin(&store, "deploy", 1).await.unwrap(), 1);
    let i = store.instance("ns", "ph").await.unwrap();
    assert_eq!((i.template.as_str(), i.revision), ("posthog", 0));
    assert_eq!(i.created_by, "tester");
    // A second deploy of a live instance is refused and adds nothing.
    assert!(matches!(
        begin(&store, "deploy", 1).await,
        Err(Error::Exists(_))
    ));
    assert_eq!(numbers(&store).await, [1]);
    finish(&store, 1, OperationStatus::Succeeded).await;
    assert_eq!(store.instance("ns", "ph").await.unwrap().revision, 1);
    assert_eq!(store.instances(false).await.unwrap().len(), 1);
    // The health it ended with is written after its end.
    assert_eq!(store.revisions("ns", "ph").await.unwrap()[0].health, None);
    store
        .record_health("ns", "ph", 1, HealthState::Healthy)
        .await
        .unwrap();
    let recorded = store.revisions("ns", "ph").await.unwrap();
    assert_eq!(recorded[0].health, Some(HealthState::Healthy));
    assert_eq!(recorded[0].status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn a_delete_marks_the_instance_deleted_and_a_new_deploy_revives_its_history() {
    for store in stores().await {
        a_delete_marks_the_instance_deleted_and_a_new_deploy_revives_its_history_on(store).await;
    }
}

async fn a_delete_marks_the_instance_deleted_and_a_new_deploy_revives_its_history_on(store: Store) {
    finish(
        &store,
        begin(&store, "deploy", 1).await.unwrap(),
        OperationStatus::Succeeded,
    )
    .await;
    finish(
        &store,
        begin(&store, "delete", 1).await.unwrap(),
        OperationStatus::Succeeded,
    )
    .await;
    assert!(deleted(&store).await);
    assert!(store.instances(false).await.unwrap().is_empty());
    assert_eq!(store.instances(true).await.unwrap().len(), 1);
    assert_eq!(
        begin(&store, "deploy", 2).await.unwrap(),
        3,
        "numbering goes on"
    );
    assert!(!deleted(&store).await);
}

#[tokio::test]
async fn the_sealed_state_round_trips_and_the_clear_columns_hold_no_secret() {
    for store in stores().await {
        the_sealed_state_round_trips_and_the_clear_columns_hold_no_secret_on(store).await;
    }
}

async fn the_sealed_state_round_trips_and_the_clear_columns_hold_no_secret_on(store: Store) {
    let n = begin(&store, "deploy", 4).await.unwrap();
    assert_eq!(
        *store.revision_state("ns", "ph", n).await.unwrap(),
        state(4)
    );
    let record = store.revision("ns", "ph", n).await.unwrap();
    assert!(
        !serde_json::to_string(&record)
            .unwrap()
            .contains("s3cret-generated")
    );
    let raw: Vec<u8> = sqlx::query_scalar("SELECT secrets_sealed FROM revision_payloads")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("s3cret-generated"));
    // The same database opened with another key (and so without the states this one opened).
    let other_key = Store {
        sealer: Sealer::new([8; 32]),
        opened: Default::default(),
        ..store.clone()
    };
    assert!(matches!(
        other_key.revision_state("ns", "ph", n).await,
        Err(Error::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_row_that_does_not_match_is_an_error_not_a_panic() {
    for store in stores().await {
        a_row_that_does_not_match_is_an_error_not_a_panic_on(store).await;
    }
}

async fn a_row_that_does_not_match_is_an_error_not_a_panic_on(store: Store) {
    let n = begin(&store, "deploy", 1).await.unwrap();
    sqlx::query("UPDATE revision_payloads SET manifests_json = 'not json'")
        .execute(&store.pool)
        .await
        .unwrap();
    assert!(matches!(
        store.revision("ns", "ph", n).await,
        Err(Error::Corrupt(m)) if m.contains("manifests_json")
    ));
    assert!(matches!(
        store.revision("ns", "ph", 99).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn only_the_newest_revisions_are_kept_and_never_the_current_one_is_dropped() {
    for store in stores().await {
        only_the_newest_revisions_are_kept_and_never_the_current_one_is_dropped_on(store).await;
    }
}

async fn only_the_newest_revisions_are_kept_and_never_the_current_one_is_dropped_on(store: Store) {
    let store = store.with_revision_limit(3);
    for kind in ["deploy", "change", "change", "change", "change"] {
        let n = begin(&store, kind, 1).await.unwrap();
        finish(&store, n, OperationStatus::Succeeded).await;
    }
    assert_eq!(numbers(&store).await, [3, 4, 5]);
    // Three failures in a row: the current revision (5) stays, so a rollback to it still works.
    for _ in 0..3 {
        let n = begin(&store, "change", 2).await.unwrap();
        finish(&store, n, OperationStatus::Failed).await;
    }
    assert_eq!(numbers(&store).await, [5, 6, 7, 8]);
    // A pruned revision's manifests and sealed state go with it.
    let payloads: Vec<i64> =
        sqlx::query_scalar("SELECT number FROM revision_payloads ORDER BY number")
            .fetch_all(&store.pool)
            .await
            .unwrap();
    assert_eq!(payloads, [5, 6, 7, 8]);
    assert_eq!(store.instance("ns", "ph").await.unwrap().revision, 5);
    assert_eq!(
        *store.revision_state("ns", "ph", 5).await.unwrap(),
        state(1)
    );
}

#[tokio::test]
async fn revisions_left_running_are_marked_interrupted() {
    for store in stores().await {
        revisions_left_running_are_marked_interrupted_on(store).await;
    }
}

async fn revisions_left_running_are_marked_interrupted_on(store: Store) {
    let n = begin(&store, "deploy", 1).await.unwrap();
    // Results are recorded as they happen: a crash leaves them.
    for name in ["a", "b"] {
        let result = app::model::ObjectResult {
            object: app::model::ObjectRef {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.into(),
            },
            action: app::model::ObjectAction::Created,
            message: None,
        };
        store
            .record_results("ns", "ph", n, &[result])
            .await
            .unwrap();
    }
    assert_eq!(store.interrupt_orphans().await.unwrap().len(), 1);
    let r = store.revision("ns", "ph", n).await.unwrap();
    assert_eq!(r.summary.status, OperationStatus::Interrupted);
    assert!(r.summary.finished_at.is_some());
    assert_eq!(r.results.len(), 2);
    assert_eq!(
        r.summary.message,
        "Berth stopped while this operation ran, after 2 of 3 objects; resume it or roll back"
    );
    let unfinished = store.instance("ns", "ph").await.unwrap().unfinished;
    assert_eq!(
        unfinished.map(|u| (u.number, u.status)),
        Some((n, OperationStatus::Interrupted))
    );
    assert_eq!(store.interrupt_orphans().await.unwrap().len(), 0);
    // Its end, coming late, does not overwrite what it now says.
    let late = Outcome {
        status: OperationStatus::Succeeded,
        message: "done",
        results: &[],
    };
    assert!(matches!(
        store.finish_revision("ns", "ph", n, &late).await,
        Err(Error::NotFound(_))
    ));
    let r = store.revision("ns", "ph", n).await.unwrap();
    assert_eq!(r.summary.status, OperationStatus::Interrupted);
}

#[tokio::test]
async fn only_the_newest_revision_made_since_the_installation_id_is_held_as_applied() {
    for store in stores().await {
        only_the_newest_revision_made_since_the_installation_id_is_held_as_applied_on(store).await;
    }
}

async fn only_the_newest_revision_made_since_the_installation_id_is_held_as_applied_on(
    store: Store,
) {
    let first = begin(&store, "deploy", 1).await.expect("deploy");
    finish(&store, first, OperationStatus::Succeeded).await;
    assert!(
        store
            .is_newest_of_installation("ns", "ph", first)
            .await
            .unwrap()
    );
    let failed = begin(&store, "change", 2).await.expect("change");
    finish(&store, failed, OperationStatus::Failed).await;
    assert!(
        !store
            .is_newest_of_installation("ns", "ph", first)
            .await
            .unwrap(),
        "a failed revision came after it: the cluster may hold part of that one"
    );
    let next = begin(&store, "change", 3).await.expect("change");
    finish(&store, next, OperationStatus::Succeeded).await;
    assert!(
        store
            .is_newest_of_installation("ns", "ph", next)
            .await
            .unwrap()
    );
    // A revision made before this database had an installation id (an upgrade).
    sqlx::query("UPDATE installation SET created_at = '9999-01-01T00:00:00.000Z'")
        .execute(&store.pool)
        .await
        .unwrap();
    assert!(
        !store
            .is_newest_of_installation("ns", "ph", next)
            .await
            .unwrap()
    );
}

/// The migration that moved manifests and sealed states to `revision_payloads` loses no history:
/// a database written before it reads the same after it (SQLite; PostgreSQL's copy is the same
/// statements).
#[tokio::test]
async fn history_written_before_the_payloads_moved_reads_the_same_after() {
    let dir = std::env::temp_dir().join(format!("berth-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("berth.db");
    let _ = std::fs::remove_file(&path);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 20261127000000)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.unwrap();
    let sealed = sealer().seal(&serde_json::to_vec(&state(3)).unwrap());
    sqlx::query(
        "INSERT INTO instances (id, namespace, name, template, created_at, created_by, current_revision)
         VALUES ('ns/ph', 'ns', 'ph', 'posthog', '2026-11-26T00:00:00Z', 'admin', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO revisions (instance_id, number, kind, actor, created_at, status, inputs_json, manifests_json, secrets_sealed, results_json, planned)
         VALUES ('ns/ph', 1, 'deploy', 'admin', '2026-11-26T00:00:01Z', 'succeeded', '{}', $1, $2, '[]', 1)",
    )
    .bind(r#"[{"kind":"Deployment","spec":{"replicas":3}}]"#)
    .bind(sealed)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = Store::open(&path, sealer()).await.unwrap();
    let record = store.revision("ns", "ph", 1).await.unwrap();
    assert_eq!(
        record.manifests,
        [json!({"kind": "Deployment", "spec": {"replicas": 3}})]
    );
    assert_eq!(record.summary.status, OperationStatus::Succeeded);
    assert_eq!(store.revisions("ns", "ph").await.unwrap().len(), 1);
    assert_eq!(
        *store.revision_state("ns", "ph", 1).await.unwrap(),
        state(3)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
