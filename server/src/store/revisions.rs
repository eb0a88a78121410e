//! The `revisions` table: every deploy, change, rollback and delete of an instance, with who
//! asked, the change set, the per-object results and the health after. Its manifests (redacted)
//! and what a rollback needs in full ([`RevisionState`], kept sealed) are in `revision_payloads`:
//! they are written once, while the row is rewritten as results are recorded.

use std::collections::BTreeMap;

use app::model::{
    Edit, HealthState, ObjectResult, OperationStatus, RevisionRecord, RevisionSummary,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, Result, Store, id, now};

/// Everything needed to reproduce a revision exactly. Holds secrets: stored sealed only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RevisionState {
    /// Template input values.
    pub inputs: BTreeMap<String, String>,
    /// Rendered defaults (including generated passwords).
    pub defaults: BTreeMap<String, String>,
    /// Component edits in effect, in order.
    pub edits: Vec<Edit>,
    /// The manifests as applied, unredacted.
    pub manifests: Vec<Value>,
}

/// A revision about to run. A `deploy` also records (or revives) its instance, in the same
/// transaction, so an instance never exists without its first revision.
pub struct NewRevision<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Instance name.
    pub name: &'a str,
    /// The template (recorded on the instance by a deploy).
    pub template: &'a str,
    /// `deploy`, `change`, `rollback` or `delete`.
    pub kind: &'a str,
    /// Who asked.
    pub actor: &'a str,
    /// The change set (redacted), for changes and rollbacks.
    pub change: Option<&'a Value>,
    /// Input values, secret ones redacted.
    pub redacted_inputs: &'a Value,
    /// The manifests, secrets redacted.
    pub redacted_manifests: &'a [Value],
    /// The full state, sealed before it is stored.
    pub state: &'a RevisionState,
    /// How many objects the operation will apply or delete.
    pub planned: usize,
}

/// How a revision ended.
pub struct Outcome<'a> {
    /// Succeeded, failed or interrupted.
    pub status: OperationStatus,
    /// A line about it.
    pub message: &'a str,
    /// Per-object results.
    pub results: &'a [ObjectResult],
}

/// What a revision's summary is read from: its row of `revisions`.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    number: i64,
    kind: String,
    actor: String,
    created_at: String,
    finished_at: Option<String>,
    status: String,
    message: String,
    change_json: Option<String>,
    health: Option<String>,
}

const SUMMARY: &str = "r.number, r.kind, r.actor, r.created_at, r.finished_at, r.status, r.message, r.change_json, r.health";

/// A whole revision as read, redacted: its summary, inputs and results, and its manifests from
/// `revision_payloads` (everything but the sealed state).
#[derive(sqlx::FromRow)]
struct RevisionRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    inputs_json: String,
    manifests_json: String,
    results_json: String,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {e}"))
}

fn health_text(health: HealthState) -> String {
    serde_json::to_value(health)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl SummaryRow {
    fn summary(&self) -> Result<RevisionSummary> {
        Ok(RevisionSummary {
            number: self.number,
            kind: self.kind.clone(),
            actor: self.actor.clone(),
            created_at: self.created_at.clone(),
            finished_at: self.finished_at.clone(),
            status: OperationStatus::parse(&self.status),
            message: self.message.clone(),
            change: match &self.change_json {
                Some(c) => Some(serde_json::from_str(c).map_err(|e| corrupt("change_json", e))?),
                None => None,
            },
            health: self
                .health
                .as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| serde_json::from_value(Value::String(h.clone())))
                .transpose()
                .map_err(|e| corrupt("health", e))?,
        })
    }
}

impl RevisionRow {
    fn record(self) -> Result<RevisionRecord> {
        let manifests: Vec<Value> =
            serde_json::from_str(&self.manifests_json).map_err(|e| corrupt("manifests_json", e))?;
        let results: Vec<ObjectResult> =
            serde_json::from_str(&self.results_json).map_err(|e| corrupt("results_json", e))?;
        Ok(RevisionRecord {
            summary: self.summary.summary()?,
            inputs: serde_json::from_str(&self.inputs_json)
                .map_err(|e| corrupt("inputs_json", e))?,
            manifests,
            results,
        })
    }
}

