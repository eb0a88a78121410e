//! Berth's user interface: the HTML document shell, the routes and the pages.
//!
//! This crate is compiled twice: with `ssr` into the server (which renders the pages) and with
//! `hydrate` into the browser bundle (which takes over the server-rendered HTML). It never depends
//! on kube, sqlx or tokio; the server reaches it only through [`shell`] and [`App`].

// Leptos views nest deeply in their types.
#![recursion_limit = "512"]

pub mod api;
pub mod codec;
pub mod components;
pub mod error;
pub mod live;
pub mod load;
pub mod model;
pub mod pages;
pub mod route;
#[cfg(feature = "ssr")]
pub mod service;
pub mod theme;

use leptos::prelude::*;

use route::{Location, Route};

/// The icon, as a data URL (the sign-in page, which the server writes, uses it too).
pub const FAVICON: &str = concat!(
    "data:image/svg+xml,",
    "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Cdefs%3E%3ClinearGradient id='g' x1='0' y1='0' x2='1' y2='1'%3E%3Cstop offset='0' stop-color='%234f9cf9'/%3E%3Cstop offset='1' stop-color='%237c5cff'/%3E%3C/linearGradient%3E%3C/defs%3E%3Crect width='32' height='32' rx='8' fill='url(%23g)'/%3E%3Cpath d='M7 20h18l-3 5H10z' fill='%23fff' opacity='.9'/%3E%3Crect x='14' y='7' width='4' height='11' rx='1' fill='%23fff'/%3E%3C/svg%3E"
);

/// The HTML document around [`App`]: head, hydration scripts and the pre-paint theme script. The
/// head is the same on every page, so it is written here, on the server only, rather than managed
/// from the app (which would bring a head manager into the browser bundle).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                <title>"Berth"</title>
                <link rel="stylesheet" id="berth" href="/pkg/berth.css"/>
                // Inline, so a page load makes no request for it.
                <link rel="icon" href=FAVICON type="image/svg+xml"/>
                // Runs before first paint so a stored light/dark choice never flashes the other theme.
                <script>{theme::PRE_PAINT_SCRIPT}</script>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: shared layout plus the page of the current address ([`route`]).
#[component]
pub fn App() -> impl IntoView {
    let location = Location::provide();
    // Effects run only in the browser, after hydration: browser tests wait for this mark.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let page = move || match Route::of(&location.path()) {
        Route::Instances => view! { <pages::instances::InstancesPage/> }.into_any(),
        Route::Templates => view! { <pages::templates::TemplatesPage/> }.into_any(),
        Route::Template { id } => view! { <pages::templates::TemplatePage id/> }.into_any(),
        Route::Instance { namespace, name } => {
            view! { <pages::instance::InstancePage namespace name/> }.into_any()
        }
        Route::History { namespace, name } => {
            view! { <pages::history::HistoryPage namespace name/> }.into_any()
        }
        Route::NotFound => view! { <pages::not_found::NotFound/> }.into_any(),
    };
    view! {
        <components::header::Header/>
        <main class="page">
            <components::cluster_banner::ClusterBanner/>
            {page}
        </main>
    }
}

/// Browser entry point: hydrates the server-rendered body.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
