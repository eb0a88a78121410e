//! How a failed apiserver call is told apart: by the HTTP status the apiserver answered, never by
//! the words of its message.

/// What kind of failure a [`kube::Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 400 or 422: the apiserver refused the content (schema, validation, admission).
    Invalid,
    /// 403: Berth's identity lacks a permission.
    Forbidden,
    /// 404: no such object (or kind).
    NotFound,
    /// 409: a conflict (another field manager owns a field, or the object changed meanwhile).
    Conflict,
    /// Any other status the apiserver answered with.
    Other(u16),
    /// No answer: the apiserver could not be reached, or the connection broke.
    Transport,
}

/// The apiserver's HTTP status, when it answered.
pub fn status(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Classifies an error by the apiserver's status.
pub fn classify(e: &kube::Error) -> Failure {
    match status(e) {
        Some(400 | 422) => Failure::Invalid,
        Some(403) => Failure::Forbidden,
        Some(404) => Failure::NotFound,
        Some(409) => Failure::Conflict,
        Some(code) => Failure::Other(code),
        None => Failure::Transport,
    }
}

/// The apiserver's own message when it answered, else the client's description.
pub fn message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "Reason")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn failures_are_told_apart_by_status_not_by_words() {
        assert_eq!(classify(&api(422, "x")), Failure::Invalid);
        assert_eq!(classify(&api(400, "x")), Failure::Invalid);
        assert_eq!(classify(&api(403, "x")), Failure::Forbidden);
        assert_eq!(classify(&api(404, "x")), Failure::NotFound);
        assert_eq!(
            classify(&api(500, "Apply failed with 1 conflict")),
            Failure::Other(500),
            "a message that mentions a conflict is not one"
        );
        assert_eq!(classify(&api(409, "x")), Failure::Conflict);
        assert_eq!(
            message(&api(422, "spec.replicas: Invalid value")),
            "spec.replicas: Invalid value"
        );
    }
}
