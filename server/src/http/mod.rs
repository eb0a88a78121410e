//! The HTTP surface: every route in one table. API routes are registered through
//! `utoipa_axum`, so a route and its OpenAPI description cannot drift apart: the router and
//! `/api/v1/openapi.json` come from the same list.

pub mod api;
pub mod auth;
pub mod extract;
pub mod health;
pub mod intents;
pub mod observe;
pub mod openapi;
pub mod recovery;
pub mod ui;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
};
use std::sync::OnceLock;

use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, state::AppState};

/// Largest request body the API (and the UI's server functions) accept.
pub const BODY_LIMIT: usize = 1 << 20;

/// The REST API routes, relative to `/api/v1`, with their descriptions.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi::openapi))
        .routes(routes!(api::list_templates, api::import_template))
        .routes(routes!(api::get_template))
        .routes(routes!(api::list_instances, api::create_instance))
        .routes(routes!(api::get_instance, api::delete_instance))
        .routes(routes!(api::preview_change))
        .routes(routes!(intents::read_intent))
        .routes(routes!(intents::intent_help))
        .routes(routes!(api::apply_change))
        .routes(routes!(api::list_revisions))
        .routes(routes!(api::get_revision))
        .routes(routes!(api::diff_revisions))
        .routes(routes!(api::rollback))
        .routes(routes!(api::preview_rollback))
        .routes(routes!(api::object_yaml))
        .routes(routes!(api::manifest_edit))
        .routes(routes!(api::events))
        .routes(routes!(observe::k8s_events))
        .routes(routes!(observe::logs))
        .routes(routes!(api::get_operation, recovery::cancel_operation))
        .routes(routes!(recovery::resume))
}

/// Every documented route: the probes (`/healthz`, `/livez`, `/readyz`) and the API under
/// `/api/v1`, with the document.
pub fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::livez))
        .routes(routes!(health::readyz))
        .nest("/api/v1", api_routes())
        .split_for_parts();
    // Modifiers ran before the routes were added; those that work on paths run again now.
    use utoipa::Modify;
    openapi::ErrorResponses.modify(&mut doc);
    (
        router.method_not_allowed_fallback(|| async { ApiError::method_not_allowed() }),
        doc,
    )
}

/// The UI's routes, generated once per process. Generating them runs the whole app with resource
/// loading suppressed process-wide (leptos issue #4773): a page another router of the same
/// process renders meanwhile would wait forever on its resources. `berth serve` builds one router
/// before serving; the tests build many, side by side, and one page in about forty hung.
fn ui_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Builds the whole router: the documented routes (JSON errors for unknown paths and methods
/// under `/api/v1`), then the server-rendered UI, then static files.
pub fn router(state: AppState) -> Router {
    let (documented, _) = documented();
    let api_errors = Router::new().fallback(|| async { ApiError::no_route() });
    let routes = ui_routes();
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(ui::context(&state), move || {
        app::shell(options.clone())
    });
    Router::new()
        .merge(documented)
        .nest("/api/v1", api_errors)
        .route(
            "/ui/{*fn_name}",
            post(ui::server_fn).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        // Pages only: `leptos_routes_with_context` would also mount every server function at
        // its own path, past `ui::server_fn` and so past its role check.
        .leptos_routes_with_handler(routes, move |req: axum::extract::Request| render(req))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(ui::context(&state), app::shell))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::check_host,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
