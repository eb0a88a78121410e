//! One component's card: live health, replicas, resources, storage, image, restarts and URL,
//! and an editor whose edits join the page's pending change set (nothing is applied from here).
//! Quantities are checked as they are typed, with the rule the server applies.

use leptos::prelude::*;

use crate::{
    components::{
        advice::{CardAdvice, ScaleNote},
        dialog::Dialog,
        health_badge::HealthBadge,
        yaml::YamlEditor,
    },
    live::LiveInstance,
    model::{ComponentStatus, Edit, EnvValue, ObjectKey, quantity::parse_quantity},
};

/// The problem with a typed quantity, if any (empty means "leave as it is").
fn quantity_problem(value: &str, what: &'static str) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    parse_quantity(value, what).err().map(|e| e.to_string())
}

/// The tag of an image reference (what follows the last `:` after the last `/`).
pub fn image_tag(image: &str) -> &str {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.split_once(':').map(|(_, t)| t).unwrap_or("latest")
}

/// A card for component `id`, kept current by `live`.
#[component]
pub fn ComponentCard(
    id: String,
    live: LiveInstance,
    pending: RwSignal<Vec<Edit>>,
    may_change: bool,
) -> impl IntoView {
    let key = id.clone();
    let status = Memo::new(move |_| {
        live.view
            .read()
            .components
            .iter()
            .find(|c| c.component.id == key)
            .cloned()
    });
    let editing = RwSignal::new(false);
    let card = move || {
        status
            .get()
            .map(|s| s.component.card.as_str())
            .unwrap_or("app")
    };
    view! {
        <li class="card" data-testid="component-card" data-component=id.clone() data-card=card id=format!("card-{id}")>
            {move || status.get().map(|s| view! { <CardFace s/> })}
            {move || status.get().map(|s| view! { <CardAdvice s pending/> })}
            {move || status.get().map(|s| view! { <ObjectList s live pending/> })}
            <Show when=move || may_change && status.with(|s| s.as_ref().is_some_and(|s| s.spec.replicas.is_some() || !s.spec.volumes.is_empty()))>
                <button type="button" class="button small" data-testid="edit" aria-expanded=move || editing.get().to_string()
                    on:click=move |_| editing.update(|e| *e = !*e)>
                    {move || if editing.get() { "Close editor" } else { "Edit" }}
                </button>
            </Show>
            <Show when=move || editing.get()>
                {move || status.get_untracked().map(|s| view! { <CardEditor s pending editing/> })}
            </Show>
        </li>
    }
}

#[component]
fn CardFace(s: ComponentStatus) -> impl IntoView {
    let card = s.component.card.as_str();
    let spec = &s.spec;
    let c = spec.containers.first();
    let replicas = spec
        .replicas
        .map(|desired| format!("{}/{} ready", s.pods_ready, desired));
    let resources = c.map(|c| {
        let pair = |r: &Option<String>, l: &Option<String>| {
            format!(
                "{} / {}",
                r.as_deref().unwrap_or("–"),
                l.as_deref().unwrap_or("–")
            )
        };
        (
            pair(&c.cpu_request, &c.cpu_limit),
            pair(&c.memory_request, &c.memory_limit),
        )
    });
    let storage = spec
        .volumes
        .iter()
        .map(|v| format!("{} {}", v.name, v.size))
        .collect::<Vec<_>>()
        .join(", ");
    let tag = c.map(|c| image_tag(&c.image).to_string());
    let deps = s.component.depends_on.clone();
    view! {
        <div class="card-head">
            <span class=format!("card-kind kind-{card}")>{card}</span>
            <HealthBadge health=s.health.clone()/>
        </div>
        <h3 class="card-title mono">{s.component.id.clone()}</h3>
        <p class="card-reason" data-testid="card-reason">{s.health.reason.clone()}</p>
        <dl class="facts">
            {replicas.map(|r| view! { <dt>"Replicas"</dt><dd data-testid="replicas">{r}</dd> })}
            {resources.map(|(cpu, mem)| view! {
                <dt>"CPU"</dt><dd data-testid="cpu" title="request / limit">{cpu}</dd>
                <dt>"Memory"</dt><dd data-testid="memory" title="request / limit">{mem}</dd>
            })}
            {(!storage.is_empty()).then(|| view! { <dt>"Storage"</dt><dd data-testid="storage">{storage}</dd> })}
            {tag.map(|t| view! { <dt>"Image"</dt><dd class="mono" data-testid="image-tag">{t}</dd> })}
            {(s.restarts > 0).then(|| view! { <dt>"Restarts"</dt><dd>{s.restarts}</dd> })}
        </dl>
        {s.spec.scale.clone().map(|advice| view! { <ScaleNote advice/> })}
        {s.spec.urls.first().cloned().map(|u| { let href = u.clone(); view! { <p class="card-url"><a href=href rel="noreferrer" target="_blank">{u}</a></p> } })}
        <p class="card-meta muted">
            {if deps.is_empty() { view! { <span>"depends on nothing"</span> }.into_any() } else {
                view! { <span>"depends on "{deps.iter().enumerate().map(|(i, d)| view! {
                    {(i > 0).then_some(", ")}<a href=format!("#card-{d}")>{d.clone()}</a>
                }).collect_view()}</span> }.into_any()
            }}
        </p>
    }
}

