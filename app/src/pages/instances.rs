//! The instances list: every deployed stack, or an empty state that says how to start.

use leptos::prelude::*;

use crate::{
    load::{Data, Want, load},
    model::InstanceSummary,
};

/// The landing page.
#[component]
pub fn InstancesPage() -> impl IntoView {
    let instances = load(|| Want::Instances);
    view! {
        <section class="page-head">
            <h1>"Instances"</h1>
            <p class="muted">"Stacks deployed from templates."</p>
        </section>
        <Transition fallback=|| view! { <div class="panel loading" aria-busy="true">"Loading instances…"</div> }>
            {move || instances.get().map(|result| match result.and_then(Data::instances) {
                Ok(list) if list.is_empty() => view! { <EmptyState/> }.into_any(),
                Ok(list) => view! { <InstanceTable list/> }.into_any(),
                Err(e) => view! {
                    <div class="panel error" role="alert" data-testid="instances-error">
                        <strong>"Could not load instances. "</strong>{e.to_string()}
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <section class="empty" data-testid="instances-empty">
            <div class="empty-mark" aria-hidden="true"></div>
            <h2>"No instances yet"</h2>
            <p class="muted">
                "Pick a template in the "<a href="/templates">"catalog"</a>" (PostHog is there) and deploy it; "
                "its instance will be listed here."
            </p>
            <p><a class="button primary" href="/templates" data-testid="go-to-templates">"Browse templates"</a></p>
        </section>
    }
}

#[component]
fn InstanceTable(list: Vec<InstanceSummary>) -> impl IntoView {
    view! {
        <table class="table" data-testid="instances-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Template"</th>
                    <th scope="col" class="num">"Revision"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"By"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|i| view! {
                    <tr data-testid="instance-row">
                        <td class="mono"><a href=format!("/instances/{}/{}", i.namespace, i.name)>{i.name.clone()}</a></td>
                        <td class="mono">{i.namespace}</td>
                        <td>{i.template}</td>
                        <td class="num">{i.revision}</td>
                        <td class="muted">{i.created_at.get(..16).unwrap_or_default().replace('T', " ")}</td>
                        <td class="muted">{i.created_by}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
