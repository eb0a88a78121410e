//! One instance, live: its health, URL and revision, the progress of an operation, and a card per
//! component laid out by role. Card edits collect into one pending change set ("3 changes ·
//! Review"), which is previewed (diff, dry run, drift) and applied with its plan hash. Every
//! update arrives on the instance's event stream; nothing is polled.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{ApplyChange, CancelOperation, DeleteInstance, PreviewChange, call},
    components::{
        advice::DetailOpen,
        card::ComponentCard,
        change_box::ChangeBox,
        detail::ComponentDetail,
        dialog::Dialog,
        edges::Edges,
        error_view::ErrorView,
        health_badge::HealthBadge,
        review::{Loaded, Review, previewed_base},
        unfinished::UnfinishedBanner,
    },
    error::ServiceError,
    live::LiveInstance,
    load::{Data, Want, load},
    model::{
        CardKind, ChangeRequest, Edit, InstanceView, ObjectAction, OperationInfo, OperationStatus,
    },
    route::Location,
};

/// `/instances/:namespace/:name`
#[component]
pub fn InstancePage(namespace: String, name: String) -> impl IntoView {
    let title = format!("{namespace}/{name}");
    let want = Want::Instance { namespace, name };
    let detail = load(move || want.clone());
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Instances"</a>
            <span aria-hidden="true">" / "</span>
            <span class="mono">{title}</span>
        </nav>
        <Suspense fallback=|| view! { <div class="panel loading page-skeleton" aria-busy="true">"Loading instance…"</div> }>
            {move || detail.get().map(|result| match result.and_then(Data::instance) {
                Ok(Some(d)) => view! { <Detail initial=d/> }.into_any(),
                Ok(None) => view! {
                    <section class="empty" data-testid="instance-missing">
                        <h2>"No such instance"</h2>
                        <p class="muted"><a href="/">"Back to instances"</a>" or "<a href="/templates">"deploy a template"</a>"."</p>
                    </section>
                }.into_any(),
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
            })}
        </Suspense>
    }
}

const ROLES: [(CardKind, &str); 5] = [
    (CardKind::Network, "Entry"),
    (CardKind::App, "Apps"),
    (CardKind::Database, "Data"),
    (CardKind::Queue, "Queues"),
    (CardKind::Storage, "Storage"),
];

#[component]
fn Detail(initial: InstanceView) -> impl IntoView {
    let live = LiveInstance::follow(initial);
    show_launched(live);
    provide_context(DetailOpen(RwSignal::new(None)));
    let canvas = NodeRef::<leptos::html::Div>::new();
    let pending = RwSignal::new(Vec::<Edit>::new());
    let summary = move || live.view.read().summary.clone();
    let url = move || {
        live.view
            .read()
            .components
            .iter()
            .flat_map(|c| c.spec.urls.clone())
            .next()
    };
    let ids_of = move |kind: CardKind| {
        live.view
            .read()
            .components
            .iter()
            .filter(|c| c.component.card == kind)
            .map(|c| c.component.id.clone())
            .collect::<Vec<_>>()
    };
    let history = move || {
        let s = summary();
        format!("/instances/{}/{}/history", s.namespace, s.name)
    };
    // Namespace and name are DNS labels: nothing in them needs escaping in a URL.
    let sign_in = move || {
        let s = summary();
        format!("/login?next=/instances/{}/{}", s.namespace, s.name)
    };
    view! {
        <section class="page-head split">
            <div>
                <h1 class="mono" data-testid="instance-name">{move || summary().name}</h1>
                <p class="muted" data-testid="instance-facts">
                    {move || {
                        let s = summary();
                        let when = |t: &str| t.get(..16).unwrap_or_default().replace('T', " ");
                        let last = match (&s.changed_by, &s.changed_at) {
                            (Some(by), Some(at)) => format!(" · last changed by {by} on {}", when(at)),
                            _ => String::new(),
                        };
                        format!("{} · namespace {} · revision {}{last}", s.template, s.namespace, s.revision)
                    }}
                </p>
                {move || url().map(|u| { let href = u.clone(); view! { <p><a href=href rel="noreferrer" target="_blank" data-testid="instance-url">{u}</a></p> } })}
            </div>
            <div class="head-actions">
                {move || view! { <HealthBadge health=live.view.read().health.clone()/> }}
                <a class="button" href=history data-testid="history-link">"History"</a>
                <DeleteButton live/>
            </div>
        </section>
        <Show when=move || !live.connected.get()>
            <div class="banner warn" role="status" data-testid="disconnected">{move || if live.refused.get() {
                view! { "Live updates stopped: Berth refused the stream. "
                    <a href=sign_in rel="external" data-testid="sign-in-again">"Sign in again"</a>" or reload the page." }.into_any()
            } else {
                "Live updates lost; reconnecting…".into_any()
            }}</div>
        </Show>
        <p class="muted reason" data-testid="instance-reason">{move || live.view.read().health.reason.clone()}</p>
        <ChangeBox live/>
        <UnfinishedBanner live/>
        <OperationPanel live/>
        <DomainEditor live pending/>
        <div class="canvas" data-testid="component-cards" node_ref=canvas>
            <Edges live canvas/>
            {ROLES.iter().map(|(kind, label)| {
                let kind = *kind;
                view! {
                    <Show when=move || !ids_of(kind).is_empty()>
                        <section class="lane" data-lane=kind.as_str()>
                            <h2 class="lane-title">{*label}</h2>
                            <ul class="cards">
                                <For each=move || ids_of(kind) key=|id| id.clone() let:id>
                                    <ComponentCard id live pending may_change=true/>
                                </For>
                            </ul>
                        </section>
                    </Show>
                }
            }).collect_view()}
        </div>
        <PendingBar live pending/>
        <ComponentDetail live/>
    }
}

