//! What a card says beyond its health: its latest Kubernetes warning and how many there are, the
//! troubleshooting hints that apply now (each with its evidence, cause and fix, and buttons for
//! what helps: a restart joins the pending change set, logs open the component's detail), and
//! the template's scale guidance.

use leptos::prelude::*;

use crate::model::{ComponentStatus, Edit, HintAction, ScaleAdvice};

/// Which component's detail (events and logs) is open on the page, if any.
#[derive(Clone, Copy)]
pub struct DetailOpen(pub RwSignal<Option<String>>);

/// The card's warnings and hints.
#[component]
pub fn CardAdvice(s: ComponentStatus, pending: RwSignal<Vec<Edit>>) -> impl IntoView {
    let detail = use_context::<DetailOpen>();
    let id = s.component.id.clone();
    let events = s.events.clone();
    let warnings = (events.warnings > 0).then(|| {
        let latest = events.latest_warning.clone().unwrap_or_default();
        let title = latest.clone();
        view! {
            <p class="card-warning" data-testid="card-warning" title=title>
                <span class="warning-count">{format!("{} warning{}", events.warnings, if events.warnings == 1 { "" } else { "s" })}</span>
                " · "{latest}
            </p>
        }
    });
    let hints = s.hints.into_iter().map(|h| {
        let actions = h.actions.into_iter().map(|a| match a {
            HintAction::Restart { component } => {
                let label = format!("Restart {component}");
                view! {
                    <button type="button" class="button small" data-testid="hint-restart"
                        on:click=move |_| pending.update(|p| {
                            let edit = Edit::Restart { component: component.clone(), at: None };
                            if !p.contains(&edit) { p.push(edit) }
                        })>{label}</button>
                }.into_any()
            }
            HintAction::Logs { components } => components.into_iter().map(|c| {
                let label = format!("Logs of {c}");
                view! {
                    <button type="button" class="button small" data-testid="hint-logs"
                        on:click=move |_| if let Some(DetailOpen(open)) = detail { open.set(Some(c.clone())) }>{label}</button>
                }
            }).collect_view().into_any(),
        }).collect_view();
        view! {
            <details class="hint" data-testid="hint" data-rule=h.rule.clone()>
                <summary><span class="hint-mark" aria-hidden="true">"!"</span>" "{h.title}</summary>
                <ul class="evidence" data-testid="hint-evidence">
                    {h.evidence.into_iter().map(|e| view! { <li class="mono">{e}</li> }).collect_view()}
                </ul>
                <p><strong>"Cause: "</strong>{h.cause}</p>
                <p><strong>"Fix: "</strong>{h.fix}</p>
                <div class="hint-actions">{actions}</div>
            </details>
        }
    }).collect_view();
    view! {
        {warnings}
        <div class="hints">{hints}</div>
        <button type="button" class="link-button" data-testid="open-detail"
            on:click=move |_| if let Some(DetailOpen(open)) = detail { open.set(Some(id.clone())) }>
            {format!("Events ({}) and logs", events.total)}
        </button>
    }
}

/// The scale guidance beside the replica count: "scale out · ingestion, first".
#[component]
pub fn ScaleNote(advice: ScaleAdvice) -> impl IntoView {
    let how = if advice.out { "scale out" } else { "scale up" };
    let when = match advice.order {
        1 => "first".to_string(),
        2 => "second".to_string(),
        n => format!("{n}th"),
    };
    let with = if advice.with.is_empty() {
        String::new()
    } else {
        format!(" with {}", advice.with.join(", "))
    };
    view! {
        <p class="card-scale muted" data-testid="scale-guidance" title=advice.note.clone()>
            {format!("{how} · {} ({when}{with})", advice.group)}
        </p>
    }
}