impl Store {
    /// Records a revision in state `running` and returns its number.
    pub async fn begin_revision(&self, r: &NewRevision<'_>) -> Result<i64> {
        let state = serde_json::to_vec(r.state).map_err(|e| corrupt("state", e))?;
        let sealed = self.sealer.seal(&state);
        let mut tx = self.write().await?;
        if r.kind == "deploy" {
            Store::create_instance(&mut tx, r.namespace, r.name, r.template, r.actor).await?;
        }
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE instance_id = $1",
        )
        .bind(id(r.namespace, r.name))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO revisions (instance_id, number, kind, actor, created_at, status, change_json, inputs_json, planned)
             VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8)",
        )
        .bind(id(r.namespace, r.name))
        .bind(next)
        .bind(r.kind)
        .bind(r.actor)
        .bind(now())
        .bind(r.change.map(Value::to_string))
        .bind(r.redacted_inputs.to_string())
        .bind(r.planned as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO revision_payloads (instance_id, number, manifests_json, secrets_sealed)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id(r.namespace, r.name))
        .bind(next)
        .bind(serde_json::to_string(r.redacted_manifests).map_err(|e| corrupt("manifests", e))?)
        .bind(sealed)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Adds objects' results (redacted) to a running revision, in one transaction, as they
    /// happen, so that a crash leaves a record of how far the operation got.
    pub async fn record_results(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        results: &[ObjectResult],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let recorded: Option<String> = sqlx::query_scalar(
            "SELECT results_json FROM revisions
             WHERE instance_id = $1 AND number = $2 AND status = 'running'",
        )
        .bind(id(namespace, name))
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
        // A revision no longer running (it was found interrupted meanwhile) keeps what it has.
        let Some(recorded) = recorded else {
            return Ok(());
        };
        let mut all: Vec<Value> =
            serde_json::from_str(&recorded).map_err(|e| corrupt("results_json", e))?;
        for result in results {
            all.push(serde_json::to_value(result).map_err(|e| corrupt("result", e))?);
        }
        sqlx::query(
            "UPDATE revisions SET results_json = $1
             WHERE instance_id = $2 AND number = $3 AND status = 'running'",
        )
        .bind(Value::Array(all).to_string())
        .bind(id(namespace, name))
        .bind(number)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether any revision of the instance (a delete aside) failed, was cancelled or was
    /// interrupted: only those can have left objects no finished revision records.
    pub async fn has_unfinished(&self, namespace: &str, name: &str) -> Result<bool> {
        let found: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM revisions WHERE instance_id = $1 AND kind != 'delete'
               AND status IN ('failed', 'cancelled', 'interrupted')) THEN 1 ELSE 0 END",
        )
        .bind(id(namespace, name))
        .fetch_one(&self.pool)
        .await?;
        Ok(found != 0)
    }

    /// Whether revision `number` is the instance's newest, whatever its status, and was made
    /// by this installation (after its id existed, so its objects carry it). Then the cluster
    /// holds that revision as it was applied, if it succeeded.
    pub async fn is_newest_of_installation(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<bool> {
        let newest: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN
                (SELECT MAX(number) FROM revisions WHERE instance_id = $1) = $2
                AND (SELECT created_at FROM revisions WHERE instance_id = $1 AND number = $2)
                    >= (SELECT created_at FROM installation ORDER BY created_at, id LIMIT 1)
             THEN 1 ELSE 0 END",
        )
        .bind(id(namespace, name))
        .bind(number)
        .fetch_one(&self.pool)
        .await?;
        Ok(newest != 0)
    }

    /// Finishes a running revision. A successful one becomes the instance's current revision (a
    /// successful delete marks the instance deleted); then revisions beyond the limit are pruned,
    /// oldest first, never the current one or one still running.
    pub async fn finish_revision(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        outcome: &Outcome<'_>,
    ) -> Result<()> {
        let results = serde_json::to_string(outcome.results).map_err(|e| corrupt("results", e))?;
        let instance = id(namespace, name);
        let mut tx = self.write().await?;
        let kind: Option<String> = sqlx::query_scalar(
            "UPDATE revisions SET status = $1, message = $2, results_json = $3, finished_at = $4
             WHERE instance_id = $5 AND number = $6 AND status = 'running' RETURNING kind",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.message)
        .bind(results)
        .bind(now())
        .bind(&instance)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
        // Only a running revision ends: one already ended (marked interrupted by a replica that
        // found it abandoned, or by a shutdown) keeps what it says.
        let kind = kind
            .ok_or_else(|| Error::NotFound(format!("running revision {number} of {instance}")))?;
        if outcome.status == OperationStatus::Succeeded {
            let deleted_at = (kind == "delete").then(now);
            sqlx::query(
                "UPDATE instances SET current_revision = $1, deleted_at = COALESCE($2, deleted_at) WHERE id = $3",
            )
            .bind(number)
            .bind(deleted_at)
            .bind(&instance)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM revisions WHERE instance_id = $1 AND status != 'running'
               AND number <= (SELECT MAX(number) FROM revisions WHERE instance_id = $1) - $2
               AND number != (SELECT current_revision FROM instances WHERE id = $1)",
        )
        .bind(&instance)
        .bind(self.revision_limit)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if kind == "delete" && outcome.status == OperationStatus::Succeeded {
            // A deleted instance's page is rarely read again: its state need not stay in memory.
            self.opened.forget(&instance);
        }
        Ok(())
    }

    /// Records the health an ended revision left its instance in. It is read and written after
    /// the end, so that the operation's answer does not wait for it; a revision pruned meanwhile
    /// is no error.
    pub async fn record_health(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        health: HealthState,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE revisions SET health = $1 WHERE instance_id = $2 AND number = $3")
            .bind(health_text(health))
            .bind(id(namespace, name))
            .bind(number)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The number of the instance's revision that is running now, if one is (on whichever
    /// replica runs it).
    pub async fn running_revision(&self, namespace: &str, name: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT number FROM revisions WHERE instance_id = $1 AND status = 'running'
             ORDER BY number DESC LIMIT 1",
        )
        .bind(id(namespace, name))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The instance's revisions, oldest first.
    pub async fn revisions(&self, namespace: &str, name: &str) -> Result<Vec<RevisionSummary>> {
        self.instance(namespace, name).await?;
        let rows = sqlx::query_as::<_, SummaryRow>(&format!(
            "SELECT {SUMMARY} FROM revisions r WHERE r.instance_id = $1 ORDER BY r.number"
        ))
        .bind(id(namespace, name))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    /// One revision, redacted.
    pub async fn revision(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<RevisionRecord> {
        sqlx::query_as::<_, RevisionRow>(&format!(
            "SELECT {SUMMARY}, r.inputs_json, p.manifests_json, r.results_json
             FROM revisions r JOIN revision_payloads p
               ON p.instance_id = r.instance_id AND p.number = r.number
             WHERE r.instance_id = $1 AND r.number = $2"
        ))
        .bind(id(namespace, name))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("revision {number} of {}", id(namespace, name))))?
        .record()
    }

    /// Keeps the state of a revision that just became the instance's current one, as if it had
    /// been opened: the next change plans on it without reading it back.
    pub fn keep_opened(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        state: std::sync::Arc<RevisionState>,
    ) {
        self.opened.put((id(namespace, name), number), state);
    }

    /// The sealed state of a revision, opened. A revision's state never changes once recorded,
    /// so the last few opened are kept in memory: the instance page and the live stream read the
    /// current one on every update, and opening it means decrypting and parsing every manifest.
    pub async fn revision_state(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<std::sync::Arc<RevisionState>> {
        let key = (id(namespace, name), number);
        if let Some(state) = self.opened.get(&key) {
            return Ok(state);
        }
        let state = std::sync::Arc::new(self.open_state(namespace, name, number).await?);
        self.opened.put(key, state.clone());
        Ok(state)
    }

    async fn open_state(&self, namespace: &str, name: &str, number: i64) -> Result<RevisionState> {
        let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT secrets_sealed FROM revision_payloads WHERE instance_id = $1 AND number = $2",
        )
        .bind(id(namespace, name))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        let sealed = sealed
            .ok_or_else(|| {
                Error::NotFound(format!("revision {number} of {}", id(namespace, name)))
            })?
            .unwrap_or_default();
        let plain = self
            .sealer
            .open(&sealed)
            .map_err(|e| corrupt("sealed state", e))?;
        serde_json::from_slice(&plain).map_err(|e| corrupt("sealed state", e))
    }

    /// Re-seals every sealed revision under `new`, in one transaction (all or nothing), and
    /// returns how many it re-sealed. The store keeps its old key: open it anew to use `new`.
    pub async fn reseal(&self, new: &super::Sealer) -> Result<u64> {
        let mut tx = self.write().await?;
        let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT instance_id, number, secrets_sealed FROM revision_payloads WHERE secrets_sealed IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (instance, number, sealed) in &rows {
            let plain = self
                .sealer
                .open(sealed)
                .map_err(|e| corrupt(&format!("revision {number} of {instance}"), e))?;
            sqlx::query(
                "UPDATE revision_payloads SET secrets_sealed = $1 WHERE instance_id = $2 AND number = $3",
            )
            .bind(new.seal(&plain))
            .bind(instance)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}
