//! The one way an error is shown: the server's message, and what kind of failure it is.

use leptos::prelude::*;

use crate::error::{ErrorCode, ServiceError};

/// An error panel with the server's own message.
#[component]
pub fn ErrorView(error: ServiceError) -> impl IntoView {
    let headline = match error.code {
        ErrorCode::Conflict => "Conflict",
        ErrorCode::Invalid | ErrorCode::BadRequest => "Not accepted",
        ErrorCode::Unauthorized => "Signed out",
        ErrorCode::Forbidden => "Not allowed",
        ErrorCode::NotFound => "Not found",
        ErrorCode::Unavailable => "Cluster unreachable",
        _ => "Something went wrong",
    };
    view! {
        <div class="panel error" role="alert" data-testid="error" data-code=format!("{:?}", error.code)>
            <strong>{headline}": "</strong>{error.message}
        </div>
    }
}
