//! An object's YAML: shown with line numbers and highlighting (secrets redacted), and editable.
//! The edited text becomes a `manifest` edit of the pending change set, checked by the server;
//! a YAML error is shown at its line and nothing is added. The editor is a textarea over a
//! highlighted copy of its text, both served with the app (no editor from a CDN).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{ManifestEdit, ObjectYaml, call},
    components::error_view::ErrorView,
    error::ServiceError,
    model::{Edit, ObjectKey, number::decimal},
};

/// One line of YAML as coloured spans: comment, key, value (string, number or bool), list dash.
fn highlight(line: &str) -> Vec<(String, &'static str)> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut out = vec![(indent.to_string(), "")];
    if trimmed.starts_with('#') {
        out.push((trimmed.to_string(), "y-comment"));
        return out;
    }
    let mut rest = trimmed;
    if let Some(after) = rest.strip_prefix("- ") {
        out.push(("- ".into(), "y-dash"));
        rest = after;
    }
    let split = rest
        .find(": ")
        .map(|i| (i, 2))
        .or_else(|| rest.ends_with(':').then(|| (rest.len() - 1, 1)));
    if let Some((i, n)) = split.filter(|(i, _)| !rest[..*i].contains(['"', '\'', ' '])) {
        out.push((rest[..i].to_string(), "y-key"));
        out.push((rest[i..i + n].to_string(), ""));
        rest = &rest[i + n..];
    }
    let class = if rest.starts_with('"') || rest.starts_with('\'') {
        "y-string"
    } else if decimal(rest).is_some() || matches!(rest, "true" | "false" | "null") {
        "y-literal"
    } else {
        "y-value"
    };
    out.push((rest.to_string(), class));
    out
}

/// The line a server error points at, from its details.
pub fn line_of(e: &ServiceError) -> Option<usize> {
    e.details
        .get("line")
        .and_then(|l| l.as_u64())
        .map(|l| l as usize)
}

/// Text with line numbers and YAML highlighting: a textarea over a highlighted copy of it.
/// `bad_line` is marked in the gutter.
#[component]
pub fn CodeArea(
    text: RwSignal<String>,
    bad_line: Signal<Option<usize>>,
    editable: Signal<bool>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    view! {
        <div class="yaml" data-testid="yaml">
            <ol class="yaml-gutter" aria-hidden="true">
                {move || text.get().lines().enumerate().map(|(i, _)| {
                    let n = i + 1;
                    view! { <li class:bad=move || bad_line.get() == Some(n)>{n}</li> }
                }).collect_view()}
            </ol>
            <div class="yaml-code">
                <pre class="yaml-highlight" aria-hidden="true">
                    {move || text.get().lines().map(|l| view! {
                        <span class="y-line">{highlight(l).into_iter().map(|(t, c)| view! { <span class=c>{t}</span> }).collect_view()}"\n"</span>
                    }).collect_view()}
                </pre>
                <textarea class="yaml-input" spellcheck="false" data-testid=testid aria-label="YAML"
                    readonly=move || !editable.get() rows=move || text.get().lines().count() + 1 wrap="off"
                    prop:value=move || text.get() on:input=move |e| text.set(event_target_value(&e))></textarea>
            </div>
        </div>
    }
}

/// The YAML of one object, and its editor.
#[component]
pub fn YamlEditor(
    namespace: String,
    name: String,
    object: ObjectKey,
    pending: RwSignal<Vec<Edit>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(None::<Result<String, ServiceError>>);
    let draft = RwSignal::new(String::new());
    let editing = RwSignal::new(false);
    let failure = RwSignal::new(None::<ServiceError>);
    let (ns, nm, key) = (
        StoredValue::new(namespace),
        StoredValue::new(name),
        StoredValue::new(object),
    );
    let load = move || {
        spawn_local(async move {
            let k = key.get_value();
            let got = call(ObjectYaml {
                namespace: ns.get_value(),
                name: nm.get_value(),
                kind: k.kind,
                object: k.name,
            })
            .await;
            if let Ok(t) = &got {
                draft.set(t.clone());
            }
            text.set(Some(got));
        })
    };
    Effect::new(move |_| {
        if open.get() && text.get_untracked().is_none() {
            load();
        }
    });
    let add = move |_| {
        failure.set(None);
        spawn_local(async move {
            match call(ManifestEdit {
                namespace: ns.get_value(),
                name: nm.get_value(),
                object: key.get_value(),
                yaml: draft.get_untracked(),
            })
            .await
            {
                Ok(edit) => {
                    pending.update(|p| p.push(edit));
                    editing.set(false);
                    open.set(false);
                }
                Err(e) => failure.set(Some(e)),
            }
        });
    };
    let bad_line = move || failure.get().as_ref().and_then(line_of);
    view! {
        {move || match text.get() {
            None => view! { <div class="panel loading" aria-busy="true">"Loading YAML…"</div> }.into_any(),
            Some(Err(e)) => view! { <ErrorView error=e/> }.into_any(),
            Some(Ok(_)) => view! {
                <CodeArea text=draft bad_line=Signal::derive(bad_line) editable=Signal::derive(move || editing.get()) testid="yaml-input"/>
            }.into_any(),
        }}
        {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
        <div class="dialog-actions">
            <Show when=move || !editing.get() fallback=move || view! {
                <button type="button" class="button primary" data-testid="yaml-add" on:click=add>"Add to change set"</button>
            }>
                <button type="button" class="button" data-testid="yaml-edit" on:click=move |_| editing.set(true)>"Edit YAML"</button>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::highlight;

    #[test]
    fn keys_values_comments_and_dashes_are_told_apart() {
        let classes = |l: &str| {
            highlight(l)
                .into_iter()
                .map(|(_, c)| c)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        };
        assert_eq!(classes("  replicas: 3"), ["y-key", "y-literal"]);
        assert_eq!(classes("- name: \"web\""), ["y-dash", "y-key", "y-string"]);
        assert_eq!(classes("# note"), ["y-comment"]);
        assert_eq!(classes("spec:"), ["y-key", "y-value"]);
        let joined: String = highlight("  image: nginx:1.27")
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(joined, "  image: nginx:1.27", "the text is kept exactly");
    }
}
