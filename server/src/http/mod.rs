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

use tower_http::{
    CompressionLevel,
    compression::{CompressionLayer, DefaultPredicate},
    trace::TraceLayer,
};
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

/// Builds the whole router: the documented routes (JSON errors for unknown paths and methods
/// under `/api/v1`), then the server-rendered UI, then static files. See [`compression`].
pub fn router(state: AppState) -> Router {
    let (documented, _) = documented();
    let api_errors = Router::new().fallback(|| async { ApiError::no_route() });
    // Rendering a page spawns its resources' loads on Leptos's executor: tokio's, set once per
    // process (a second call finds it set, which is fine).
    let _ = any_spawner::Executor::init_tokio();
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(ui::context(&state), move || {
        app::shell(options.clone())
    });
    // The console's pages (`app::route`), each rendered here and then taken over by the
    // browser; any other path gets the not-found page, with a 404.
    let pages = app::route::PAGES
        .into_iter()
        .fold(Router::new(), |pages, path| {
            let render = render.clone();
            pages.route(path, get(move |req: axum::extract::Request| render(req)))
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
        .merge(pages)
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
        .layer(compression())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// gzip for a client that asks for it: pages, API answers and the site's files. A release build
/// made with `cargo leptos build --release --precompress` ships its wasm, JS and CSS already
/// compressed (gzip at its best level, and brotli); those are served as they are, and this layer
/// leaves an answer that has an encoding alone. What is compressed here is compressed at the
/// fastest level, because it is compressed again for every request. A streamed page is
/// compressed part by part as it streams, so nothing waits for its end. Event streams are left
/// alone (tower-http's default): each event is a few hundred bytes, sent as it happens.
fn compression() -> CompressionLayer<DefaultPredicate> {
    CompressionLayer::new()
        .gzip(true)
        .quality(CompressionLevel::Fastest)
}

#[cfg(test)]
mod tests {
    use std::{convert::Infallible, io::Read, time::Duration};

    use axum::{
        body::Body,
        http::{Request, header},
        response::sse::{Event, Sse},
    };
    use futures::StreamExt;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// A JSON answer, an event stream that sends one event and then waits, and a file that is
    /// already gzip-compressed, behind [`compression`].
    fn app() -> Router {
        let json = "[".to_string() + &"{\"name\":\"posthog\"},".repeat(100) + "{}]";
        Router::new()
            .route(
                "/json",
                get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
            )
            .route(
                "/events",
                get(|| async {
                    let first = futures::stream::once(async {
                        Ok::<_, Infallible>(Event::default().event("health").data("x".repeat(64)))
                    });
                    Sse::new(first.chain(futures::stream::pending()))
                }),
            )
            .route(
                "/berth.wasm",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "application/wasm"),
                            (header::CONTENT_ENCODING, "gzip"),
                        ],
                        vec![
                            0x1f_u8, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        ],
                    )
                }),
            )
            .layer(compression())
    }

    fn gzip_request(path: &str) -> Request<Body> {
        Request::get(path)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap()
    }

    /// The first frame of the answer's body, which must arrive within 5 s (`why` says why).
    async fn first_frame(res: axum::response::Response, why: &str) -> axum::body::Bytes {
        let mut body = res.into_body();
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect(why)
            .expect("a frame")
            .expect("a frame, not an error");
        frame.into_data().expect("data, not trailers")
    }

    #[tokio::test]
    async fn answers_are_gzipped_for_a_client_that_asks_and_plain_for_one_that_does_not() {
        let plain = app()
            .oneshot(Request::get("/json").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let plain = plain.into_body().collect().await.unwrap().to_bytes();

        let res = app().oneshot(gzip_request("/json")).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let zipped = res.into_body().collect().await.unwrap().to_bytes();
        assert!(
            zipped.len() < plain.len() / 4,
            "{} of {}",
            zipped.len(),
            plain.len()
        );
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, plain);
    }

    #[tokio::test]
    async fn an_event_stream_is_never_compressed_and_its_events_are_not_held_back() {
        let res = app().oneshot(gzip_request("/events")).await.unwrap();
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let data = first_frame(
            res,
            "the first event arrives while the stream is still open",
        )
        .await;
        assert!(String::from_utf8_lossy(&data).starts_with("event: health"));
    }

    #[tokio::test]
    async fn a_streamed_page_is_compressed_as_it_streams_not_held_until_its_end() {
        let first = "<main>".repeat(200);
        let expected = first.clone();
        let app = Router::new()
            .route(
                "/page",
                get(move || async move {
                    let rest = futures::stream::once(async {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Ok::<_, Infallible>("</main>".to_string())
                    });
                    let stream = futures::stream::once(async move { Ok(first) }).chain(rest);
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        Body::from_stream(stream),
                    )
                }),
            )
            .layer(compression());
        let res = app.oneshot(gzip_request("/page")).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let data = first_frame(
            res,
            "the first part arrives while the page is still being rendered",
        )
        .await;
        let mut unzipped = flate2::write::GzDecoder::new(Vec::new());
        std::io::Write::write_all(&mut unzipped, &data).unwrap();
        std::io::Write::flush(&mut unzipped).unwrap();
        assert_eq!(String::from_utf8_lossy(unzipped.get_ref()), expected);
    }

    #[tokio::test]
    async fn a_file_that_is_already_compressed_is_sent_as_it_is() {
        let res = app().oneshot(gzip_request("/berth.wasm")).await.unwrap();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 20);
    }
}
