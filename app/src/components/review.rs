//! Review before anything reaches the cluster: a preview's diff, the objects that change or are
//! pruned, drift, and the dry run; Apply sends the preview's plan hash. Used for change sets and
//! rollbacks alike.

use leptos::prelude::*;

use crate::{
    components::{
        diff::DiffView,
        error_view::{DryRunRefusals, ErrorView, RenderWarnings, refused_any},
    },
    error::{ErrorCode, ServiceError},
    model::{ObjectAction, Preview},
};

/// The state of one review: loading, a preview to confirm, or an error.
pub type Loaded = Option<Result<Preview, ServiceError>>;

/// The revision the loaded preview was made against, which applying it names (0 before one
/// has loaded).
pub fn previewed_base(preview: RwSignal<Loaded>) -> i64 {
    preview
        .get_untracked()
        .and_then(|p| p.ok())
        .map(|p| p.base_revision)
        .unwrap_or_default()
}

/// The body of a review dialog.
#[component]
pub fn Review(
    /// The preview, once loaded.
    preview: RwSignal<Loaded>,
    /// Called with the plan hash when the person confirms.
    on_apply: Callback<String>,
    /// Called to preview again (after a conflict).
    on_reload: Callback<()>,
    /// True while the confirmed plan is being sent.
    applying: RwSignal<bool>,
    /// What applying answered, when it failed.
    failure: RwSignal<Option<ServiceError>>,
) -> impl IntoView {
    view! {
        {move || match preview.get() {
            None => view! { <div class="panel loading" aria-busy="true">"Previewing: rendering and dry-running…"</div> }.into_any(),
            Some(Err(e)) => view! { <ErrorView error=e/> }.into_any(),
            Some(Ok(p)) => view! { <PreviewBody p on_apply applying/> }.into_any(),
        }}
        {move || failure.get().map(|e| {
            let conflict = e.code == ErrorCode::Conflict;
            view! {
                <ErrorView error=e/>
                <Show when=move || conflict>
                    <p class="muted">"The instance changed while you were editing. Reload the preview against the new revision and apply again."</p>
                    <button type="button" class="button" data-testid="reload-preview" on:click=move |_| on_reload.run(())>"Reload and re-apply"</button>
                </Show>
            }
        })}
    }
}

#[component]
fn PreviewBody(p: Preview, on_apply: Callback<String>, applying: RwSignal<bool>) -> impl IntoView {
    let blocked = refused_any(&p.dry_run);
    let hash = p.plan_hash.clone();
    view! {
        <div class="review" data-testid="review">
            <p class="muted">
                {format!("Against revision {} · {} object(s) change · {} pruned", p.base_revision, p.changed.len(), p.prune.len())}
            </p>
            <DiffView diff=p.diff.clone()/>
            <Show when={let n = p.prune.len(); move || n > 0}>
                <h3>"Will be deleted"</h3>
            </Show>
            <ul class="plain mono">
                {p.prune.iter().map(|o| view! { <li>{o.to_string()}</li> }).collect_view()}
            </ul>
            {(!p.drift.is_empty()).then(|| view! {
                <div class="panel warn" role="status">
                    <strong>"Drift: "</strong>"these objects were changed outside Berth; applying overwrites them: "
                    {p.drift.iter().map(|r| r.object.to_string()).collect::<Vec<_>>().join(", ")}
                </div>
            })}
            <DryRunRefusals results=p.dry_run.clone() testid="dry-run-failed"/>
            <PlanNotes notes=plan_notes(&p)/>
            <RenderWarnings warnings=p.warnings.clone()/>
            <div class="dialog-actions">
                <button
                    type="button"
                    class="button primary"
                    data-testid="apply"
                    disabled=move || blocked || applying.get()
                    on:click=move |_| on_apply.run(hash.clone())
                >
                    {move || if applying.get() { "Applying…" } else { "Apply" }}
                </button>
            </div>
        </div>
    }
}

/// What applying does beyond the diff: objects the dry run says will be replaced or re-created,
/// and what the plan keeps as it is (storage that cannot shrink).
fn plan_notes(p: &Preview) -> Vec<String> {
    p.dry_run
        .iter()
        .filter(|r| r.action == ObjectAction::Planned)
        .filter_map(|r| r.message.as_ref().map(|m| format!("{}: {m}", r.object)))
        .chain(p.notes.iter().cloned())
        .collect()
}

#[component]
fn PlanNotes(notes: Vec<String>) -> impl IntoView {
    (!notes.is_empty()).then(|| {
        view! {
            <div class="panel" role="status" data-testid="plan-notes">
                <strong>"Also: "</strong>
                <ul class="plain">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </div>
        }
    })
}
