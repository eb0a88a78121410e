//! Berth's user interface: the HTML document shell, the router and the pages.
//!
//! This crate is compiled twice: with `ssr` into the server (which renders the pages) and with
//! `hydrate` into the browser bundle (which takes over the server-rendered HTML). It never depends
//! on kube, sqlx or tokio; the server reaches it only through [`shell`] and [`App`].

// Leptos views nest deeply in their types.
#![recursion_limit = "512"]

pub mod api;
pub mod components;
pub mod error;
pub mod live;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
pub mod theme;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around [`App`]: head, hydration scripts and the pre-paint theme script.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Runs before first paint so a stored light/dark choice never flashes the other theme.
                <script>{theme::PRE_PAINT_SCRIPT}</script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: shared layout plus the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: browser tests wait for this mark.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="berth" href="/pkg/berth.css"/>
        <Title text="Berth"/>
        <Router>
            <components::header::Header/>
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=StaticSegment("") view=pages::instances::InstancesPage/>
                    <Route path=StaticSegment("templates") view=pages::templates::TemplatesPage/>
                    <Route
                        path=(StaticSegment("instances"), ParamSegment("namespace"), ParamSegment("name"))
                        view=pages::instance::InstancePage
                    />
                    <Route
                        path=(StaticSegment("instances"), ParamSegment("namespace"), ParamSegment("name"), StaticSegment("history"))
                        view=pages::history::HistoryPage
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// Browser entry point: hydrates the server-rendered body.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
