//! How a page calls a server function: [`call`] with the function's arguments, as the struct
//! `#[server]` makes for it (`call(GetInstance { namespace, name })`).
//!
//! On the server that runs the function's body. In the browser it is one `fetch`: the arguments
//! as a JSON `POST` body to the function's `/ui/...` path, and the answer (or, for a 4xx or 5xx
//! status, the [`ServiceError`]) read from the response's text. server_fn's own browser client
//! does the same, but it also brings its streaming bodies, URL-encoded forms and multipart
//! uploads into the browser bundle, none of which Berth uses (`end2end/bench/console.mjs`
//! measures the bundle). Calling the generated `get_instance(..)` functions directly would bring
//! that client back, so the pages call through here.

use leptos::server_fn::ServerFn;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::ServiceError;

/// Runs server function `F` with `args`: its body on the server, an HTTP call in the browser.
pub async fn call<F>(args: F) -> Result<F::Output, ServiceError>
where
    F: ServerFn<Error = ServiceError> + Serialize,
    F::Output: DeserializeOwned,
{
    #[cfg(feature = "ssr")]
    return args.run_body().await;
    #[cfg(not(feature = "ssr"))]
    return browser::post(F::PATH, args).await;
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use serde::{Serialize, de::DeserializeOwned};

    use crate::error::{ErrorCode, ServiceError};

    /// `fetch`es `path` with `args` as JSON and reads its answer.
    pub async fn post<A: Serialize, T: DeserializeOwned>(
        path: &'static str,
        args: A,
    ) -> Result<T, ServiceError> {
        let body = serde_json::to_string(&args)
            .map_err(|e| ServiceError::new(ErrorCode::BadRequest, e.to_string()))?;
        let (status, text) = fetch(path, body).await?;
        if (400..=599).contains(&status) {
            // Every error the server writes is a `ServiceError`; anything else (a proxy's page)
            // is named by its status.
            return Err(serde_json::from_str(&text).unwrap_or_else(|_| {
                ServiceError::new(
                    ErrorCode::Unavailable,
                    format!("the server answered with status {status}"),
                )
            }));
        }
        serde_json::from_str(&text).map_err(|e| {
            ServiceError::new(
                ErrorCode::Internal,
                format!("the server's answer could not be read: {e}"),
            )
        })
    }

    /// The response's status and text, or an `Unavailable` error when none arrived. `Send`, as
    /// resources need, because the browser runs it on its one thread.
    #[cfg(feature = "hydrate")]
    fn fetch(
        path: &'static str,
        body: String,
    ) -> impl Future<Output = Result<(u16, String), ServiceError>> + Send {
        send_wrapper::SendWrapper::new(fetch_here(path, body))
    }

    #[cfg(feature = "hydrate")]
    async fn fetch_here(path: &str, body: String) -> Result<(u16, String), ServiceError> {
        use wasm_bindgen::{JsCast, JsValue};
        use wasm_bindgen_futures::JsFuture;

        let unreachable = |_| {
            ServiceError::new(
                ErrorCode::Unavailable,
                "Berth's server did not answer; check the connection and try again",
            )
        };
        let headers = web_sys::Headers::new().map_err(unreachable)?;
        for (name, value) in [
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ] {
            headers.set(name, value).map_err(unreachable)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
        let promise = leptos::prelude::window().fetch_with_str_and_init(path, &init);
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(unreachable)?
            .unchecked_into();
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?;
        Ok((response.status(), text.as_string().unwrap_or_default()))
    }

    /// Neither server nor browser: the crate's plain build (its unit tests) calls nothing.
    #[cfg(not(feature = "hydrate"))]
    async fn fetch(_path: &str, _body: String) -> Result<(u16, String), ServiceError> {
        Err(ServiceError::new(
            ErrorCode::Unavailable,
            "no server to call in this build",
        ))
    }
}
