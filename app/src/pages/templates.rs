//! The catalog (`/templates`): every template Berth offers, with search, a detail page with its
//! readme and inputs (`/templates/:id`), and a deploy dialog for each.

use leptos::prelude::*;

use crate::{
    components::{deploy::DeployForm, dialog::Dialog, error_view::ErrorView, import::ImportForm},
    load::{Data, Want, load},
    model::TemplateInfo,
};

/// `/templates`
#[component]
pub fn TemplatesPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let templates = load(move || Want::Templates {
        refresh: refresh.get(),
    });
    let query = RwSignal::new(String::new());
    let importing = RwSignal::new(false);
    let imported = Callback::new(move |info: TemplateInfo| {
        importing.set(false);
        query.set(info.id);
        refresh.update(|n| *n += 1);
    });
    view! {
        <section class="page-head split">
            <div>
                <h1>"Templates"</h1>
                <p class="muted">"Stacks Berth can deploy. Pick one to see its inputs and deploy it."</p>
            </div>
            <div class="head-actions">
                <input type="search" class="search" placeholder="Search templates" aria-label="Search templates"
                    data-testid="template-search" prop:value=move || query.get() on:input=move |e| query.set(event_target_value(&e))/>
                <button type="button" class="button" data-testid="import" on:click=move |_| importing.set(true)>"Import…"</button>
            </div>
        </section>
        <Dialog open=importing title="Import a template" testid="import-dialog">
            <ImportForm imported/>
        </Dialog>
        <Transition fallback=|| view! { <div class="panel loading" aria-busy="true">"Loading templates…"</div> }>
            {move || templates.get().map(|r| match r.and_then(Data::templates) {
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
                Ok(list) => {
                    let list = StoredValue::new(list);
                    view! {
                        <ul class="catalog" data-testid="catalog">
                            {move || {
                                let q = lowercase(&query.get());
                                let shown: Vec<TemplateInfo> = list.with_value(|l| l.iter().filter(|t| matches(t, &q)).cloned().collect());
                                if shown.is_empty() {
                                    view! { <li class="empty" data-testid="catalog-empty"><p class="muted">"No template matches. Clear the search to see them all."</p></li> }.into_any()
                                } else {
                                    shown.into_iter().map(|t| view! { <TemplateCard t/> }).collect_view().into_any()
                                }
                            }}
                        </ul>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

fn matches(t: &TemplateInfo, q: &str) -> bool {
    q.is_empty()
        || lowercase(&t.id).contains(q)
        || lowercase(&t.title).contains(q)
        || lowercase(&t.description).contains(q)
        || t.categories.iter().any(|c| lowercase(c).contains(q))
}

/// `text` in lower case, by Unicode's rules. The browser asks its own JavaScript engine, whose
/// case tables it already has, rather than carrying the standard library's (12 KB) in the bundle.
fn lowercase(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_lower_case().into();
    #[cfg(not(feature = "hydrate"))]
    return text.to_lowercase();
}

#[component]
fn TemplateCard(t: TemplateInfo) -> impl IntoView {
    let open = RwSignal::new(false);
    // The stylesheet shows it in capitals.
    let initial = t.title.chars().next().unwrap_or('?').to_string();
    let title = format!("Deploy {}", t.title);
    let template = StoredValue::new(t.clone());
    view! {
        <li class="catalog-card" data-testid="template-card" data-template=t.id.clone()>
            <div class="catalog-head">
                <span class="avatar" aria-hidden="true">{initial}</span>
                <div>
                    <h3><a href=format!("/templates/{}", t.id) data-testid="template-link">{t.title.clone()}</a></h3>
                    <p class="muted mono">{t.id.clone()}</p>
                </div>
            </div>
            <p>{t.description.clone()}</p>
            <p class="chips">{t.categories.iter().map(|c| view! { <span class="chip">{c.clone()}</span> }).collect_view()}</p>
            <p class="muted">{format!("{} inputs", t.inputs.len())}</p>
            <button type="button" class="button primary" data-testid="open-deploy" on:click=move |_| open.set(true)>"Deploy…"</button>
            <Dialog open title testid="deploy-dialog">
                <DeployForm template=template.get_value()/>
            </Dialog>
        </li>
    }
}

/// `/templates/:id`: one template, its readme and home page, and its inputs.
#[component]
pub fn TemplatePage(id: String) -> impl IntoView {
    let want = Want::Template { id: id.clone() };
    let template = load(move || want.clone());
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/templates">"Templates"</a>
            <span aria-hidden="true">" / "</span>
            <span class="mono">{id}</span>
        </nav>
        <Suspense fallback=|| view! { <div class="panel loading page-skeleton" aria-busy="true">"Loading template…"</div> }>
            {move || template.get().map(|r| match r.and_then(Data::template) {
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
                Ok(t) => view! { <TemplateDetail t/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TemplateDetail(t: TemplateInfo) -> impl IntoView {
    let open = RwSignal::new(false);
    let template = StoredValue::new(t.clone());
    view! {
        <section class="page-head split" data-testid="template-detail">
            <div>
                <h1>{t.title.clone()}</h1>
                <p class="muted">{t.description.clone()}</p>
                <p class="chips">{t.categories.iter().map(|c| view! { <span class="chip">{c.clone()}</span> }).collect_view()}</p>
                <p>
                    {(!t.readme.is_empty()).then(|| view! { <a href=t.readme.clone() rel="noreferrer" target="_blank" data-testid="readme">"Readme"</a> })}
                    {(!t.readme.is_empty() && !t.url.is_empty()).then_some(" · ")}
                    {(!t.url.is_empty()).then(|| view! { <a href=t.url.clone() rel="noreferrer" target="_blank">"Home page"</a> })}
                </p>
            </div>
            <button type="button" class="button primary" data-testid="open-deploy" on:click=move |_| open.set(true)>"Deploy…"</button>
        </section>
        <table class="table" data-testid="template-inputs">
            <thead><tr><th scope="col">"Input"</th><th scope="col">"Type"</th><th scope="col">"Default"</th><th scope="col">"About"</th></tr></thead>
            <tbody>
                {t.inputs.iter().map(|i| view! {
                    <tr>
                        <td class="mono">{i.name.clone()}{i.required.then_some(" *")}</td>
                        <td>{i.kind.clone()}{(!i.options.is_empty()).then(|| format!(": {}", i.options.join(" | ")))}</td>
                        <td class="mono">{i.default.clone()}</td>
                        <td class="muted">{i.description.clone()}{i.condition.clone().map(|c| format!(" (when {c})"))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <Dialog open title=format!("Deploy {}", t.title) testid="deploy-dialog">
            <DeployForm template=template.get_value()/>
        </Dialog>
    }
}
