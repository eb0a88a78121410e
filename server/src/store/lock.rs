//! What lets several Berth replicas share one PostgreSQL: a lock per instance, held while an
//! operation on it runs, and the sweep that finds operations whose replica went away.
//!
//! The lock is a PostgreSQL session-level advisory lock, taken on a connection of its own that
//! the lock keeps until it is dropped. PostgreSQL releases it the moment that connection ends,
//! however its replica ended, and needs no renewal or expiry: so a `running` revision whose
//! instance lock is free is exactly one whose replica is gone ([`Store::interrupt_orphans`]).
//! A Kubernetes Lease would need a renewal loop and could only be judged abandoned after its
//! duration ran out, and it would tie the store's truth to a second system.
//!
//! A create also holds its namespace's lock ([`Store::lock_namespace`]) while it decides whether
//! a namespace it made stays, in a key space of its own.
//!
//! On SQLite there is one process, whose own per-instance lock (in the service) is enough: the
//! locks here always succeed and hold nothing.

use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sqlx::{AnyConnection, Connection as _};

use super::{Backend, Result, Store, id, now};

/// The advisory lock key of the whole database's writes (see `Store::write`): "berth" in ASCII.
pub(super) const WRITE_KEY: i64 = 0x62_65_72_74_68;

/// A revision marked interrupted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// `<namespace>/<name>`.
    pub instance: String,
    /// The revision's number.
    pub revision: i64,
    /// What its record now says.
    pub message: String,
}

/// An instance's lock, held until dropped.
#[derive(Debug)]
pub struct InstanceLock {
    /// The PostgreSQL session holding the advisory lock (none on SQLite).
    held: Option<AnyConnection>,
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        // Closing the session releases its lock; without a runtime, dropping the socket does.
        if let Some(conn) = self.held.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = conn.close().await;
            });
        }
    }
}

/// A namespace's lock across replicas, held until dropped (see [`Store::lock_namespace`]).
#[derive(Debug)]
pub struct NamespaceLock {
    _held: InstanceLock,
}

/// How often a replica waiting for a namespace's lock tries it again.
const NAMESPACE_RETRY: Duration = Duration::from_millis(20);

/// The advisory lock key of an instance: the first 8 bytes of the SHA-256 of its id.
fn key_of(instance: &str) -> i64 {
    hashed(&format!("berth instance {instance}"))
}

/// The first 8 bytes of the SHA-256 of `text`, as a lock key.
fn hashed(text: &str) -> i64 {
    let digest = Sha256::digest(text.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Tries the advisory lock `key` on `conn`: true when this session now holds it.
async fn try_lock(conn: &mut AnyConnection, key: i64) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await?)
}

