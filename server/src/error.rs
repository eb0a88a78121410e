//! The status map: the only place that chooses HTTP status codes. Every error leaves the server
//! as JSON `{ "error": <code>, "message": <text>, "details": <any> }` ([`ServiceError`]), with the
//! status its [`ErrorCode`] maps to here, including the rejections of paths, queries, bodies and
//! methods the router itself makes.
//!
//! How a service failure gets its code (an apiserver 403 is `cluster_forbidden`, a 422 is
//! `invalid`, ...) is `service::error`'s business; which status a code is answered with is this
//! module's.

use app::error::{ErrorCode, ServiceError};
use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::service;

/// The HTTP status of each error code.
pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ClusterForbidden => StatusCode::BAD_GATEWAY,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Upstream => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(ServiceError::new(code, message))
    }

    /// 404 for a path no route serves.
    pub fn no_route() -> ApiError {
        ApiError::new(ErrorCode::NotFound, "no such API route")
    }

    /// 405 for a method the path does not take.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this method is not allowed on this path; see /api/v1/openapi.json",
        )
    }

    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        status(self.0.code)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        ApiError(e)
    }
}

impl From<service::Error> for ApiError {
    fn from(e: service::Error) -> ApiError {
        ApiError(e.to_wire())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        let (code, message) = match &e {
            JsonRejection::JsonDataError(e) => (
                ErrorCode::Invalid,
                format!("invalid request body: {}", e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(e) => (
                ErrorCode::BadRequest,
                format!("malformed JSON: {}", e.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => (
                ErrorCode::BadRequest,
                "expected Content-Type: application/json".to_string(),
            ),
            e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => (
                ErrorCode::TooLarge,
                format!(
                    "request body is larger than {} bytes",
                    crate::http::BODY_LIMIT
                ),
            ),
            e => (ErrorCode::BadRequest, e.body_text()),
        };
        ApiError::new(code, message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> ApiError {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("bad path: {}", e.body_text()),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("bad query: {}", e.body_text()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.0)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply::ApplyError, store};

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("the apiserver's words", "Reason")
                .with_code(code)
                .boxed(),
        )
    }

    fn answered(e: service::Error) -> (StatusCode, ServiceError) {
        let a = ApiError::from(e);
        (a.status(), a.0)
    }

    #[test]
    fn apiserver_failures_map_by_their_status() {
        let (s, e) = answered(service::Error::from(api(422)));
        assert_eq!(
            (s, e.message.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "the apiserver's words")
        );
        assert_eq!(
            answered(service::Error::from(api(400))).0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let (s, e) = answered(service::Error::from(api(403)));
        assert_eq!(s, StatusCode::BAD_GATEWAY);
        assert!(e.message.contains("permission") && e.message.contains("the apiserver's words"));
        assert_eq!(
            answered(service::Error::from(api(404))).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            answered(service::Error::from(api(409))).0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            answered(service::Error::from(api(500))).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let transport = kube::Error::Service("connection refused".into());
        assert_eq!(
            answered(service::Error::from(transport)).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn service_failures_map_to_their_codes() {
        use service::Error as E;
        assert_eq!(
            answered(E::Invalid("x".into())).0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(answered(E::NotFound("x".into())).0, StatusCode::NOT_FOUND);
        let (s, e) = answered(E::StaleRevision {
            given: 1,
            current: 2,
        });
        assert_eq!(
            (s, &e.details["currentRevision"]),
            (StatusCode::CONFLICT, &serde_json::json!(2))
        );
        assert_eq!(answered(E::StalePlan).0, StatusCode::CONFLICT);
        assert_eq!(answered(E::Busy("x".into())).0, StatusCode::CONFLICT);
        let missing = ApplyError::MissingKinds {
            kinds: vec!["Cluster (apps.kubeblocks.io/v1alpha1)".into()],
            crds: vec!["clusters.apps.kubeblocks.io".into()],
        };
        let (s, e) = answered(E::from(missing));
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.details["missingCrds"][0], "clusters.apps.kubeblocks.io");
        assert_eq!(
            answered(E::NoCluster("x".into())).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let (s, e) = answered(E::from(store::Error::Corrupt("secret detail".into())));
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !e.message.contains("secret detail"),
            "internal causes stay in the log"
        );
        assert_eq!(
            answered(E::from(store::Error::Exists("ns/x".into()))).0,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn every_code_has_its_status() {
        assert_eq!(status(ErrorCode::BadRequest), StatusCode::BAD_REQUEST);
        assert_eq!(status(ErrorCode::Unauthorized), StatusCode::UNAUTHORIZED);
        assert_eq!(status(ErrorCode::Forbidden), StatusCode::FORBIDDEN);
        assert_eq!(
            status(ErrorCode::MethodNotAllowed),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(status(ErrorCode::TooLarge), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(status(ErrorCode::ClusterForbidden), StatusCode::BAD_GATEWAY);
    }
}
