//! The `tokens` and `sessions` tables: API tokens (only the hash of their secret) with a name and
//! a role, and browser sessions opened with one. Checking secrets is `crate::auth`'s business.

use super::{Error, Result, Store, now};

/// A token as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    /// Public id (the middle of `berth_<id>_<secret>`).
    pub id: String,
    /// Who it is.
    pub name: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

const COLUMNS: &str = "id, name, role, created_at, revoked_at";

impl Store {
    /// Records a token. A name already in use is refused.
    pub async fn add_token(
        &self,
        id: &str,
        name: &str,
        role: &str,
        secret_hash: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM tokens WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(Error::Exists(format!("token {name}")));
        }
        sqlx::query(
            "INSERT INTO tokens (id, name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(role)
        .bind(secret_hash)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(sqlx::query_as::<_, TokenRecord>(&format!(
            "SELECT {COLUMNS} FROM tokens ORDER BY created_at, name"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many tokens are not revoked.
    pub async fn live_tokens(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A live token by its public id, with the hash of its secret.
    pub async fn token(&self, id: &str) -> Result<Option<(TokenRecord, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            token: TokenRecord,
            secret_hash: String,
        }
        let row = sqlx::query_as::<_, Row>(&format!(
            "SELECT {COLUMNS}, secret_hash FROM tokens WHERE id = $1 AND revoked_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.token, r.secret_hash)))
    }

    /// Revokes the token named `name`, and ends its sessions.
    pub async fn revoke_token(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM tokens WHERE name = $1 AND revoked_at IS NULL")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let id = id.ok_or_else(|| Error::NotFound(format!("token {name}")))?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE token_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session for a token until `expires_at` (RFC 3339).
    pub async fn add_session(&self, id_hash: &str, token_id: &str, expires_at: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(token_id)
        .bind(now())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live token of a session that has not expired.
    pub async fn session(&self, id_hash: &str) -> Result<Option<TokenRecord>> {
        Ok(sqlx::query_as::<_, TokenRecord>(
            "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at FROM sessions s
             JOIN tokens t ON t.id = s.token_id
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
        )
        .bind(id_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a session (signing out), and drops every expired one.
    pub async fn remove_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1 OR expires_at <= $2")
            .bind(id_hash)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
