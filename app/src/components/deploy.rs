//! The deploy dialog: a form generated from a template's inputs (type, required, options,
//! defaults, descriptions; an input under an `if` shows only while its condition holds), the
//! target namespace and name, then a preview (the dry-run create, grouped by component) and
//! Deploy, which opens the instance's page at once.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{Deploy, PlanDeploy, call},
    components::error_view::{DryRunRefusals, ErrorView, RenderWarnings},
    error::ServiceError,
    model::{CreatePlan, CreateRequest, InputInfo, TemplateInfo, number::decimal},
    route::Location,
};

/// Whether an input's `if` holds for the values typed so far. Understands the conditions
/// templates write (`inputs.x === 'v'`, `!==`, `==`, `!=`, a bare `inputs.x`); any other is
/// taken as true, so the field shows (the server checks it again either way).
pub fn condition_holds(condition: &str, values: &BTreeMap<String, String>) -> bool {
    let c = condition.trim();
    for (op, equal) in [("!==", false), ("===", true), ("!=", false), ("==", true)] {
        if let Some((left, right)) = c.split_once(op) {
            let Some(name) = left.trim().strip_prefix("inputs.") else {
                return true;
            };
            let want = right.trim().trim_matches(|ch| ch == '\'' || ch == '"');
            let have = values
                .get(name.trim())
                .map(String::as_str)
                .unwrap_or_default();
            return (have == want) == equal;
        }
    }
    match c.strip_prefix("inputs.") {
        Some(name)
            if name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_') =>
        {
            let v = values.get(name).map(String::as_str).unwrap_or_default();
            !v.is_empty() && v != "false"
        }
        _ => true,
    }
}

/// What is wrong with a typed value, by the input's declared type and pattern (the server
/// checks it again).
fn input_problem(input: &InputInfo, value: &str) -> Option<String> {
    if value.is_empty() {
        return (input.required && input.default.is_empty()).then(|| "required".to_string());
    }
    match input.kind.as_str() {
        "number" if !decimal(value.trim()).is_some_and(f64::is_finite) => Some("a number".into()),
        "boolean" if value != "true" && value != "false" => Some("true or false".into()),
        _ => None,
    }
}

fn dns_label_problem(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    (!value.is_empty() && !ok).then(|| {
        "lowercase letters, digits and '-', at most 63, not starting or ending with '-'".into()
    })
}

