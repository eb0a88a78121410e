//! Authentication at the HTTP edge. A request is made by a [`Caller`]: one that sends
//! `Authorization: Bearer <token>`, or a browser with a session cookie. A cookie alone never
//! authorises a state change from another site: such requests must come from Berth's own origin
//! (`Sec-Fetch-Site`, else `Origin` against `Host`).
//!
//! - `GET /login` shows a sign-in form; `GET /login?token=…` (the one-time URL Berth prints on
//!   its first start) and `POST /login` open a session and go to the console;
//! - `POST /logout` ends it;
//! - [`require_session`] sends page requests without a session to `/login`.

use app::error::ErrorCode;
use axum::{
    Form,
    extract::{FromRequestParts, Query, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    auth::{self, Caller, SESSION_COOKIE, SESSION_HOURS},
    error::ApiError,
    state::AppState,
};

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

fn store_failure(e: crate::store::Error) -> ApiError {
    ApiError::from(crate::service::Error::from(e))
}

/// The value of a cookie, if the request carries it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether a request comes from Berth's own pages: the browser says so (`Sec-Fetch-Site`), or
/// its `Origin` names the host it was sent to. Clients that send neither are not browsers.
fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => {
            let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or(origin);
            authority.eq_ignore_ascii_case(host)
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let store = state.service.store();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let presented = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default()
                .trim();
            return auth::authenticate(store, presented)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| unauthorized("the token is unknown or revoked"));
        }
        if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
            let caller = auth::session(store, &value)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| unauthorized("the session has ended; sign in again"))?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe && !same_origin(&parts.headers) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "cross-site request refused: a session only works from Berth's own pages",
                ));
            }
            return Ok(caller);
        }
        Err(unauthorized(
            "sign in: send `Authorization: Bearer <token>`, or open Berth's login URL",
        ))
    }
}

/// `?token=…` of the one-time login URL, `?next=` where to go afterwards.
#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// Only paths on this site: no scheme, no `//host`.
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn form(error: Option<&str>, next: &str) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="login-error" role="alert">{e}</p>"#))
        .unwrap_or_default();
    let next = next.replace(['"', '<', '>', '&'], "");
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="dark light"><title>Sign in · Berth</title><link rel="icon" href="{favicon}" type="image/svg+xml">
<style>body{{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0}}form{{display:grid;gap:.75rem;width:min(28rem,90vw)}}input,button{{font:inherit;padding:.6rem .8rem;border-radius:.4rem;border:1px solid #8888}}button{{cursor:pointer}}.login-error{{color:#d33}}</style></head>
<body><form method="post" action="/login"><h1>Sign in to Berth</h1>{error}<label for="token">API token</label><input id="token" name="token" type="password" autocomplete="off" required autofocus placeholder="berth_…"><input type="hidden" name="next" value="{next}"><button type="submit">Sign in</button><p>Make a token with <code>berth token create --role viewer --name you</code>.</p></form></body></html>"#,
        favicon = app::FAVICON,
    ))
    .into_response()
}

async fn sign_in(state: &AppState, headers: &HeaderMap, token: &str, next: &str) -> Response {
    match auth::open_session(state.service.store(), token.trim()).await {
        Ok(Some((value, caller))) => {
            tracing::info!(who = %caller.name, "signed in");
            let secure = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https"));
            let cookie = format!(
                "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                SESSION_HOURS * 3600,
                if secure { "; Secure" } else { "" }
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
        }
        Ok(None) => form(Some("That token is unknown or revoked."), next),
        Err(e) => store_failure(e).into_response(),
    }
}

/// `GET /login`: the form, or (with `?token=`) sign in at once.
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = local(q.next.as_deref());
    match q.token {
        Some(token) => sign_in(&state, &headers, &token, &next).await,
        None => form(None, &next),
    }
}

/// `POST /login`: sign in with the form's token.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return form(Some("Sign in from Berth's own page."), "/");
    }
    sign_in(&state, &headers, &f.token, &local(f.next.as_deref())).await
}

/// `POST /logout`: end the session.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, SESSION_COOKIE)
        && same_origin(&headers)
    {
        let _ = auth::close_session(state.service.store(), &value).await;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

/// The health probes: open to anyone, whatever the `Host`.
pub const PROBES: [&str; 3] = ["/healthz", "/livez", "/readyz"];

/// Refuses requests whose `Host` is not one Berth serves (against DNS rebinding: a page on
/// another site whose name now points at Berth's address). Requests without a `Host` are not
/// from browsers; the probes ([`PROBES`]) answer kubelets and others that name Berth by address.
pub async fn check_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if let Some(host) = host
        && !PROBES.contains(&req.uri().path())
    {
        let name = crate::config::host_part(host);
        if !state.hosts.contains(&name) {
            return ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "requests for host {name} are refused; start Berth with --allowed-host {name} to serve it"
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Sends page requests without a live session to `/login`. The API, the UI's server functions
/// and static files are left to their own checks (or need none).
pub async fn require_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let open = ["/api/", "/ui/", "/pkg/", "/login", "/logout"]
        .iter()
        .any(|p| path.starts_with(p))
        || PROBES.contains(&path)
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    if open || req.method() != Method::GET {
        return next.run(req).await;
    }
    let signed_in = match cookie(req.headers(), SESSION_COOKIE) {
        Some(value) => matches!(
            auth::session(state.service.store(), &value).await,
            Ok(Some(_))
        ),
        None => false,
    };
    if signed_in {
        return next.run(req).await;
    }
    let wanted = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let to = format!("/login?next={}", urlencode(wanted));
    Redirect::to(&to).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
