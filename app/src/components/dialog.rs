//! A modal dialog: a titled panel over the page, closed with Esc, its close button or a click
//! on the backdrop. Focus moves into it when it opens.

use leptos::prelude::*;

/// A modal dialog shown while `open` is true.
#[component]
pub fn Dialog(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// Its heading.
    #[prop(into)]
    title: String,
    /// Test id of the panel.
    #[prop(into, optional)]
    testid: String,
    /// Its content.
    children: ChildrenFn,
) -> impl IntoView {
    let panel = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if open.get()
            && let Some(p) = panel.get()
        {
            let _ = p.focus();
        }
    });
    let title = StoredValue::new(title);
    let testid = StoredValue::new(testid);
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div class="backdrop" on:click=move |_| open.set(false)></div>
            <section
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-label=title.get_value()
                tabindex="-1"
                node_ref=panel
                data-testid=testid.get_value()
                on:keydown=move |e| if e.key() == "Escape" { open.set(false) }
            >
                <header class="dialog-head">
                    <h2>{title.get_value()}</h2>
                    <button type="button" class="icon-button" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
                </header>
                <div class="dialog-body">{children.read_value()()}</div>
            </section>
        </Show>
    }
}
