//! A banner on every page while the cluster does not answer: Berth's history and templates keep
//! working, but nothing can be deployed or changed and live health is unknown.

use leptos::prelude::*;

use crate::{
    load::{Data, Want, load},
    route::Location,
};

/// Checked when each page loads (on the server, as part of the page).
#[component]
pub fn ClusterBanner() -> impl IntoView {
    let location = Location::get();
    let health = load(move || Want::Cluster {
        path: location.path(),
    });
    view! {
        <Suspense fallback=|| ()>
            {move || health.get().and_then(|h| h.and_then(Data::cluster).ok()).filter(|h| !h.reachable).map(|h| view! {
                <div class="banner bad" role="alert" data-testid="cluster-down">
                    <strong>"The cluster is unreachable. "</strong>
                    {h.reason.unwrap_or_default()}
                    " History and templates still work; deploys and changes wait for it."
                </div>
            })}
        </Suspense>
    }
}
