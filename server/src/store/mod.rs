//! Berth's store, on SQLite or PostgreSQL. It owns every SQL statement: opening the database
//! (SQLite in WAL mode; migrations at startup, one directory per backend), the `instances` and
//! `revisions` tables, sealing what must stay secret, and what replicas sharing a PostgreSQL
//! need of it: a lock per instance ([`lock`]) and progress passed between them ([`bus`]).
//!
//! There is one set of statements for both backends, run through sqlx's `Any` driver: parameters
//! are written `$1`, which both understand, and the few differences (JSON functions, how a write
//! takes its lock) are methods of [`Backend`]. Rows come back as typed structs
//! (`sqlx::FromRow`): a schema that does not match is an error, never a panic. Every write that
//! reads first holds the database's write lock (SQLite's `BEGIN IMMEDIATE`, a transaction-level
//! advisory lock on PostgreSQL), so two writers never both read the same "next revision". Each
//! instance keeps its newest
//! [`DEFAULT_REVISION_LIMIT`] revisions (ten times Helm's and Argo CD's default), never dropping
//! the current one or one still running.
//!
//! It imports nothing of Berth's above it: only the shared model and its own sealing.

pub mod bus;
mod instances;
pub mod lock;
mod revisions;
pub mod seal;
mod templates;
mod tokens;

