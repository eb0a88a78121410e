//! The HTTP surface: every route in one table.

pub mod health;

use axum::{Router, routing::get};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Builds the whole router: API routes, then the server-rendered UI, then static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .leptos_routes(&state, routes, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
