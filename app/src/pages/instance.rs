//! One instance: a card per component with its live health, pods and dependencies.
//! Read-only for now; the data refreshes when the page is reloaded or the button is pressed.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::get_instance,
    components::health_badge::HealthBadge,
    model::{ComponentStatus, InstanceView},
};

/// `/instances/:namespace/:name`
#[component]
pub fn InstancePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("namespace").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let refresh = RwSignal::new(0u32);
    let detail = Resource::new(
        move || (key(), refresh.get()),
        |((ns, name), _)| get_instance(ns, name),
    );
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Instances"</a>
            <span aria-hidden="true">" / "</span>
            <span class="mono">{move || { let (ns, name) = key(); format!("{ns}/{name}") }}</span>
        </nav>
        <Transition fallback=|| view! { <div class="panel loading" aria-busy="true">"Loading instance…"</div> }>
            {move || detail.get().map(|result| match result {
                Ok(Some(d)) => view! { <Detail detail=d refresh/> }.into_any(),
                Ok(None) => view! {
                    <section class="empty" data-testid="instance-missing">
                        <h2>"No such instance"</h2>
                        <p class="muted"><a href="/">"Back to instances"</a></p>
                    </section>
                }.into_any(),
                Err(e) => view! {
                    <div class="panel error" role="alert">
                        <strong>"Could not load the instance. "</strong>{e.to_string()}
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Detail(detail: InstanceView, refresh: RwSignal<u32>) -> impl IntoView {
    let s = detail.summary;
    view! {
        <section class="page-head split">
            <div>
                <h1 class="mono">{s.name.clone()}</h1>
                <p class="muted">
                    {format!("{} · namespace {} · revision {} · created by {}", s.template, s.namespace, s.revision, s.created_by)}
                </p>
            </div>
            <div class="head-actions">
                <HealthBadge health=detail.health.clone()/>
                <button type="button" class="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
        </section>
        <p class="muted reason" data-testid="instance-reason">{detail.health.reason.clone()}</p>
        <ul class="cards" data-testid="component-cards">
            {detail.components.into_iter().map(|c| view! { <ComponentCard c/> }).collect_view()}
        </ul>
    }
}

#[component]
fn ComponentCard(c: ComponentStatus) -> impl IntoView {
    let id = c.component.id.clone();
    let title = id.clone();
    let card = c.component.card.as_str();
    let pods = (c.pods_total > 0).then(|| format!("{}/{} pods ready", c.pods_ready, c.pods_total));
    let restarts = (c.restarts > 0).then(|| format!("{} restarts", c.restarts));
    let deps = c.component.depends_on.join(", ");
    view! {
        <li class="card" data-testid="component-card" data-component=id data-card=card>
            <div class="card-head">
                <span class=format!("card-kind kind-{card}")>{card}</span>
                <HealthBadge health=c.health.clone()/>
            </div>
            <h3 class="card-title mono">{title}</h3>
            <p class="card-reason">{c.health.reason.clone()}</p>
            <p class="card-meta muted">
                {pods}{restarts.map(|r| format!(" · {r}"))}
            </p>
            <p class="card-meta muted">
                {if deps.is_empty() { "depends on nothing".to_string() } else { format!("depends on {deps}") }}
            </p>
            <details class="card-objects">
                <summary>{format!("{} objects", c.object_health.len())}</summary>
                <ul>
                    {c.object_health.into_iter().map(|o| view! {
                        <li><span class="mono">{o.object.to_string()}</span>" — "{o.health.reason}</li>
                    }).collect_view()}
                </ul>
            </details>
        </li>
    }
}