/// The component's objects, each with its health and its YAML (Secrets stay redacted and are
/// not edited here).
#[component]
fn ObjectList(
    s: ComponentStatus,
    live: LiveInstance,
    pending: RwSignal<Vec<Edit>>,
) -> impl IntoView {
    let summary = live.view.with_untracked(|v| v.summary.clone());
    view! {
        <details class="card-objects">
            <summary>{format!("{} objects", s.object_health.len())}</summary>
            <ul>
                {s.object_health.into_iter().map(|o| {
                    let open = RwSignal::new(false);
                    let key = ObjectKey { kind: o.object.kind.clone(), name: o.object.name.clone() };
                    let title = format!("{} {}", key.kind, key.name);
                    let data_object = title.clone();
                    let (ns, name) = (summary.namespace.clone(), summary.name.clone());
                    let yaml = StoredValue::new((ns, name, key));
                    view! {
                        <li data-testid="object" data-object=data_object>
                            <span class="mono">{o.object.to_string()}</span>" — "{o.health.reason}" "
                            <button type="button" class="link-button" data-testid="object-yaml" on:click=move |_| open.set(true)>"YAML"</button>
                            <Dialog open title=title testid="yaml-dialog">
                                {move || { let (ns, name, key) = yaml.get_value(); view! { <YamlEditor namespace=ns name object=key pending open/> } }}
                            </Dialog>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    }
}

/// A text field with its validation message under it.
#[component]
fn Field(
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(into)] testid: String,
    problem: Signal<Option<String>>,
    #[prop(into, optional)] placeholder: String,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input type="text" prop:value=move || value.get() placeholder=placeholder data-testid=testid
                aria-invalid=move || problem.get().is_some().to_string()
                on:input=move |e| value.set(event_target_value(&e))/>
            <span class="field-error" role="status">{move || problem.get()}</span>
        </label>
    }
}

#[component]
fn CardEditor(
    s: ComponentStatus,
    pending: RwSignal<Vec<Edit>>,
    editing: RwSignal<bool>,
) -> impl IntoView {
    let id = s.component.id.clone();
    let spec = s.spec.clone();
    let first = spec.containers.first().cloned().unwrap_or_default();
    let replicas = RwSignal::new(spec.replicas.map(|r| r.to_string()).unwrap_or_default());
    let cpu_request = RwSignal::new(first.cpu_request.clone().unwrap_or_default());
    let cpu_limit = RwSignal::new(first.cpu_limit.clone().unwrap_or_default());
    let memory_request = RwSignal::new(first.memory_request.clone().unwrap_or_default());
    let memory_limit = RwSignal::new(first.memory_limit.clone().unwrap_or_default());
    let tag = RwSignal::new(image_tag(&first.image).to_string());
    let env_name = RwSignal::new(String::new());
    let env_value = RwSignal::new(String::new());
    let env_secret = RwSignal::new(false);
    let removed = RwSignal::new(Vec::<String>::new());
    let sizes: Vec<(String, String, RwSignal<String>)> = spec
        .volumes
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                v.size.clone(),
                RwSignal::new(v.size.clone()),
            )
        })
        .collect();
    let sizes = StoredValue::new(sizes);

    let replicas_problem = Signal::derive(move || {
        let r = replicas.get();
        (!r.trim().is_empty() && r.trim().parse::<u32>().is_err())
            .then(|| format!("`{r}` is not a whole number of replicas"))
    });
    let cpu_req_problem = Signal::derive(move || quantity_problem(&cpu_request.get(), "cpu"));
    let cpu_lim_problem = Signal::derive(move || quantity_problem(&cpu_limit.get(), "cpu"));
    let mem_req_problem = Signal::derive(move || quantity_problem(&memory_request.get(), "memory"));
    let mem_lim_problem = Signal::derive(move || quantity_problem(&memory_limit.get(), "memory"));
    let env_problem = Signal::derive(move || {
        let n = env_name.get();
        (!n.is_empty()
            && !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)))
        .then(|| format!("`{n}` is not a valid variable name"))
    });
    let size_problem = move |current: String, size: RwSignal<String>| {
        Signal::derive(move || {
            let new = size.get();
            if let Some(p) = quantity_problem(&new, "storage") {
                return Some(p);
            }
            match (
                parse_quantity(&current, "storage"),
                parse_quantity(&new, "storage"),
            ) {
                (Ok(old), Ok(n)) if n < old => Some(format!(
                    "cannot shrink from {current} to {new}; Kubernetes can only grow volumes"
                )),
                _ => None,
            }
        })
    };
    let size_problems: Vec<Signal<Option<String>>> = sizes.with_value(|v| {
        v.iter()
            .map(|(_, current, size)| size_problem(current.clone(), *size))
            .collect()
    });
    let size_problems = StoredValue::new(size_problems);
    let any_problem = move || {
        [
            replicas_problem,
            cpu_req_problem,
            cpu_lim_problem,
            mem_req_problem,
            mem_lim_problem,
            env_problem,
        ]
        .iter()
        .any(|p| p.get().is_some())
            || size_problems.with_value(|v| v.iter().any(|p| p.get().is_some()))
    };

    let spec_for_add = spec.clone();
    let id_for_add = id.clone();
    let add = move || {
        let spec = &spec_for_add;
        let component = id_for_add.clone();
        let first = spec.containers.first().cloned().unwrap_or_default();
        let mut edits = Vec::new();
        if let Ok(r) = replicas.get_untracked().trim().parse::<u32>()
            && spec.replicas != Some(r as i64)
        {
            edits.push(Edit::Replicas {
                component: component.clone(),
                replicas: r,
            });
        }
        let changed = |now: String, was: &Option<String>| {
            let now = now.trim().to_string();
            (!now.is_empty() && Some(&now) != was.as_ref()).then_some(now)
        };
        let (cr, cl, mr, ml) = (
            changed(cpu_request.get_untracked(), &first.cpu_request),
            changed(cpu_limit.get_untracked(), &first.cpu_limit),
            changed(memory_request.get_untracked(), &first.memory_request),
            changed(memory_limit.get_untracked(), &first.memory_limit),
        );
        if cr.is_some() || cl.is_some() || mr.is_some() || ml.is_some() {
            edits.push(Edit::Resources {
                component: component.clone(),
                container: None,
                cpu_request: cr,
                cpu_limit: cl,
                memory_request: mr,
                memory_limit: ml,
            });
        }
        let t = tag.get_untracked().trim().to_string();
        if !first.image.is_empty() && !t.is_empty() && t != image_tag(&first.image) {
            edits.push(Edit::Image {
                component: component.clone(),
                container: None,
                image: t,
            });
        }
        for name in removed.get_untracked() {
            edits.push(Edit::Env {
                component: component.clone(),
                container: None,
                name,
                value: EnvValue::Unset,
                secret: false,
            });
        }
        let n = env_name.get_untracked().trim().to_string();
        if !n.is_empty() {
            edits.push(Edit::Env {
                component: component.clone(),
                container: None,
                name: n,
                value: EnvValue::Value {
                    value: env_value.get_untracked(),
                },
                secret: env_secret.get_untracked(),
            });
        }
        sizes.with_value(|v| {
            for (volume, current, size) in v {
                let new = size.get_untracked().trim().to_string();
                if !new.is_empty() && &new != current {
                    edits.push(Edit::Storage {
                        component: component.clone(),
                        volume: Some(volume.clone()),
                        size: new,
                    });
                }
            }
        });
        if !edits.is_empty() {
            pending.update(|p| p.extend(edits));
            editing.set(false);
        }
    };
    let env = first.env.clone();
    let submit = add.clone();
    view! {
        <form class="card-editor" data-testid="card-editor" on:submit=move |e| { e.prevent_default(); submit() }>
            {spec.replicas.map(|_| view! { <Field label="Replicas" value=replicas testid="replicas-input" problem=replicas_problem/> })}
            {spec.scale.clone().map(|advice| { let note = advice.note.clone(); view! { <ScaleNote advice/><p class="muted field-note">{note}</p> } })}
            {(!spec.containers.is_empty()).then(|| view! {
                <div class="field-row">
                    <Field label="CPU request" value=cpu_request testid="cpu-request" problem=cpu_req_problem placeholder="500m"/>
                    <Field label="CPU limit" value=cpu_limit testid="cpu-limit" problem=cpu_lim_problem placeholder="1"/>
                </div>
                <div class="field-row">
                    <Field label="Memory request" value=memory_request testid="memory-request" problem=mem_req_problem placeholder="512Mi"/>
                    <Field label="Memory limit" value=memory_limit testid="memory-limit" problem=mem_lim_problem placeholder="1Gi"/>
                </div>
                <Field label="Image tag" value=tag testid="image-input" problem=Signal::derive(|| None)/>
                <fieldset class="env">
                    <legend>"Environment"</legend>
                    <ul class="plain">
                        {env.iter().map(|e| {
                            let name = e.name.clone();
                            let gone = { let name = name.clone(); move || removed.read().contains(&name) };
                            let shown = match (&e.value, &e.from) {
                                (Some(v), _) => v.clone(),
                                (None, Some(from)) => format!("from {from}"),
                                _ => String::new(),
                            };
                            view! {
                                <li class:removed=gone.clone() data-testid="env-var" data-name=name.clone()>
                                    <span class="mono">{name.clone()}</span>" = "<span class="mono muted">{shown}</span>
                                    <button type="button" class="icon-button" aria-label=format!("Remove {name}") data-testid="env-remove"
                                        on:click={ let name = name.clone(); move |_| removed.update(|r| if !r.contains(&name) { r.push(name.clone()) }) }>"×"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <div class="field-row">
                        <Field label="Name" value=env_name testid="env-name" problem=env_problem placeholder="FEATURE_FLAG"/>
                        <label class="field"><span>"Value"</span>
                            <input type=move || if env_secret.get() { "password" } else { "text" } prop:value=move || env_value.get()
                                data-testid="env-value" on:input=move |e| env_value.set(event_target_value(&e))/>
                        </label>
                    </div>
                    <label class="check"><input type="checkbox" data-testid="env-secret" prop:checked=move || env_secret.get()
                        on:change=move |e| env_secret.set(event_target_checked(&e))/>" Keep in a Secret"</label>
                </fieldset>
            })}
            {sizes.with_value(|v| v.iter().enumerate().map(|(i, (volume, current, size))| {
                let problem = size_problems.with_value(|p| p[i]);
                view! { <Field label=format!("Storage {volume} (now {current})") value=*size testid=format!("storage-{volume}") problem/> }
            }).collect_view())}
            <div class="dialog-actions">
                <button type="button" class="button primary" data-testid="add-to-change-set" disabled=any_problem on:click=move |_| add()>"Add to change set"</button>
            </div>
        </form>
    }
}
