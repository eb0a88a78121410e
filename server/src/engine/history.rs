//! Instances and their revisions in SQLite. Rows of `revisions` are only ever added or finished,
//! never deleted, so history survives deletes, rollbacks and crashes.
//!
//! What is stored in the clear is redacted (no Secret values, no generated passwords). The full
//! state a rollback needs (inputs, defaults, edits, manifests) is stored sealed (see [`Sealer`]).

use app::model::{HealthState, InstanceSummary, ObjectResult, OperationStatus, RevisionSummary};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Row, SqlitePool};

use super::{changes::Edit, seal::Sealer};

/// Everything needed to reproduce a revision exactly. Holds secrets: stored sealed only.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RevisionState {
    /// Template input values.
    pub inputs: std::collections::BTreeMap<String, String>,
    /// Rendered defaults (including generated passwords).
    pub defaults: std::collections::BTreeMap<String, String>,
    /// Component edits in effect, in order.
    pub edits: Vec<Edit>,
    /// The manifests as applied, unredacted.
    pub manifests: Vec<Value>,
}

/// A revision as stored, redacted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRecord {
    /// Summary fields.
    #[serde(flatten)]
    pub summary: RevisionSummary,
    /// Inputs, redacted where they look secret.
    pub inputs: Value,
    /// Manifests with secrets redacted.
    pub manifests: Vec<Value>,
    /// Per-object results.
    pub results: Vec<ObjectResult>,
}

