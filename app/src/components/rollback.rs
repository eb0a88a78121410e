//! "Roll back…": previews a rollback to a revision (diff, dry run, plan hash) in the review
//! dialog, and applies exactly that plan once confirmed. Used by the history and by the
//! instance page's unfinished-operation banner.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{PreviewRollback, Rollback, call},
    components::{
        dialog::Dialog,
        review::{Loaded, Review},
    },
    error::ServiceError,
    model::OperationInfo,
};

/// A button that opens the review of a rollback to revision `to`.
#[component]
pub fn RollbackButton(
    namespace: String,
    name: String,
    to: i64,
    /// Called with the operation once the rollback has started.
    on_started: Callback<OperationInfo>,
    /// The button's words.
    #[prop(into, default = "Roll back…".to_string())]
    label: String,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let preview = RwSignal::new(None as Loaded);
    let applying = RwSignal::new(false);
    let failure = RwSignal::new(None::<ServiceError>);
    let (ns, nm) = (StoredValue::new(namespace), StoredValue::new(name));
    let load = move || {
        preview.set(None);
        failure.set(None);
        open.set(true);
        spawn_local(async move {
            preview.set(Some(
                call(PreviewRollback {
                    namespace: ns.get_value(),
                    name: nm.get_value(),
                    to,
                })
                .await,
            ))
        });
    };
    let on_apply = Callback::new(move |hash: String| {
        applying.set(true);
        spawn_local(async move {
            match call(Rollback {
                namespace: ns.get_value(),
                name: nm.get_value(),
                to,
                plan_hash: hash,
            })
            .await
            {
                Ok(op) => {
                    open.set(false);
                    on_started.run(op);
                }
                Err(e) => failure.set(Some(e)),
            }
            applying.set(false);
        });
    });
    let on_reload = Callback::new(move |_| load());
    view! {
        <button type="button" class="button small" data-testid="rollback" on:click=move |_| load()>{label}</button>
        <Dialog open title=format!("Roll back to revision {to}") testid="rollback-dialog">
            <Review preview on_apply on_reload applying failure/>
        </Dialog>
    }
}
