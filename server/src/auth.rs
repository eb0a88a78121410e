//! Who is asking, and what they may do. Berth knows callers by API tokens, each with a name and
//! a role; a browser signs in with a token and then carries a session cookie.
//!
//! - A token is `berth_<id>_<secret>`: the id finds it, and only the SHA-256 of the secret is
//!   stored (the secret has 256 random bits, so a fast hash is enough). It is shown once.
//! - Roles: `viewer` reads; `operator` also deploys, changes and rolls back; `admin` also
//!   deletes and manages tokens.
//! - A session is a random cookie value, stored hashed, that lasts [`SESSION_HOURS`] and ends
//!   when signed out or when its token is revoked.
//!
//! The HTTP side (headers, cookies, which route needs which role) is `http::auth`'s.

use app::error::{ErrorCode, ServiceError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{self, Store, TokenRecord};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "berth_session";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// What a caller may do; each role allows everything the ones before it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads.
    Viewer,
    /// Reads, deploys, changes and rolls back.
    Operator,
    /// Everything, deletes and token management included.
    Admin,
}

impl Role {
    /// Parses `viewer`, `operator` or `admin`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: the actor history records.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// Succeeds when the caller's role allows what needs `role`; else a 403 naming both.
    pub fn require(&self, role: Role) -> Result<(), ServiceError> {
        if self.role >= role {
            return Ok(());
        }
        Err(ServiceError::new(
            ErrorCode::Forbidden,
            format!(
                "{} has the role {}; this needs {}",
                self.name,
                self.role.as_str(),
                role.as_str()
            ),
        ))
    }
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The name is not 1 to 64 letters, digits, `.`, `_` or `-`.
    #[error("token name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    /// The store refused (a name already in use is `store::Error::Exists`).
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// A token just made: the only time its secret is known.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The whole token, to hand to its owner.
    pub token: String,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two equal-length strings without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Makes a token for `name` with `role`. Names are 1 to 64 letters, digits, `.`, `_` or `-`.
pub async fn create_token(store: &Store, name: &str, role: Role) -> Result<NewToken, Error> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(Error::BadName(name.to_string()));
    }
    let id = random_hex(8);
    let secret = random_hex(32);
    store
        .add_token(&id, name, role.as_str(), &hash(&secret))
        .await?;
    Ok(NewToken {
        name: name.to_string(),
        role,
        token: format!("berth_{id}_{secret}"),
    })
}

fn caller(t: &TokenRecord) -> Option<Caller> {
    Some(Caller {
        name: t.name.clone(),
        role: Role::parse(&t.role)?,
    })
}

/// The caller a presented token belongs to, or `None` when it is malformed, unknown or revoked.
pub async fn authenticate(store: &Store, presented: &str) -> Result<Option<Caller>, store::Error> {
    let Some((id, secret)) = presented
        .strip_prefix("berth_")
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(None);
    };
    let Some((token, secret_hash)) = store.token(id).await? else {
        return Ok(None);
    };
    Ok(same(&hash(secret), &secret_hash)
        .then(|| caller(&token))
        .flatten())
}

/// Opens a session for a valid token: the cookie value and the caller.
pub async fn open_session(
    store: &Store,
    presented: &str,
) -> Result<Option<(String, Caller)>, store::Error> {
    let Some(caller) = authenticate(store, presented).await? else {
        return Ok(None);
    };
    let id = presented
        .strip_prefix("berth_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    let value = random_hex(32);
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    let expires = expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    store.add_session(&hash(&value), &id, &expires).await?;
    Ok(Some((value, caller)))
}

/// The caller of a live session.
pub async fn session(store: &Store, value: &str) -> Result<Option<Caller>, store::Error> {
    Ok(store.session(&hash(value)).await?.as_ref().and_then(caller))
}

/// Ends a session.
pub async fn close_session(store: &Store, value: &str) -> Result<(), store::Error> {
    store.remove_session(&hash(value)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        Store::in_memory(crate::store::Sealer::new([3; 32]))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_token_authenticates_only_as_itself_and_never_after_revocation() {
        let store = store().await;
        let t = create_token(&store, "ci-bot", Role::Operator)
            .await
            .unwrap();
        assert!(t.token.starts_with("berth_") && t.token.len() == 6 + 16 + 1 + 64);
        let who = authenticate(&store, &t.token).await.unwrap().unwrap();
        assert_eq!(
            who,
            Caller {
                name: "ci-bot".into(),
                role: Role::Operator
            }
        );
        let mut wrong = t.token.clone();
        wrong.pop();
        wrong.push('x');
        assert_eq!(authenticate(&store, &wrong).await.unwrap(), None);
        assert_eq!(authenticate(&store, "berth_nope").await.unwrap(), None);
        assert_eq!(authenticate(&store, "").await.unwrap(), None);
        let stored = format!("{:?}", store.tokens().await.unwrap());
        assert!(!stored.contains(&t.token[23..]), "the secret is not stored");
        store.revoke_token("ci-bot").await.unwrap();
        assert_eq!(authenticate(&store, &t.token).await.unwrap(), None);
    }

    #[tokio::test]
    async fn names_are_unique_and_plain() {
        let store = store().await;
        create_token(&store, "alice", Role::Viewer).await.unwrap();
        assert!(matches!(
            create_token(&store, "alice", Role::Admin).await,
            Err(Error::Store(store::Error::Exists(_)))
        ));
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let err = create_token(&store, bad, Role::Viewer).await.unwrap_err();
            assert!(matches!(err, Error::BadName(_)), "{bad:?}: {err}");
            assert!(err.to_string().contains("use 1 to 64 letters"), "{err}");
        }
    }

    #[tokio::test]
    async fn sessions_follow_their_token_and_end_when_signed_out() {
        let store = store().await;
        let t = create_token(&store, "bob", Role::Admin).await.unwrap();
        let (cookie, who) = open_session(&store, &t.token).await.unwrap().unwrap();
        assert_eq!(who.role, Role::Admin);
        assert_eq!(session(&store, &cookie).await.unwrap(), Some(who));
        assert_eq!(session(&store, "forged").await.unwrap(), None);
        close_session(&store, &cookie).await.unwrap();
        assert_eq!(session(&store, &cookie).await.unwrap(), None);
        let (again, _) = open_session(&store, &t.token).await.unwrap().unwrap();
        store.revoke_token("bob").await.unwrap();
        assert_eq!(
            session(&store, &again).await.unwrap(),
            None,
            "revoked with its token"
        );
        assert_eq!(open_session(&store, &t.token).await.unwrap(), None);
    }

    #[test]
    fn roles_allow_what_the_roles_below_them_allow() {
        let viewer = Caller {
            name: "v".into(),
            role: Role::Viewer,
        };
        let admin = Caller {
            name: "a".into(),
            role: Role::Admin,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        let e = viewer.require(Role::Operator).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.message.contains("needs operator"), "{e}");
        assert!(admin.require(Role::Operator).is_ok() && admin.require(Role::Admin).is_ok());
        assert_eq!(Role::parse("root"), None);
    }
}