use std::{
    collections::VecDeque,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sqlx::{
    Any, AnyPool, Connection as _, Executor as _,
    any::{AnyConnectOptions, AnyPoolOptions},
};

pub use lock::{InstanceLock, Interrupted, NamespaceLock};
pub use revisions::{NewRevision, Outcome, RevisionState};
pub use seal::Sealer;
pub use tokens::TokenRecord;

/// How many revisions an instance keeps unless configured otherwise.
pub const DEFAULT_REVISION_LIMIT: i64 = 100;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened, created or reached.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The path or address that was tried (without a password).
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
        if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            // Class 53 (insufficient resources: disk full, out of memory, too many connections)
            // and 25006 (a read-only transaction: a standby).
            return pg.code().starts_with("53") || pg.code() == "25006";
        }
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
    pool: AnyPool,
    backend: Backend,
    /// Where the database is, as given (the progress bus connects to it).
    dsn: Dsn,
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
    /// Opens the database `db`: a `postgres://` (or `postgresql://`) URL, or else the path of a
    /// SQLite file (created if needed, in WAL mode); `:memory:` gives a private in-memory SQLite
    /// database, for tests. Pending migrations run first.
    pub async fn open(db: &Path, sealer: Sealer) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let text = db.to_string_lossy();
        let backend = Backend::of(&text);
        let address = backend.address(&text);
        let open_err = |source| Error::Open {
            path: address.clone(),
            source,
        };
        let in_memory = text == ":memory:";
        let url = match backend {
            Backend::Postgres => text.to_string(),
            Backend::Sqlite if in_memory => "sqlite::memory:".to_string(),
            Backend::Sqlite => format!("sqlite://{text}?mode=rwc"),
        };
        let options: AnyConnectOptions = url.parse().map_err(open_err)?;
        let sqlite = backend == Backend::Sqlite;
        // An in-memory database exists per connection, so it must stay on exactly one. A file
        // (or PostgreSQL) keeps one open too, so a read never waits to connect (nor, on a full
        // disk, needs new files). The others a burst opened close after 30 s idle: a SQLite
        // connection holds a thread, a statement cache and its page cache, 1.5–2 MB of RSS
        // after a burst (`end2end/bench/cycles.py`).
        let pool = AnyPoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .idle_timeout((!in_memory).then_some(Duration::from_secs(30)))
            .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // sqlx's own settings are foreign keys on and a 5 s busy timeout. Also:
                        // WAL (kept in the file), and 512 KiB of page cache per connection
                        // rather than 2 MiB: with 8 connections the default grew to 16 MiB of
                        // Berth's memory as history grew, for pages the system caches anyway.
                        let journal = if in_memory { "MEMORY" } else { "WAL" };
                        conn.execute(&*format!(
                            "PRAGMA journal_mode = {journal}; PRAGMA synchronous = NORMAL; \
                             PRAGMA cache_size = -512;"
                        ))
                        .await?;
                    }
                    Ok(())
                })
            })
            // A write that failed (a full disk) can leave its connection inside a transaction
            // it could not roll back: such a connection is closed, never handed out again.
            .after_release(move |conn, _| {
                Box::pin(async move { Ok(in_memory || !conn.is_in_transaction()) })
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let installation = installation(&pool).await?;
        Ok(Store {
            pool,
            backend,
            dsn: Dsn(text.into()),
            sealer,
            revision_limit: DEFAULT_REVISION_LIMIT,
            opened: Opened::default(),
            installation,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This installation's id: 16 hex digits, made when the database was first opened and kept
    /// in it. Objects Berth applies are labelled with it ([`crate::kube::INSTALLATION_LABEL`]).
    pub fn installation(&self) -> &str {
        &self.installation
    }

    /// Opens the database `db` and its sealing key (see [`Sealer::load`]): a missing key is
    /// created only while no revision is sealed. PostgreSQL takes the key from `BERTH_SECRET_KEY`
    /// only: every replica needs the same one, and a file beside a URL means nothing.
    pub async fn open_with_key(
        path: &Path,
        env_key: Option<&str>,
        key_file: &Path,
    ) -> anyhow::Result<Store> {
        if Backend::of(&path.to_string_lossy()) == Backend::Postgres
            && env_key.is_none_or(str::is_empty)
        {
            anyhow::bail!(
                "a PostgreSQL store needs its sealing key in BERTH_SECRET_KEY (32 bytes, base64 or hex), the same on every replica"
            );
        }
        // Counting sealed rows needs no key: open with a throwaway one, then load the real one.
        let mut store = Store::open(path, Sealer::new(rand::random())).await?;
        let sealed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM revision_payloads WHERE secrets_sealed IS NOT NULL",
        )
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

    /// The journal mode SQLite reports (`wal` for a file database); `postgres` from PostgreSQL.
    /// Either way a round trip to the database.
    pub async fn journal_mode(&self) -> Result<String> {
        let sql = match self.backend {
            Backend::Sqlite => "PRAGMA journal_mode",
            Backend::Postgres => "SELECT 'postgres'",
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// Number of migrations applied.
    pub async fn applied_migrations(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A write transaction that holds the database's write lock from its start: SQLite's
    /// (`BEGIN IMMEDIATE`), or on PostgreSQL an advisory lock held until the transaction ends,
    /// which serialises Berth's writes from every replica as SQLite does within one.
    async fn write(&self) -> Result<sqlx::Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                    .bind(lock::WRITE_KEY)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
}

/// The `--db` value, which may hold a password: never printed.
#[derive(Clone)]
struct Dsn(Arc<str>);

impl Dsn {
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Dsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Backend::of(&self.0).address(&self.0))
    }
}

/// The database behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (or memory): one Berth process.
    Sqlite,
    /// A PostgreSQL server: any number of Berth replicas.
    Postgres,
}

impl Backend {
    /// The backend a `--db` value names.
    pub fn of(db: &str) -> Backend {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// `db` as it may be shown: a URL's password replaced by `***`.
    fn address(self, db: &str) -> String {
        match (self, url::Url::parse(db)) {
            (Backend::Postgres, Ok(mut url)) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => db.to_string(),
        }
    }

    /// An SQL expression for a JSON object of `pairs` (`'key', column, ...`), as text.
    fn json_object(self, pairs: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_object({pairs})"),
            Backend::Postgres => format!("json_build_object({pairs})::text"),
        }
    }
}

/// The installation id stored in the database, made and stored first if there is none (read
/// before writing, so a database that cannot take writes still opens).
async fn installation(pool: &AnyPool) -> Result<Arc<str>> {
    const READ: &str = "SELECT id FROM installation ORDER BY created_at, id LIMIT 1";
    if let Some(id) = sqlx::query_scalar::<_, String>(READ)
        .fetch_optional(pool)
        .await?
    {
        return Ok(id.into());
    }
    // Two processes opening a new database at once: the first row wins for both.
    sqlx::query(
        "INSERT INTO installation (id, created_at) SELECT $1, $2 \
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

#[cfg(test)]
mod replica_tests;
