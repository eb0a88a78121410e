//! Berth's SQLite store: opening it (WAL mode, migrations at startup) and checking it.
//!
//! The tables themselves are owned by the modules that read and write them; this module owns
//! only the connection pool and the schema's migration history in `server/migrations/`.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Errors opening or checking the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The path that was tried.
        path: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the database is left as it was before that migration.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode and runs pending migrations.
    /// `:memory:` gives a private in-memory database, for tests.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let in_memory = path.as_os_str() == ":memory:";
        let url = if in_memory {
            "sqlite::memory:".to_string()
        } else {
            format!("sqlite://{}", path.display())
        };
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database exists per connection, so it must stay on exactly one.
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// The connection pool, for the modules that own tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The journal mode SQLite reports (`wal` for a file database).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?;
        Ok(mode)
    }

    /// Number of migrations applied.
    pub async fn applied_migrations(&self) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_database_opens_in_wal_mode_with_migrations_applied() {
        let dir = std::env::temp_dir().join(format!("berth-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("berth.db");
        let store = Store::open(&path).await.expect("open");
        assert_eq!(store.journal_mode().await.expect("pragma"), "wal");
        let applied = store.applied_migrations().await.expect("count");
        assert!(applied >= 1, "expected migrations to run, got {applied}");
        drop(store);
        // Opening again is idempotent: no migration runs twice.
        let again = Store::open(&path).await.expect("reopen");
        assert_eq!(again.applied_migrations().await.expect("count"), applied);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_unwritable_path_is_a_clear_error() {
        let err = Store::open(Path::new("/proc/berth/definitely/not/here.db"))
            .await
            .expect_err("must fail");
        assert!(
            err.to_string().contains("cannot open database /proc/berth"),
            "{err}"
        );
    }
}
