//! The `imported_templates` table: templates imported through the API or the console, as their
//! source text, so that they survive a restart. Parsing them is `crate::templates`' business.

use super::{Error, Result, Store, now};

impl Store {
    /// Records an imported template. An id already imported is refused.
    pub async fn add_template(&self, id: &str, source: &str, by: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM imported_templates WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(Error::Exists(format!("template {id}")));
        }
        sqlx::query(
            "INSERT INTO imported_templates (id, source, imported_by, imported_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(source)
        .bind(by)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every imported template's source, by id.
    pub async fn imported_templates(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT id, source FROM imported_templates ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
