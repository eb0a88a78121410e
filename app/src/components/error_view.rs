//! The one way an error is shown: the server's message, and what kind of failure it is.

use leptos::prelude::*;

use crate::{
    error::{ErrorCode, ServiceError},
    model::{ObjectAction, ObjectResult, TemplateWarning},
};

/// An error panel with the server's own message.
#[component]
pub fn ErrorView(error: ServiceError) -> impl IntoView {
    let headline = match error.code {
        ErrorCode::Conflict => "Conflict",
        ErrorCode::Invalid | ErrorCode::BadRequest => "Not accepted",
        ErrorCode::Unauthorized => "Signed out",
        ErrorCode::Forbidden => "Not allowed",
        ErrorCode::NotFound => "Not found",
        ErrorCode::Unavailable => "Unavailable",
        ErrorCode::Upstream => "Unusable answer",
        _ => "Something went wrong",
    };
    view! {
        <div class="panel error" role="alert" data-testid="error" data-code=format!("{:?}", error.code)>
            <strong>{headline}": "</strong>{error.message}
        </div>
    }
}

/// The objects a dry run refused, with the apiserver's words; nothing when it refused none.
#[component]
pub fn DryRunRefusals(results: Vec<ObjectResult>, #[prop(into)] testid: String) -> impl IntoView {
    let refused: Vec<String> = results
        .iter()
        .filter(|r| r.action == ObjectAction::Failed)
        .map(|r| format!("{}: {}", r.object, r.message.clone().unwrap_or_default()))
        .collect();
    (!refused.is_empty()).then(|| {
        view! {
            <div class="panel error" role="alert" data-testid=testid>
                <strong>"The cluster refused the dry run: "</strong>{refused.join("; ")}
            </div>
        }
    })
}

/// Whether a dry run refused any object.
pub fn refused_any(results: &[ObjectResult]) -> bool {
    results.iter().any(|r| r.action == ObjectAction::Failed)
}

/// Expressions a render let through, each with its line.
#[component]
pub fn RenderWarnings(warnings: Vec<TemplateWarning>) -> impl IntoView {
    warnings
        .into_iter()
        .map(|w| view! { <p class="muted">{format!("line {}: `{}` {}", w.line, w.expr, w.message)}</p> })
        .collect_view()
}