/// The deploy dialog opens this page with `?op=<revision>`. When that operation had already
/// ended as the page loaded (a fast apply), there is nothing running to follow: the page reads
/// how it ended from the history instead, so the operation panel still says.
fn show_launched(live: LiveInstance) {
    let launched = Location::get()
        .query("op")
        .and_then(|n| n.parse::<i64>().ok());
    let Some(revision) = launched else { return };
    if live.operation.read_untracked().is_some() {
        return;
    }
    // In the browser only; it reads no signal, so it runs once.
    Effect::new(move |_| spawn_local(live.read_end(revision)));
}

/// The progress of the operation this page saw start (or is running): a bar over the objects
/// applied, and the list with each one's result.
#[component]
fn OperationPanel(live: LiveInstance) -> impl IntoView {
    let total = move || {
        live.view
            .read()
            .components
            .iter()
            .map(|c| c.component.objects.len())
            .sum::<usize>()
            .max(1)
    };
    view! {
        {move || live.operation.get().map(|op| {
            let done = op.results.len();
            let percent = if op.finished.is_some() { 100 } else { (done * 100 / total()).min(99) };
            // What failed, not what was left alone because of it (or because of a cancel).
            let failed: Vec<_> = op.results.iter()
                .filter(|r| r.action == ObjectAction::Failed && !r.message.as_deref().unwrap_or_default().starts_with("not applied:"))
                .cloned().collect();
            let state = match &op.finished {
                None => "running".to_string(),
                Some((OperationStatus::Succeeded, _)) => "succeeded".to_string(),
                Some((s, _)) => s.as_str().to_string(),
            };
            view! {
                <section class="panel operation" data-testid="operation" data-state=state.clone()>
                    <div class="split">
                        <p><strong>{format!("Revision {}: ", op.revision)}</strong>
                            {match &op.finished { None => format!("applying… {done} objects so far"), Some((_, m)) => m.clone() }}</p>
                        {op.finished.is_none().then(|| view! { <CancelButton live revision=op.revision/> })}
                    </div>
                    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent data-testid="progress">
                        <div class="progress-fill" style=format!("width: {percent}%")></div>
                    </div>
                    {failed.iter().map(|r| view! {
                        <p class="field-error" role="alert">{format!("{}: {}", r.object, r.message.clone().unwrap_or_default())}</p>
                    }).collect_view()}
                    <details>
                        <summary>{format!("{done} objects")}</summary>
                        <ul class="plain mono">
                            {op.results.iter().map(|r| view! { <li>{format!("{} {:?}", r.object, r.action).to_ascii_lowercase()}</li> }).collect_view()}
                        </ul>
                    </details>
                </section>
            }
        })}
    }
}

