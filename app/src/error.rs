//! The one error type both doors report: the REST API (as JSON with a status code the server
//! picks from [`ErrorCode`]) and the UI's server functions (as the same value, deserialised).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of failure it is; the REST API answers with the status the server maps it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be understood (malformed JSON, a bad path or query).
    BadRequest,
    /// The request was understood but its content is invalid (a bad input, an unknown component,
    /// a template that does not render, an object the apiserver refuses).
    Invalid,
    /// No credentials, or ones Berth does not know (an unknown, revoked or expired token).
    Unauthorized,
    /// The credentials are good but their role does not allow this.
    Forbidden,
    /// The named thing does not exist.
    NotFound,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// It conflicts with the current state (a stale revision or plan, a running operation, an
    /// object another manager owns).
    Conflict,
    /// The request body is over the limit.
    TooLarge,
    /// The cluster refused Berth a permission it needs.
    ClusterForbidden,
    /// The cluster (or another dependency) cannot be reached.
    Unavailable,
    /// A dependency answered something Berth cannot use (the change box's language model
    /// proposed a change outside the rules).
    Upstream,
    /// Something went wrong inside Berth; the cause is in the server's log.
    Internal,
}

/// An error as callers see it: a stable code, one line for a person, and structured details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceError {
    /// The stable, machine-readable code.
    #[serde(rename = "error")]
    pub code: ErrorCode,
    /// One line for a person.
    pub message: String,
    /// Structured extra information (the template line, the current revision, missing CRDs),
    /// or `null`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Value,
}

impl ServiceError {
    /// An error with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Attaches structured details.
    pub fn with_details(mut self, details: Value) -> ServiceError {
        self.details = details;
        self
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServiceError {}

/// Lets server functions return [`ServiceError`] itself; a transport failure (the request never
/// reached Berth, or its answer was unreadable) becomes `unavailable` or `internal`.
impl leptos::server_fn::error::FromServerFnError for ServiceError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        let code = match &value {
            E::Request(_) => ErrorCode::Unavailable,
            E::Args(_) | E::MissingArg(_) => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        ServiceError::new(code, value.to_string())
    }
}
