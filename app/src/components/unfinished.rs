//! The banner of an operation that did not finish: Berth stopped while it ran (a crash or a
//! shutdown), it failed, or it was cancelled. It says how far it got and offers to resume it
//! (apply the same revision again) or to roll back to the last revision that finished.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{ResumeRevision, call},
    components::{error_view::ErrorView, rollback::RollbackButton},
    error::ServiceError,
    live::LiveInstance,
    model::{OperationInfo, OperationStatus},
};

/// Shown while the instance's newest revision is unfinished and nothing runs.
#[component]
pub fn UnfinishedBanner(live: LiveInstance) -> impl IntoView {
    let failure = RwSignal::new(None::<ServiceError>);
    let busy = RwSignal::new(false);
    let started = Callback::new(move |op: OperationInfo| live.started(op.revision));
    let running = move || {
        live.operation
            .read()
            .as_ref()
            .is_some_and(|op| op.finished.is_none())
    };
    let shown = move || {
        let v = live.view.read();
        v.summary
            .unfinished
            .clone()
            .filter(|_| !running())
            .map(|u| (v.summary.clone(), u))
    };
    view! {
        {move || shown().map(|(s, u)| {
            let what = match u.status {
                OperationStatus::Interrupted => "was interrupted",
                OperationStatus::Cancelled => "was cancelled",
                _ => "failed",
            };
            let (ns, name, number) = (s.namespace.clone(), s.name.clone(), u.number);
            let resume = move |_| {
                let (ns, name) = (ns.clone(), name.clone());
                busy.set(true);
                failure.set(None);
                spawn_local(async move {
                    match call(ResumeRevision { namespace: ns, name, number }).await {
                        Ok(op) => started.run(op),
                        Err(e) => failure.set(Some(e)),
                    }
                    busy.set(false);
                });
            };
            let can_resume = u.kind != "delete";
            view! {
                <section class="banner warn unfinished" role="status" data-testid="unfinished" data-status=u.status.as_str()>
                    <p><strong>{format!("Revision {} ({}) {what}. ", u.number, u.kind)}</strong>{u.message.clone()}</p>
                    <div class="head-actions">
                        <Show when=move || can_resume>
                            <button type="button" class="button primary small" data-testid="resume" disabled=move || busy.get() on:click=resume.clone()>
                                {format!("Resume revision {number}")}
                            </button>
                        </Show>
                        {(s.revision > 0).then(|| view! {
                            <RollbackButton namespace=s.namespace.clone() name=s.name.clone() to=s.revision on_started=started
                                label=format!("Roll back to revision {}…", s.revision)/>
                        })}
                    </div>
                    {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
                </section>
            }
        })}
    }
}
