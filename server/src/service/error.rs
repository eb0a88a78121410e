//! What can go wrong in the service, with causes kept, and the [`ErrorCode`] each is reported
//! with. The HTTP status for a code is chosen in one place only: `crate::error`.

use app::{
    error::{ErrorCode, ServiceError},
    model::{ObjectRef, ObjectResult},
};
use serde_json::json;

use crate::{
    apply::ApplyError,
    kube::failure::{self, Failure},
    plan::{ChangeError, PlanError},
    store,
    template::TemplateError,
};

/// A failure of a service operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template does not render with these inputs.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// An edit of a change set is invalid.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// Other invalid request content.
    #[error("{0}")]
    Invalid(String),
    /// No such template, instance, revision or operation.
    #[error("{0}")]
    NotFound(String),
    /// The change was made against an older revision.
    #[error("revision {given} is not the current revision ({current}); reload and try again")]
    StaleRevision {
        /// The revision the request named.
        given: i64,
        /// The current one.
        current: i64,
    },
    /// The plan differs from the one previewed.
    #[error("the plan changed since it was previewed; preview again")]
    StalePlan,
    /// Another operation on this instance is running.
    #[error("an operation is already running on {0}")]
    Busy(String),
    /// The operation is not running (it finished, or never was).
    #[error("{0}")]
    NotRunning(String),
    /// Berth is shutting down and takes no new operations.
    #[error("Berth is shutting down and takes no new operations; try again once it is back")]
    ShuttingDown,
    /// The instance already exists.
    #[error("instance {0} already exists")]
    Exists(String),
    /// The cluster does not serve some kinds (their CRDs are missing).
    #[error(transparent)]
    Preflight(ApplyError),
    /// The apiserver's dry run refused objects of a create; nothing was recorded or applied.
    #[error("the cluster refused {} object(s) in a dry run; nothing was applied: {}", .0.len(), first_reason(.0))]
    DryRunRefused(Vec<(ObjectResult, Failure)>),
    /// Objects the operation would write exist and belong to someone else; nothing was applied.
    #[error("{}; nothing was applied (objects Berth did not create can be adopted with \"adopt\": true)", .0.iter().map(|(o, why)| format!("{o}: {why}")).collect::<Vec<_>>().join("; "))]
    NotOwned(Vec<(ObjectRef, String)>),
    /// No cluster is configured.
    #[error("no cluster: {0}")]
    NoCluster(String),
    /// A request to the apiserver failed. `message` is what callers may see (redacted).
    #[error("{message}")]
    Kube {
        /// The apiserver's message, redacted.
        message: String,
        /// The failure itself.
        #[source]
        source: kube::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(store::Error),
    /// The change box's language model gave no usable answer.
    #[error(transparent)]
    Llm(#[from] crate::llm::Error),
}

fn first_reason(results: &[(ObjectResult, Failure)]) -> String {
    results
        .first()
        .map(|(r, _)| {
            format!(
                "{}: {}",
                r.object,
                r.message.as_deref().unwrap_or("refused")
            )
        })
        .unwrap_or_default()
}

/// Result alias for the service.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NotFound(m) => Error::NotFound(m),
            store::Error::Exists(m) => Error::Exists(m),
            other => Error::Store(other),
        }
    }
}

impl From<ApplyError> for Error {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Kube(source) => Error::Kube {
                message: failure::message(&source),
                source,
            },
            missing => Error::Preflight(missing),
        }
    }
}

impl From<kube::Error> for Error {
    fn from(source: kube::Error) -> Self {
        Error::Kube {
            message: failure::message(&source),
            source,
        }
    }
}

impl From<PlanError<Error>> for Error {
    fn from(e: PlanError<Error>) -> Self {
        match e {
            PlanError::Empty => Error::Invalid(e.to_string()),
            PlanError::Edit(c) => Error::Change(c),
            PlanError::Render(inner) => inner,
        }
    }
}

impl Error {
    /// How callers see it: a stable code, a safe message and details. Internal causes are
    /// logged here and not returned.
    pub fn to_wire(&self) -> ServiceError {
        use ErrorCode as C;
        let plain = |code| ServiceError::new(code, self.to_string());
        match self {
            Error::Template(t) => plain(C::Invalid).with_details(json!({"line": t.line()})),
            Error::Change(_) | Error::Invalid(_) => plain(C::Invalid),
            Error::NotFound(_) => plain(C::NotFound),
            Error::StaleRevision { current, .. } => {
                plain(C::Conflict).with_details(json!({"currentRevision": current}))
            }
            Error::StalePlan | Error::Busy(_) | Error::Exists(_) | Error::NotRunning(_) => {
                plain(C::Conflict)
            }
            Error::NotOwned(objects) => {
                let listed: Vec<_> = objects
                    .iter()
                    .map(|(o, why)| json!({"object": o, "owner": why}))
                    .collect();
                plain(C::Conflict).with_details(json!({"notOwned": listed}))
            }
            Error::Preflight(ApplyError::MissingKinds { kinds, crds }) => {
                plain(C::Invalid).with_details(json!({"missingKinds": kinds, "missingCrds": crds}))
            }
            Error::ShuttingDown => plain(C::Unavailable),
            Error::Preflight(ApplyError::Kube(_)) | Error::NoCluster(_) => ServiceError::new(
                C::Unavailable,
                format!("the cluster is unreachable: {self}"),
            ),
            Error::DryRunRefused(results) => {
                let failures: Vec<Failure> = results.iter().map(|(_, f)| *f).collect();
                let code = if failures.contains(&Failure::Forbidden) {
                    C::ClusterForbidden
                } else if failures.iter().all(|f| *f == Failure::Conflict) {
                    C::Conflict
                } else {
                    C::Invalid
                };
                let refused: Vec<&ObjectResult> = results.iter().map(|(r, _)| r).collect();
                plain(code).with_details(json!({"refused": refused}))
            }
            Error::Kube { source, message } => match failure::classify(source) {
                Failure::Invalid => ServiceError::new(C::Invalid, message.clone()),
                Failure::Forbidden => ServiceError::new(
                    C::ClusterForbidden,
                    format!("the cluster refused Berth a permission it needs: {message}"),
                ),
                Failure::NotFound => ServiceError::new(C::NotFound, message.clone()),
                Failure::Conflict => ServiceError::new(C::Conflict, message.clone()),
                Failure::Transport | Failure::Other(_) => ServiceError::new(
                    C::Unavailable,
                    format!("the cluster is unreachable: {message}"),
                ),
            },
            Error::Llm(crate::llm::Error::BadAnswer(_)) => plain(C::Upstream),
            Error::Llm(e) => {
                tracing::warn!(error = %e, "language model");
                plain(C::Unavailable)
            }
            Error::Store(e) if e.is_unwritable() => {
                tracing::error!(error = %e, "the database cannot take writes");
                ServiceError::new(
                    C::Unavailable,
                    "Berth's database cannot take writes now (the disk is full or read-only); nothing was changed",
                )
            }
            Error::Store(e) => {
                tracing::error!(error = %e, "store failure");
                ServiceError::new(C::Internal, "internal error; see the server log")
            }
        }
    }
}

impl From<Error> for ServiceError {
    fn from(e: Error) -> ServiceError {
        e.to_wire()
    }
}
