//! A component's detail, opened from its card: its Kubernetes Events (the kept ones, then each new
//! one as the instance's stream pushes it) and its pods' logs.

use leptos::prelude::*;

use crate::{
    components::{advice::DetailOpen, dialog::Dialog, logs::LogViewer},
    live::LiveInstance,
    load::{Data, Want, load},
    model::KubeEvent,
};

/// The detail dialog of whichever component [`DetailOpen`] names.
#[component]
pub fn ComponentDetail(live: LiveInstance) -> impl IntoView {
    let DetailOpen(which) = expect_context::<DetailOpen>();
    move || {
        which.get().map(|id| {
            let open = RwSignal::new(true);
            Effect::new(move |_| {
                if !open.get() {
                    which.set(None);
                }
            });
            let tab = RwSignal::new("events");
            let title = format!("{id}: events and logs");
            let id = StoredValue::new(id);
            view! {
                <Dialog open title testid="component-detail">
                    <div class="tabs" role="tablist">
                        {[("events", "Events"), ("logs", "Logs")].into_iter().map(|(key, label)| view! {
                            <button type="button" role="tab" class="tab" data-testid=format!("tab-{key}")
                                aria-selected=move || (tab.get() == key).to_string()
                                on:click=move |_| tab.set(key)>{label}</button>
                        }).collect_view()}
                    </div>
                    {move || if tab.get() == "events" {
                        view! { <EventList live component=id.get_value()/> }.into_any()
                    } else {
                        let (ns, name) = live.view.with_untracked(|v| (v.summary.namespace.clone(), v.summary.name.clone()));
                        let component = id.get_value();
                        let key = component.clone();
                        let pods = Signal::derive(move || live.view.read().components.iter()
                            .find(|c| c.component.id == key).map(|c| c.pods.clone()).unwrap_or_default());
                        view! { <LogViewer namespace=ns name component pods/> }.into_any()
                    }}
                </Dialog>
            }
        })
    }
}

/// The component's Events, newest first: those kept when the dialog opened, and those pushed
/// since.
#[component]
fn EventList(live: LiveInstance, component: String) -> impl IntoView {
    let (ns, name) = live
        .view
        .with_untracked(|v| (v.summary.namespace.clone(), v.summary.name.clone()));
    let c = component.clone();
    let loaded = load(move || Want::Events {
        namespace: ns.clone(),
        name: name.clone(),
        component: c.clone(),
    });
    let rows = Memo::new(move |_| {
        let mut all: Vec<KubeEvent> = live
            .events
            .read()
            .iter()
            .filter(|e| e.component == component)
            .cloned()
            .collect();
        if let Some(Ok(list)) = loaded.get().map(|r| r.and_then(Data::events)) {
            for e in list.items {
                if !all
                    .iter()
                    .any(|k| k.object == e.object && k.reason == e.reason)
                {
                    all.push(e);
                }
            }
        }
        all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
        all
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || loaded.get().map(|r| match r.and_then(Data::events) {
                Err(e) => view! { <p class="banner warn">{e.to_string()}</p> }.into_any(),
                Ok(list) => {
                    let kept = list.kept_seconds / 60;
                    view! {
                        <p class="muted">{format!("Kept for {kept} minutes; new ones appear as they happen.")}</p>
                        <Show when=move || !rows.read().is_empty() fallback=|| view! { <p class="muted" data-testid="no-events">"No events."</p> }>
                            <table class="events" data-testid="events">
                                <thead><tr><th>"When"</th><th>"Type"</th><th>"Reason"</th><th>"Object"</th><th>"Message"</th></tr></thead>
                                <tbody>
                                    {move || rows.get().into_iter().map(|e| {
                                        let when = e.last_seen.get(11..19).unwrap_or_default().to_string();
                                        let count = if e.count > 1 { format!(" ×{}", e.count) } else { String::new() };
                                        view! {
                                            <tr data-testid="event" class:warning=e.is_warning()>
                                                <td class="mono">{when}</td>
                                                <td>{e.kind.clone()}</td>
                                                <td>{e.reason.clone()}{count}</td>
                                                <td class="mono">{e.object.clone()}</td>
                                                <td>{e.message.clone()}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </Show>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
