//! The HTTP surface: every route in one table.

pub mod api;
pub mod health;
pub mod openapi;
pub mod ui;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest request body the API accepts.
pub const BODY_LIMIT: usize = 1 << 20;

/// The REST API routes, relative to `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    let inst = "/instances/{namespace}/{name}";
    Router::new()
        .route("/openapi.json", get(openapi::openapi))
        .route("/templates", get(api::list_templates))
        .route("/templates/{id}", get(api::get_template))
        .route(
            "/instances",
            get(api::list_instances).post(api::create_instance),
        )
        .route(inst, get(api::get_instance).delete(api::delete_instance))
        .route(
            &format!("{inst}/changes/preview"),
            post(api::preview_change),
        )
        .route(&format!("{inst}/changes"), post(api::apply_change))
        .route(&format!("{inst}/revisions"), get(api::list_revisions))
        .route(
            &format!("{inst}/revisions/{{number}}"),
            get(api::get_revision),
        )
        .route(
            &format!("{inst}/revisions/{{number}}/diff"),
            get(api::diff_revisions),
        )
        .route(
            &format!("{inst}/revisions/{{number}}/rollback"),
            post(api::rollback),
        )
        .route(&format!("{inst}/events"), get(api::events))
        .route("/operations/{id}", get(api::get_operation))
        .fallback(|| async { crate::error::ApiError::not_found("no such API route") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Builds the whole router: API routes, then the server-rendered UI, then static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api/v1", api_routes())
        .route("/ui/{*fn_name}", post(ui::server_fn))
        .leptos_routes_with_context(&state, routes, ui::context(&state), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
