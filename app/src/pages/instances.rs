//! The instances list: every deployed stack, or an empty state that says how to start.

use leptos::prelude::*;

/// The landing page.
#[component]
pub fn InstancesPage() -> impl IntoView {
    view! {
        <section class="page-head">
            <h1>"Instances"</h1>
            <p class="muted">"Stacks deployed from templates, with their live health."</p>
        </section>
        <section class="empty" data-testid="instances-empty">
            <div class="empty-mark" aria-hidden="true"></div>
            <h2>"No instances yet"</h2>
            <p class="muted">
                "Deploy a template, such as PostHog, and its components will show up here."
            </p>
        </section>
    }
}