/// Errors from the history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The instance exists (and is not deleted).
    #[error("instance {0} already exists")]
    Exists(String),
    /// No such instance or revision.
    #[error("{0} not found")]
    NotFound(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Stored data could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Access to instances and revisions.
#[derive(Clone, Debug)]
pub struct History {
    pool: SqlitePool,
    sealer: Sealer,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn id(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

impl History {
    /// A history over `pool`, sealing with `sealer`.
    pub fn new(pool: SqlitePool, sealer: Sealer) -> History {
        History { pool, sealer }
    }

    /// Records a new instance, or revives a deleted one of the same name (its history continues).
    pub async fn create_instance(
        &self,
        namespace: &str,
        name: &str,
        template: &str,
        actor: &str,
    ) -> Result<(), HistoryError> {
        let existing = sqlx::query("SELECT deleted_at FROM instances WHERE id = ?")
            .bind(id(namespace, name))
            .fetch_optional(&self.pool)
            .await?;
        match existing {
            Some(row) if row.get::<Option<String>, _>("deleted_at").is_none() => {
                Err(HistoryError::Exists(id(namespace, name)))
            }
            Some(_) => {
                sqlx::query("UPDATE instances SET deleted_at = NULL, template = ? WHERE id = ?")
                    .bind(template)
                    .bind(id(namespace, name))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
            None => {
                sqlx::query("INSERT INTO instances (id, namespace, name, template, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)")
                    .bind(id(namespace, name))
                    .bind(namespace)
                    .bind(name)
                    .bind(template)
                    .bind(now())
                    .bind(actor)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    }

    /// One instance, deleted or not.
    pub async fn instance(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<InstanceSummary, HistoryError> {
        let row = sqlx::query("SELECT * FROM instances WHERE id = ?")
            .bind(id(namespace, name))
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| HistoryError::NotFound(format!("instance {}", id(namespace, name))))?;
        Ok(instance_from(&row))
    }

    /// All instances, newest first (deleted ones only when asked).
    pub async fn instances(
        &self,
        include_deleted: bool,
    ) -> Result<Vec<InstanceSummary>, HistoryError> {
        let rows = sqlx::query(
            "SELECT * FROM instances WHERE (? OR deleted_at IS NULL) ORDER BY created_at DESC",
        )
        .bind(include_deleted)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(instance_from).collect())
    }

    /// Starts a revision in state `running`; returns its number.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_revision(
        &self,
        namespace: &str,
        name: &str,
        kind: &str,
        actor: &str,
        change: Option<&Value>,
        redacted_inputs: &Value,
        redacted_manifests: &[Value],
        state: &RevisionState,
    ) -> Result<i64, HistoryError> {
        let sealed = self
            .sealer
            .seal(&serde_json::to_vec(state).map_err(|e| HistoryError::Corrupt(e.to_string()))?);
        let mut tx = self.pool.begin().await?;
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE instance_id = ?",
        )
        .bind(id(namespace, name))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO revisions (instance_id, number, kind, actor, created_at, status, change_json, inputs_json, manifests_json, secrets_sealed)
             VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        )
        .bind(id(namespace, name))
        .bind(next)
        .bind(kind)
        .bind(actor)
        .bind(now())
        .bind(change.map(Value::to_string))
        .bind(redacted_inputs.to_string())
        .bind(Value::Array(redacted_manifests.to_vec()).to_string())
        .bind(sealed)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Finishes a revision with its outcome. A successful one becomes the instance's current
    /// revision; a successful delete marks the instance deleted.
    pub async fn finish_revision(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        status: OperationStatus,
        message: &str,
        results: &[ObjectResult],
        health: Option<HealthState>,
    ) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE revisions SET status = ?, message = ?, results_json = ?, health = ?, finished_at = ? WHERE instance_id = ? AND number = ?")
            .bind(status.as_str())
            .bind(message)
            .bind(serde_json::to_string(results).unwrap_or_else(|_| "[]".into()))
            .bind(health.map(|h| serde_json::to_value(h).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()))
            .bind(now())
            .bind(id(namespace, name))
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if status == OperationStatus::Succeeded {
            let kind: String = sqlx::query_scalar(
                "SELECT kind FROM revisions WHERE instance_id = ? AND number = ?",
            )
            .bind(id(namespace, name))
            .bind(number)
            .fetch_one(&mut *tx)
            .await?;
            if kind == "delete" {
                sqlx::query(
                    "UPDATE instances SET deleted_at = ?, current_revision = ? WHERE id = ?",
                )
                .bind(now())
                .bind(number)
                .bind(id(namespace, name))
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("UPDATE instances SET current_revision = ? WHERE id = ?")
                    .bind(number)
                    .bind(id(namespace, name))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records the health an instance had once a revision finished applying.
    pub async fn set_health(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
        health: HealthState,
    ) -> Result<(), HistoryError> {
        let text = serde_json::to_value(health)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        sqlx::query("UPDATE revisions SET health = ? WHERE instance_id = ? AND number = ?")
            .bind(text)
            .bind(id(namespace, name))
            .bind(number)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The instance's revisions, oldest first.
    pub async fn revisions(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<RevisionSummary>, HistoryError> {
        self.instance(namespace, name).await?;
        let rows = sqlx::query("SELECT * FROM revisions WHERE instance_id = ? ORDER BY number")
            .bind(id(namespace, name))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(summary_from).collect()
    }

    /// One revision, redacted.
    pub async fn revision(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<RevisionRecord, HistoryError> {
        let row = self.revision_row(namespace, name, number).await?;
        let parse = |col: &str| -> Result<Value, HistoryError> {
            serde_json::from_str(&row.get::<String, _>(col))
                .map_err(|e| HistoryError::Corrupt(format!("{col}: {e}")))
        };
        let manifests = match parse("manifests_json")? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        let results: Vec<ObjectResult> = serde_json::from_value(parse("results_json")?)
            .map_err(|e| HistoryError::Corrupt(e.to_string()))?;
        Ok(RevisionRecord {
            summary: summary_from(&row)?,
            inputs: parse("inputs_json")?,
            manifests,
            results,
        })
    }

    /// The sealed state of a revision, opened.
    pub async fn revision_state(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<RevisionState, HistoryError> {
        let row = self.revision_row(namespace, name, number).await?;
        let sealed: Option<Vec<u8>> = row.get("secrets_sealed");
        let plain = self
            .sealer
            .open(&sealed.unwrap_or_default())
            .map_err(|e| HistoryError::Corrupt(e.to_string()))?;
        serde_json::from_slice(&plain).map_err(|e| HistoryError::Corrupt(e.to_string()))
    }

    async fn revision_row(
        &self,
        namespace: &str,
        name: &str,
        number: i64,
    ) -> Result<sqlx::sqlite::SqliteRow, HistoryError> {
        sqlx::query("SELECT * FROM revisions WHERE instance_id = ? AND number = ?")
            .bind(id(namespace, name))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| {
                HistoryError::NotFound(format!("revision {number} of {}", id(namespace, name)))
            })
    }

    /// Marks every revision left `running` (by a crash or a restart) as `interrupted`.
    pub async fn mark_interrupted(&self) -> Result<u64, HistoryError> {
        let done = sqlx::query("UPDATE revisions SET status = 'interrupted', finished_at = ?, message = 'Berth stopped while this operation ran' WHERE status = 'running'")
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn instance_from(row: &sqlx::sqlite::SqliteRow) -> InstanceSummary {
    InstanceSummary {
        namespace: row.get("namespace"),
        name: row.get("name"),
        template: row.get("template"),
        revision: row.get("current_revision"),
        created_at: row.get("created_at"),
        created_by: row.get("created_by"),
        deleted_at: row.get("deleted_at"),
    }
}

fn summary_from(row: &sqlx::sqlite::SqliteRow) -> Result<RevisionSummary, HistoryError> {
    let change: Option<String> = row.get("change_json");
    let health: Option<String> = row.get("health");
    Ok(RevisionSummary {
        number: row.get("number"),
        kind: row.get("kind"),
        actor: row.get("actor"),
        created_at: row.get("created_at"),
        finished_at: row.get("finished_at"),
        status: OperationStatus::parse(&row.get::<String, _>("status")),
        message: row.get("message"),
        change: change.and_then(|c| serde_json::from_str(&c).ok()),
        health: health.and_then(|h| serde_json::from_value(Value::String(h)).ok()),
    })
}