/// The form, preview and deploy button for `template`.
#[component]
pub fn DeployForm(template: TemplateInfo) -> impl IntoView {
    let values = RwSignal::new(
        template
            .inputs
            .iter()
            .map(|i| (i.name.clone(), i.default.clone()))
            .filter(|(_, d)| !d.contains("${{"))
            .collect::<BTreeMap<_, _>>(),
    );
    let namespace = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let plan = RwSignal::new(None::<Result<CreatePlan, ServiceError>>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ServiceError>);
    let inputs = StoredValue::new(template.inputs.clone());
    let id = StoredValue::new(template.id.clone());
    let request = move || CreateRequest {
        template: id.get_value(),
        namespace: Some(namespace.get_untracked()).filter(|n| !n.is_empty()),
        name: Some(name.get_untracked()).filter(|n| !n.is_empty()),
        inputs: values
            .get_untracked()
            .into_iter()
            .filter(|(k, v)| {
                !v.is_empty()
                    && inputs.with_value(|all| {
                        all.iter().any(|i| {
                            &i.name == k
                                && i.condition
                                    .as_deref()
                                    .is_none_or(|c| condition_holds(c, &values.get_untracked()))
                        })
                    })
            })
            .collect(),
        ..Default::default()
    };
    let problems = move || {
        let v = values.get();
        let mut out: Vec<String> = inputs.with_value(|all| {
            all.iter()
                .filter(|i| {
                    i.condition
                        .as_deref()
                        .is_none_or(|c| condition_holds(c, &v))
                })
                .filter_map(|i| {
                    input_problem(i, v.get(&i.name).map(String::as_str).unwrap_or_default())
                        .map(|p| format!("{}: {p}", i.name))
                })
                .collect()
        });
        out.extend(dns_label_problem(&namespace.get()).map(|p| format!("namespace: {p}")));
        out.extend(dns_label_problem(&name.get()).map(|p| format!("name: {p}")));
        out
    };
    let preview = move |_| {
        let req = request();
        plan.set(None);
        busy.set(true);
        spawn_local(async move {
            plan.set(Some(call(PlanDeploy { request: req }).await));
            busy.set(false);
        });
    };
    let location = Location::get();
    let start = move |_| {
        let req = request();
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            match call(Deploy { request: req }).await {
                // The page learns which operation to show, in case it ends before the page loads.
                Ok(op) => location.go(&format!(
                    "/instances/{}/{}?op={}",
                    op.namespace, op.name, op.revision
                )),
                Err(e) => failure.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="deploy-form" data-testid="deploy-form" on:submit=move |e| e.prevent_default()>
            <div class="field-row">
                <label class="field"><span>"Namespace"</span>
                    <input type="text" data-testid="deploy-namespace" placeholder="Berth's default" prop:value=move || namespace.get()
                        on:input=move |e| namespace.set(event_target_value(&e))/></label>
                <label class="field"><span>"Instance name"</span>
                    <input type="text" data-testid="deploy-name" placeholder="from the template" prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e))/></label>
            </div>
            {inputs.with_value(|all| all.iter().cloned().map(|i| {
                let cond = i.condition.clone();
                let visible = move || cond.as_deref().is_none_or(|c| condition_holds(c, &values.get()));
                view! { <Show when=visible.clone()><InputField input=i.clone() values/></Show> }
            }).collect_view())}
            <ul class="field-error plain" role="status" data-testid="form-problems">
                {move || problems().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
            </ul>
            <div class="dialog-actions">
                <button type="button" class="button" data-testid="deploy-preview" disabled=move || busy.get() || !problems().is_empty() on:click=preview>"Preview"</button>
                <button type="submit" class="button primary" data-testid="deploy-start" disabled=move || busy.get() || !problems().is_empty() on:click=start>"Deploy"</button>
            </div>
        </form>
        {move || busy.get().then(|| view! { <div class="progress indeterminate" role="progressbar" aria-label="Working"></div> })}
        {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
        {move || plan.get().map(|p| match p {
            Ok(p) => view! { <PlanView p/> }.into_any(),
            Err(e) => view! { <ErrorView error=e/> }.into_any(),
        })}
    }
}

#[component]
fn InputField(input: InputInfo, values: RwSignal<BTreeMap<String, String>>) -> impl IntoView {
    let name = StoredValue::new(input.name.clone());
    let current = move || values.with(|v| v.get(&name.get_value()).cloned().unwrap_or_default());
    let set = move |v: String| {
        values.update(|all| {
            all.insert(name.get_value(), v);
        })
    };
    let label = format!("{}{}", input.name, if input.required { " *" } else { "" });
    let control = match input.kind.as_str() {
        "choice" => view! {
            <select data-testid=format!("input-{}", input.name) on:change=move |e| set(event_target_value(&e)) prop:value=current>
                {input.options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }.into_any(),
        "boolean" => view! {
            <input type="checkbox" data-testid=format!("input-{}", input.name) prop:checked=move || current() == "true"
                on:change=move |e| set(event_target_checked(&e).to_string())/>
        }.into_any(),
        _ => view! {
            <input type=if input.kind == "number" { "number" } else { "text" } data-testid=format!("input-{}", input.name)
                placeholder=input.default.clone() pattern=input.pattern.clone() prop:value=current
                on:input=move |e| set(event_target_value(&e))/>
        }.into_any(),
    };
    view! {
        <label class="field">
            <span>{label}</span>
            {control}
            <small class="muted">{input.description.clone()}</small>
        </label>
    }
}

#[component]
fn PlanView(p: CreatePlan) -> impl IntoView {
    view! {
        <section class="plan" data-testid="deploy-plan">
            <h3>{format!("{} objects in {} components → {}/{}", p.manifests.len(), p.components.len(), p.namespace, p.name)}</h3>
            <DryRunRefusals results=p.dry_run.clone() testid="preflight"/>
            <RenderWarnings warnings=p.warnings.clone()/>
            <details data-testid="platform-values">
                <summary>"Platform values"</summary>
                <dl class="facts">
                    {p.platform.iter().map(|(k, v)| view! { <dt class="mono">{k.clone()}</dt><dd class="mono">{v.clone()}</dd> }).collect_view()}
                </dl>
            </details>
            <ul class="plan-groups">
                {p.components.iter().map(|c| view! {
                    <li><strong class="mono">{c.id.clone()}</strong>" "<span class="muted">{c.card.as_str()}</span>
                        <ul class="plain mono">{c.objects.iter().map(|o| view! { <li>{o.to_string()}</li> }).collect_view()}</ul>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}
