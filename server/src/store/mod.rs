//! Berth's SQLite store. It owns every SQL statement: opening the database (WAL mode, migrations
//! at startup), the `instances` and `revisions` tables, and sealing what must stay secret.
//!
//! Rows come back as typed structs (`sqlx::FromRow`): a schema that does not match is an error,
//! never a panic. Every write that reads first runs in a transaction that begins IMMEDIATE, so two
//! writers never both read the same "next revision". Each instance keeps its newest
//! [`DEFAULT_REVISION_LIMIT`] revisions (ten times Helm's and Argo CD's default), never dropping
//! the current one or one still running.
//!
//! It imports nothing of Berth's above it: only the shared model and its own sealing.

mod instances;
mod revisions;
pub mod seal;
mod templates;
mod tokens;

use std::{
    collections::VecDeque,
    path::Path,
    str::FromStr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sqlx::{
    Connection as _,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

pub use revisions::{NewRevision, Outcome, RevisionState};
pub use seal::Sealer;
pub use tokens::TokenRecord;

/// How many revisions an instance keeps unless configured otherwise.
pub const DEFAULT_REVISION_LIMIT: i64 = 100;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The path that was tried.
        path: String,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the database is left as it was before that migration.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// No such instance or revision.
    #[error("{0} not found")]
    NotFound(String),
    /// The instance exists (and is not deleted).
    #[error("instance {0} already exists")]
    Exists(String),
    /// Stored data could not be read back (a schema mismatch, bad JSON, a seal that won't open).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

impl Error {
    /// Whether the database cannot take writes now (the disk is full, the file or its directory
    /// is read-only, or an I/O error): a state to report and wait out, not a bug.
    pub fn is_unwritable(&self) -> bool {
        let Error::Sql(sqlx::Error::Database(e)) = self else {
            return false;
        };
        // SQLite's primary result codes (the low byte of an extended code): SQLITE_READONLY 8,
        // SQLITE_IOERR 10, SQLITE_FULL 13, SQLITE_CANTOPEN 14.
        e.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 8 | 10 | 13 | 14))
    }
}

/// Result alias for the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    sealer: Sealer,
    revision_limit: i64,
    opened: Opened,
    installation: Arc<str>,
}

/// The revision state opened last for each of the last [`Opened::CAPACITY`] instances, shared
/// by clones.
#[derive(Clone, Debug, Default)]
struct Opened(Arc<Mutex<Kept>>);

/// An instance's id and a revision number.
type StateKey = (String, i64);
/// The states kept, newest first.
type Kept = VecDeque<(StateKey, Arc<RevisionState>)>;

impl Opened {
    const CAPACITY: usize = 16;

    fn get(&self, key: &StateKey) -> Option<Arc<RevisionState>> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().find(|(k, _)| k == key).map(|(_, s)| s.clone())
    }

    /// Drops whatever is kept of `instance`.
    fn forget(&self, instance: &str) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|(k, _)| k.0 != instance);
    }

    /// Keeps `state`, in place of any other revision of the same instance (the newest opened
    /// is the one read again: an instance's current revision).
    fn put(&self, key: StateKey, state: Arc<RevisionState>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|(k, _)| k.0 != key.0);
        kept.push_front((key, state));
        kept.truncate(Self::CAPACITY);
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` in WAL mode and runs pending migrations.
    /// `:memory:` gives a private in-memory database, for tests.
    pub async fn open(path: &Path, sealer: Sealer) -> Result<Store> {
        let in_memory = path.as_os_str() == ":memory:";
        let url = if in_memory {
            "sqlite::memory:".to_string()
        } else {
            format!("sqlite://{}", path.display())
        };
        let open_err = |source| Error::Open {
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
            .busy_timeout(Duration::from_secs(5))
            // 512 KiB of page cache per connection rather than SQLite's 2 MiB: with 8
            // connections the default grew to 16 MiB of Berth's memory as history grew, for
            // pages the system's own cache holds anyway.
            .pragma("cache_size", "-512");
        // An in-memory database exists per connection, so it must stay on exactly one.
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
            .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
            // A write that failed (a full disk) can leave its connection inside a transaction
            // it could not roll back: such a connection is closed, never handed out again.
            .after_release(move |conn, _| {
                Box::pin(async move { Ok(in_memory || !conn.is_in_transaction()) })
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let installation = installation(&pool).await?;
        Ok(Store {
            pool,
            sealer,
            revision_limit: DEFAULT_REVISION_LIMIT,
            opened: Opened::default(),
            installation,
        })
    }

    /// This installation's id: 16 hex digits, made when the database was first opened and kept
    /// in it. Objects Berth applies are labelled with it ([`crate::kube::INSTALLATION_LABEL`]).
    pub fn installation(&self) -> &str {
        &self.installation
    }

    /// Opens the database at `path` and its sealing key (see [`Sealer::load`]): a missing key is
    /// created only while no revision is sealed.
    pub async fn open_with_key(
        path: &Path,
        env_key: Option<&str>,
        key_file: &Path,
    ) -> anyhow::Result<Store> {
        // Counting sealed rows needs no key: open with a throwaway one, then load the real one.
        let mut store = Store::open(path, Sealer::new(rand::random())).await?;
        let sealed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM revisions WHERE secrets_sealed IS NOT NULL")
                .fetch_one(&store.pool)
                .await?;
        store.sealer = Sealer::load(env_key, key_file, sealed == 0)?;
        Ok(store)
    }

    /// The key of redaction markers ([`Sealer::marker_key`]).
    pub fn marker_key(&self) -> [u8; 32] {
        self.sealer.marker_key()
    }

    /// A private in-memory store, for tests.
    pub async fn in_memory(sealer: Sealer) -> Result<Store> {
        Store::open(Path::new(":memory:"), sealer).await
    }

    /// Keeps at most `limit` revisions per instance (at least 1).
    pub fn with_revision_limit(mut self, limit: i64) -> Store {
        self.revision_limit = limit.max(1);
        self
    }

    /// The journal mode SQLite reports (`wal` for a file database).
    pub async fn journal_mode(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Number of migrations applied.
    pub async fn applied_migrations(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`).
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// The installation id stored in the database, made and stored first if there is none (read
/// before writing, so a database that cannot take writes still opens).
async fn installation(pool: &SqlitePool) -> Result<Arc<str>> {
    const READ: &str = "SELECT id FROM installation ORDER BY rowid LIMIT 1";
    if let Some(id) = sqlx::query_scalar::<_, String>(READ)
        .fetch_optional(pool)
        .await?
    {
        return Ok(id.into());
    }
    // Two processes opening a new database at once: the first row wins for both.
    sqlx::query(
        "INSERT INTO installation (id, created_at) SELECT ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM installation)",
    )
    .bind(hex::encode(rand::random::<[u8; 8]>()))
    .bind(now())
    .execute(pool)
    .await?;
    Ok(sqlx::query_scalar::<_, String>(READ)
        .fetch_one(pool)
        .await?
        .into())
}

/// Now, as stored: RFC 3339 with milliseconds, UTC.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The `instances.id` of an instance.
fn id(namespace: &str, name: &str) -> String {
    crate::kube::instance_key(namespace, name)
}

#[cfg(test)]
mod tests;
