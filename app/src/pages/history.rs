//! An instance's history (`/instances/:namespace/:name/history`): every revision with its
//! operation, who, when, the change in words, the result and the health it ended with. Two
//! picked revisions show their diff; a rollback is previewed (diff, dry run, plan hash) and then
//! confirmed, like any change.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{DiffRevisions, call},
    components::{diff::DiffView, error_view::ErrorView, rollback::RollbackButton},
    error::ServiceError,
    load::{Data, Want, load},
    model::{OperationInfo, OperationStatus, RevisionSummary},
    route::Location,
};

/// `/instances/:namespace/:name/history`
#[component]
pub fn HistoryPage(namespace: String, name: String) -> impl IntoView {
    let title = format!("{namespace}/{name}");
    let href = format!("/instances/{title}");
    let want = Want::Revisions {
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let revisions = load(move || want.clone());
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Instances"</a>
            <span aria-hidden="true">" / "</span>
            <a class="mono" href=href>{title}</a>
            <span aria-hidden="true">" / history"</span>
        </nav>
        <section class="page-head"><h1>"History"</h1>
            <p class="muted">"Every operation, newest first. Pick two revisions to compare them."</p></section>
        <Suspense fallback=|| view! { <div class="panel loading" aria-busy="true">"Loading history…"</div> }>
            {move || revisions.get().map(|r| match r.and_then(Data::revisions) {
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
                Ok(list) => view! { <Timeline list namespace=namespace.clone() name=name.clone()/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A change set (or rollback) in words.
fn change_in_words(r: &RevisionSummary) -> String {
    let Some(change) = &r.change else {
        return String::new();
    };
    if let Some(to) = change.get("rollbackTo") {
        return format!("back to revision {to}");
    }
    change["edits"]
        .as_array()
        .map(|edits| {
            edits
                .iter()
                .map(|e| {
                    let what = e["type"].as_str().unwrap_or_default();
                    let target = e["component"]
                        .as_str()
                        .or(e["name"].as_str())
                        .unwrap_or_default();
                    format!("{what} {target}").trim().to_string()
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[component]
fn Timeline(list: Vec<RevisionSummary>, namespace: String, name: String) -> impl IntoView {
    let picked = RwSignal::new(Vec::<i64>::new());
    let diff = RwSignal::new(None::<Result<String, ServiceError>>);
    let (ns, nm) = (StoredValue::new(namespace), StoredValue::new(name));
    let compare = move |_| {
        let mut p = picked.get_untracked();
        p.sort();
        if let [a, b] = p[..] {
            diff.set(None);
            spawn_local(async move {
                let d = call(DiffRevisions {
                    namespace: ns.get_value(),
                    name: nm.get_value(),
                    number: b,
                    against: a,
                })
                .await;
                diff.set(Some(d.map(|d| d.diff)));
            });
        }
    };
    let newest_first: Vec<RevisionSummary> = list.into_iter().rev().collect();
    let location = Location::get();
    let opened = Callback::new(move |op: OperationInfo| {
        location.go(&format!("/instances/{}/{}", op.namespace, op.name))
    });
    view! {
        <table class="table" data-testid="history">
            <thead><tr>
                <th scope="col">"Pick"</th><th scope="col" class="num">"Rev"</th><th scope="col">"Operation"</th>
                <th scope="col">"Change"</th><th scope="col">"Who"</th><th scope="col">"When"</th>
                <th scope="col">"Result"</th><th scope="col">"Health"</th><th scope="col"></th>
            </tr></thead>
            <tbody>
                {newest_first.into_iter().map(|r| {
                    let n = r.number;
                    let restorable = r.status == OperationStatus::Succeeded && r.kind != "delete";
                    view! {
                        <tr data-testid="revision" data-number=n>
                            <td><input type="checkbox" aria-label=format!("Pick revision {n}") data-testid="pick"
                                prop:checked=move || picked.read().contains(&n)
                                on:change=move |e| picked.update(|p| {
                                    if event_target_checked(&e) { p.push(n); if p.len() > 2 { p.remove(0); } } else { p.retain(|x| *x != n); }
                                })/></td>
                            <td class="num">{n}</td>
                            <td>{r.kind.clone()}</td>
                            <td>{change_in_words(&r)}</td>
                            <td class="muted">{r.actor.clone()}</td>
                            <td class="muted">{r.created_at.get(..19).unwrap_or_default().replace('T', " ")}</td>
                            <td title=r.message.clone()>{r.status.as_str()}</td>
                            <td>{r.health.map(|h| format!("{h:?}")).unwrap_or_default()}</td>
                            <td>{restorable.then(|| view! { <RollbackButton namespace=ns.get_value() name=nm.get_value() to=n on_started=opened/> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="dialog-actions">
            <button type="button" class="button" data-testid="compare" disabled=move || picked.read().len() != 2 on:click=compare>
                {move || { let mut p = picked.get(); p.sort(); match p[..] { [a, b] => format!("Diff {a} → {b}"), _ => "Pick two to compare".into() } }}
            </button>
        </div>
        {move || diff.get().map(|d| match d {
            Ok(text) => view! { <DiffView diff=text/> }.into_any(),
            Err(e) => view! { <ErrorView error=e/> }.into_any(),
        })}
    }
}
