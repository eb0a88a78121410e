//! A unified diff, each line coloured by what it does (added, removed, hunk, file).

use leptos::prelude::*;

/// The diff text as a block of coloured lines; "no changes" when it is empty.
#[component]
pub fn DiffView(#[prop(into)] diff: String) -> impl IntoView {
    if diff.trim().is_empty() {
        return view! { <p class="muted" data-testid="diff-empty">"No changes to the manifests."</p> }.into_any();
    }
    let lines: Vec<(String, &'static str)> = diff
        .lines()
        .map(|l| {
            let class = if l.starts_with("+++") || l.starts_with("---") {
                "diff-file"
            } else if l.starts_with("@@") {
                "diff-hunk"
            } else if l.starts_with('+') {
                "diff-add"
            } else if l.starts_with('-') {
                "diff-del"
            } else {
                "diff-ctx"
            };
            (l.to_string(), class)
        })
        .collect();
    view! {
        <pre class="diff" data-testid="diff" tabindex="0">
            {lines.into_iter().map(|(l, c)| view! { <span class=c>{l}"\n"</span> }).collect_view()}
        </pre>
    }
    .into_any()
}