/// Asks the running operation to stop before its next object.
#[component]
fn CancelButton(live: LiveInstance, revision: i64) -> impl IntoView {
    let asked = RwSignal::new(false);
    let failure = RwSignal::new(None::<ServiceError>);
    let cancel = move |_| {
        let s = live.view.get_untracked().summary;
        asked.set(true);
        spawn_local(async move {
            let id = OperationInfo::id_of(&s.namespace, &s.name, revision);
            if let Err(e) = call(CancelOperation { id }).await {
                failure.set(Some(e));
                asked.set(false);
            }
        });
    };
    view! {
        <button type="button" class="button small danger" data-testid="cancel-operation" disabled=move || asked.get() on:click=cancel>
            {move || if asked.get() { "Cancelling…" } else { "Cancel" }}
        </button>
        {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
    }
}

/// The public host, editable into the pending change set.
#[component]
fn DomainEditor(live: LiveInstance, pending: RwSignal<Vec<Edit>>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let problem = move || {
        let h = host.get();
        let ok = h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
        (!h.is_empty() && !ok).then(|| format!("`{h}` is not a valid host name"))
    };
    let has_url = move || {
        live.view
            .read()
            .components
            .iter()
            .any(|c| !c.spec.urls.is_empty())
    };
    view! {
        <Show when=has_url>
            <form class="domain" on:submit=move |e| {
                e.prevent_default();
                if problem().is_none() && !host.get_untracked().is_empty() {
                    pending.update(|p| p.push(Edit::Domain { host: host.get_untracked() }));
                    host.set(String::new());
                }
            }>
                <label class="field inline"><span>"Domain"</span>
                    <input type="text" data-testid="domain-input" placeholder="analytics.example.com" prop:value=move || host.get()
                        on:input=move |e| host.set(event_target_value(&e))/></label>
                <button type="submit" class="button small" disabled=move || problem().is_some()>"Add to change set"</button>
                <span class="field-error" role="status">{problem}</span>
            </form>
        </Show>
    }
}

/// "3 changes · Review" at the bottom while edits are pending, and the review dialog.
#[component]
fn PendingBar(live: LiveInstance, pending: RwSignal<Vec<Edit>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let preview = RwSignal::new(None as Loaded);
    let applying = RwSignal::new(false);
    let failure = RwSignal::new(None::<ServiceError>);
    let key = move || {
        let s = live.view.read().summary.clone();
        (s.namespace, s.name, s.revision)
    };
    let load = move || {
        let (ns, name, revision) = key();
        let request = ChangeRequest {
            base_revision: revision,
            edits: pending.get_untracked(),
            plan_hash: None,
            force: false,
            strict: false,
            adopt: false,
        };
        preview.set(None);
        failure.set(None);
        open.set(true);
        spawn_local(async move {
            preview.set(Some(
                call(PreviewChange {
                    namespace: ns,
                    name,
                    request,
                })
                .await,
            ))
        });
    };
    let on_apply = Callback::new(move |hash: String| {
        let (ns, name, _) = key();
        let base = previewed_base(preview);
        let request = ChangeRequest {
            base_revision: base,
            edits: pending.get_untracked(),
            plan_hash: Some(hash),
            force: false,
            strict: false,
            adopt: false,
        };
        applying.set(true);
        spawn_local(async move {
            match call(ApplyChange {
                namespace: ns,
                name,
                request,
            })
            .await
            {
                Ok(op) => {
                    live.started(op.revision);
                    pending.set(Vec::new());
                    open.set(false);
                }
                Err(e) => failure.set(Some(e)),
            }
            applying.set(false);
        });
    });
    let on_reload = Callback::new(move |_| load());
    view! {
        <Show when=move || !pending.read().is_empty()>
            <div class="pending-bar" role="region" aria-label="Pending changes" data-testid="pending-bar">
                <details>
                    <summary data-testid="pending-count">{move || {
                        let n = pending.read().len();
                        format!("{n} change{}", if n == 1 { "" } else { "s" })
                    }}</summary>
                    <ul class="plain">{move || pending.get().iter().map(|e| view! { <li>{e.in_words()}</li> }).collect_view()}</ul>
                </details>
                <span class="spacer"></span>
                <button type="button" class="button" on:click=move |_| pending.set(Vec::new())>"Discard"</button>
                <button type="button" class="button primary" data-testid="review" on:click=move |_| load()>"Review"</button>
            </div>
        </Show>
        <Dialog open title="Review changes" testid="review-dialog">
            <Review preview on_apply on_reload applying failure/>
        </Dialog>
    }
}

/// Delete, after typing the instance's name; lists what will be removed.
#[component]
fn DeleteButton(live: LiveInstance) -> impl IntoView {
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<ServiceError>);
    let busy = RwSignal::new(false);
    let name = move || live.view.read().summary.name.clone();
    let location = Location::get();
    let confirm = Callback::new(move |_: ()| {
        let s = live.view.get_untracked().summary;
        busy.set(true);
        spawn_local(async move {
            match call(DeleteInstance {
                namespace: s.namespace,
                name: s.name,
            })
            .await
            {
                Ok(_) => location.go("/"),
                Err(e) => failure.set(Some(e)),
            }
            busy.set(false);
        });
    });
    view! {
        <button type="button" class="button danger" data-testid="delete" on:click=move |_| { typed.set(String::new()); open.set(true) }>"Delete…"</button>
        <Dialog open title="Delete instance" testid="delete-dialog">
            <p>"This deletes every object the instance owns. Its history stays readable."</p>
            <details>
                <summary>{move || format!("{} objects will be removed", live.view.read().components.iter().map(|c| c.component.objects.len()).sum::<usize>())}</summary>
                <ul class="plain mono">{move || live.view.read().components.iter().flat_map(|c| c.component.objects.clone()).map(|o| view! { <li>{o.to_string()}</li> }).collect_view()}</ul>
            </details>
            <label class="field"><span>{move || format!("Type {} to confirm", name())}</span>
                <input type="text" data-testid="delete-confirm-name" prop:value=move || typed.get() on:input=move |e| typed.set(event_target_value(&e))/></label>
            {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
            <div class="dialog-actions">
                <button type="button" class="button danger" data-testid="delete-confirm" disabled=move || busy.get() || typed.get() != name() on:click=move |_| confirm.run(())>"Delete"</button>
            </div>
        </Dialog>
    }
}
