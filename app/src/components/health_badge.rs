//! A small coloured badge for a health state.

use leptos::prelude::*;

use crate::model::{Health, HealthState};

/// Shows a health state as a labelled badge; the reason is its tooltip.
#[component]
pub fn HealthBadge(health: Health) -> impl IntoView {
    let (label, class) = match health.state {
        HealthState::Healthy => ("Healthy", "ok"),
        HealthState::Suspended => ("Suspended", "muted"),
        HealthState::Progressing => ("Progressing", "warn"),
        HealthState::Missing => ("Missing", "bad"),
        HealthState::Degraded => ("Degraded", "bad"),
        HealthState::Unknown => ("Unknown", "muted"),
    };
    view! {
        <span class=format!("badge badge-{class}") title=health.reason data-testid="health-badge">{label}</span>
    }
}