impl Store {
    /// Takes the instance's lock, or `None` while another replica holds it.
    pub async fn lock_instance(&self, namespace: &str, name: &str) -> Result<Option<InstanceLock>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(InstanceLock { held: None }));
        }
        // Out of the pool, which opens another in its place: a lock may be held for minutes.
        let mut conn = self.pool.acquire().await?.detach();
        if try_lock(&mut conn, key_of(&id(namespace, name))).await? {
            Ok(Some(InstanceLock { held: Some(conn) }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Waits (up to `limit`) for the namespace's lock, which a create holds from looking its
    /// namespace up until its checks decide whether a namespace it made stays: a refused create
    /// removes the namespace it made, which must not happen under another replica's create. Its
    /// own key space, apart from the instances'. `None` once `limit` has passed. On SQLite there
    /// is one process, whose own namespace locks (in the service) are enough.
    pub async fn lock_namespace(
        &self,
        namespace: &str,
        limit: Duration,
    ) -> Result<Option<NamespaceLock>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(NamespaceLock {
                _held: InstanceLock { held: None },
            }));
        }
        let key = hashed(&format!("berth namespace {namespace}"));
        // Out of the pool: closing the session is what releases the lock, however this ends.
        let mut conn = self.pool.acquire().await?.detach();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if try_lock(&mut conn, key).await? {
                return Ok(Some(NamespaceLock {
                    _held: InstanceLock { held: Some(conn) },
                }));
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = conn.close().await;
                return Ok(None);
            }
            tokio::time::sleep(NAMESPACE_RETRY).await;
        }
    }

    /// Marks `interrupted` every revision left `running` by a Berth that is gone, saying how far
    /// it got, and returns how many. On SQLite that is every running revision (call it only at
    /// start, before any operation); on PostgreSQL it is those whose instance lock no replica
    /// holds, which any replica may check at any time.
    pub async fn interrupt_orphans(&self) -> Result<Vec<Interrupted>> {
        self.interrupt(None).await
    }

    /// Marks `interrupted` the running revisions of these instances (`(namespace, name)`), which
    /// this process runs and is leaving (it is shutting down), and returns how many.
    pub async fn interrupt_running(
        &self,
        instances: &[(String, String)],
    ) -> Result<Vec<Interrupted>> {
        let ids: Vec<String> = instances.iter().map(|(ns, n)| id(ns, n)).collect();
        self.interrupt(Some(&ids)).await
    }

    /// Marks running revisions interrupted: those of `only`, or else every orphan.
    async fn interrupt(&self, only: Option<&[String]>) -> Result<Vec<Interrupted>> {
        let mut running: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT instance_id, number, results_json, planned FROM revisions WHERE status = 'running'",
        )
        .fetch_all(&self.pool)
        .await?;
        if let Some(only) = only {
            running.retain(|(instance, ..)| only.contains(instance));
        }
        if running.is_empty() {
            return Ok(Vec::new());
        }
        // On PostgreSQL each lock is tried on one pooled session and released at once. Should
        // anything fail on the way, that session is closed rather than handed back to the pool,
        // so that no lock it may still hold outlives the sweep.
        let mut probe = match (self.backend, only) {
            (Backend::Postgres, None) => Some(self.pool.acquire().await?),
            _ => None,
        };
        let marked = self.mark_interrupted(probe.as_deref_mut(), running).await;
        if let (Some(conn), Err(_)) = (probe, &marked) {
            let _ = conn.detach().close().await;
        }
        marked
    }

    /// Marks each of `running` (instance, number, results so far, planned) interrupted, when
    /// `probe` (if given) can take its instance's lock.
    async fn mark_interrupted(
        &self,
        mut probe: Option<&mut AnyConnection>,
        running: Vec<(String, i64, String, i64)>,
    ) -> Result<Vec<Interrupted>> {
        let mut marked = Vec::new();
        for (instance, number, results, planned) in running {
            let key = key_of(&instance);
            if let Some(conn) = probe.as_deref_mut()
                && !try_lock(conn, key).await?
            {
                continue;
            }
            let done = serde_json::from_str::<Vec<serde_json::Value>>(&results)
                .map(|r| r.len())
                .unwrap_or(0);
            let message = format!(
                "Berth stopped while this operation ran, after {done} of {planned} objects; resume it or roll back"
            );
            let updated = sqlx::query(
                "UPDATE revisions SET status = 'interrupted', finished_at = $1, message = $2
                 WHERE instance_id = $3 AND number = $4 AND status = 'running'",
            )
            .bind(now())
            .bind(&message)
            .bind(&instance)
            .bind(number)
            .execute(&self.pool)
            .await;
            if let Some(conn) = probe.as_deref_mut() {
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(conn)
                    .await?;
            }
            if updated?.rows_affected() > 0 {
                marked.push(Interrupted {
                    instance,
                    revision: number,
                    message,
                });
            }
        }
        Ok(marked)
    }
}

#[cfg(test)]
mod tests {
    use super::key_of;

    #[test]
    fn instances_have_distinct_keys_and_none_is_the_write_key() {
        let a = key_of("ns/a");
        assert_eq!(a, key_of("ns/a"));
        assert_ne!(a, key_of("ns/b"));
        assert_ne!(a, super::WRITE_KEY);
    }
}
