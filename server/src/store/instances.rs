//! The `instances` table: one row per instance, deleted ones kept (their history stays readable).

use app::model::{InstanceSummary, OperationStatus, Unfinished};

use super::{Backend, Error, Result, Store, id, now};

/// A row of `instances`, as selected.
#[derive(sqlx::FromRow)]
struct InstanceRow {
    namespace: String,
    name: String,
    template: String,
    current_revision: i64,
    created_at: String,
    created_by: String,
    deleted_at: Option<String>,
    changed_by: Option<String>,
    changed_at: Option<String>,
    newest: Option<String>,
}

/// The instance's columns, who made its current revision and when, and its newest revision.
fn columns(backend: Backend) -> String {
    let newest =
        backend.json_object("'number', number, 'kind', kind, 'status', status, 'message', message");
    format!(
        "namespace, name, template, current_revision, created_at, created_by, deleted_at, \
         (SELECT actor FROM revisions r WHERE r.instance_id = instances.id AND r.number = instances.current_revision) AS changed_by, \
         (SELECT created_at FROM revisions r WHERE r.instance_id = instances.id AND r.number = instances.current_revision) AS changed_at, \
         (SELECT {newest} FROM revisions r WHERE r.instance_id = instances.id ORDER BY number DESC LIMIT 1) AS newest"
    )
}

impl From<InstanceRow> for InstanceSummary {
    fn from(r: InstanceRow) -> InstanceSummary {
        InstanceSummary {
            namespace: r.namespace,
            name: r.name,
            template: r.template,
            revision: r.current_revision,
            created_at: r.created_at,
            created_by: r.created_by,
            deleted_at: r.deleted_at,
            changed_by: r.changed_by,
            changed_at: r.changed_at,
            unfinished: r
                .newest
                .and_then(|json| serde_json::from_str::<Unfinished>(&json).ok())
                .filter(|u| {
                    u.number > r.current_revision
                        && matches!(
                            u.status,
                            OperationStatus::Interrupted
                                | OperationStatus::Failed
                                | OperationStatus::Cancelled
                        )
                }),
        }
    }
}

impl Store {
    /// One instance, deleted or not.
    pub async fn instance(&self, namespace: &str, name: &str) -> Result<InstanceSummary> {
        sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {} FROM instances WHERE id = $1",
            columns(self.backend)
        ))
        .bind(id(namespace, name))
        .fetch_optional(&self.pool)
        .await?
        .map(InstanceSummary::from)
        .ok_or_else(|| Error::NotFound(format!("instance {}", id(namespace, name))))
    }

    /// All instances, newest first (deleted ones only when asked).
    pub async fn instances(&self, include_deleted: bool) -> Result<Vec<InstanceSummary>> {
        let rows = sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {} FROM instances WHERE ($1 OR deleted_at IS NULL) ORDER BY created_at DESC",
            columns(self.backend)
        ))
        .bind(include_deleted)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(InstanceSummary::from).collect())
    }

    /// Records a new instance, or revives a deleted one of the same name (its history goes on),
    /// inside the caller's transaction. An instance that exists and is not deleted is refused.
    pub(super) async fn create_instance(
        tx: &mut sqlx::AnyConnection,
        namespace: &str,
        name: &str,
        template: &str,
        actor: &str,
    ) -> Result<()> {
        let existing: Option<(Option<String>,)> =
            sqlx::query_as("SELECT deleted_at FROM instances WHERE id = $1")
                .bind(id(namespace, name))
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some((None,)) => Err(Error::Exists(id(namespace, name))),
            Some((Some(_),)) => {
                sqlx::query("UPDATE instances SET deleted_at = NULL, template = $1 WHERE id = $2")
                    .bind(template)
                    .bind(id(namespace, name))
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            }
            None => {
                sqlx::query(
                    "INSERT INTO instances (id, namespace, name, template, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id(namespace, name))
                .bind(namespace)
                .bind(name)
                .bind(template)
                .bind(now())
                .bind(actor)
                .execute(&mut *tx)
                .await?;
                Ok(())
            }
        }
    }
}
