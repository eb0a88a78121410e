//! The top bar: product name, navigation and the theme switch.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::theme::ThemeSwitch;

/// The application header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Berth"</span>
            </A>
            <nav class="topnav" aria-label="Main">
                <A href="/">"Instances"</A>
                <A href="/templates">"Templates"</A>
            </nav>
            <div class="topbar-end">
                <ThemeSwitch/>
            </div>
        </header>
    }
}
