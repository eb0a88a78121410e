//! Importing a template into the catalog: paste its YAML or pick a file; the server checks it
//! as `berth template check` does, and a problem is shown at its line. An imported template is
//! stored in Berth's database and offered at once (and after restarts).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{ImportTemplate, call},
    components::{
        error_view::ErrorView,
        yaml::{CodeArea, line_of},
    },
    error::ServiceError,
    model::TemplateInfo,
};

/// The import form; `imported` is called with the new template.
#[component]
pub fn ImportForm(imported: Callback<TemplateInfo>) -> impl IntoView {
    let source = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<ServiceError>);
    let busy = RwSignal::new(false);
    let submit = move |_| {
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            match call(ImportTemplate {
                source: source.get_untracked(),
            })
            .await
            {
                Ok(info) => {
                    source.set(String::new());
                    imported.run(info);
                }
                Err(e) => failure.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let bad_line = Signal::derive(move || failure.get().as_ref().and_then(line_of));
    view! {
        <p class="muted">"Paste a Sealos-format template (a Template CR, then its documents), or pick its file."</p>
        <input type="file" accept=".yaml,.yml,text/yaml" data-testid="import-file" on:change=move |e| read_file(e, source)/>
        <CodeArea text=source bad_line editable=Signal::derive(|| true) testid="import-source"/>
        {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
        <div class="dialog-actions">
            <button type="button" class="button primary" data-testid="import-submit"
                disabled=move || busy.get() || source.read().trim().is_empty() on:click=submit>"Import"</button>
        </div>
    }
}

/// Reads the picked file's text into `source` (in the browser).
fn read_file(event: leptos::ev::Event, source: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let file = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            let text = wasm_bindgen_futures::JsFuture::from(file.text());
            spawn_local(async move {
                if let Ok(value) = text.await
                    && let Some(s) = value.as_string()
                {
                    source.set(s);
                }
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (event, source);
}
