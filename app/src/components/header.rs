//! The top bar: product name, navigation and the theme switch.

use leptos::prelude::*;

use crate::{
    route::{Location, Route},
    theme::ThemeSwitch,
};

/// The application header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    let location = Location::get();
    // A section's link is marked current on each of its pages: Instances on an instance's page
    // and its history too.
    let current = move |templates: bool| {
        let on_templates = match Route::of(&location.path()) {
            Route::Templates | Route::Template { .. } => true,
            Route::NotFound => return None,
            _ => false,
        };
        (on_templates == templates).then_some("page")
    };
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Berth"</span>
            </a>
            <nav class="topnav" aria-label="Main">
                <a href="/" aria-current=move || current(false)>"Instances"</a>
                <a href="/templates" aria-current=move || current(true)>"Templates"</a>
            </nav>
            <div class="topbar-end">
                <ThemeSwitch/>
            </div>
        </header>
    }
}
