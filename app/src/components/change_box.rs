//! The change box on an instance's page: a request in plain language ("give capture 3 replicas
//! and 1Gi memory"), reached with `/` from anywhere on the page. What Berth made of it shows as
//! chips and opens the same review as card edits (a change), as buttons (a question's answers,
//! each a complete change), or as the reason with examples built from this instance (a
//! refusal). Nothing is applied until the review is confirmed. ↑ and ↓ walk earlier requests,
//! remembered in `localStorage` with every value after an `=` left out, so that no secret typed
//! here is kept.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{ApplyChange, PreviewChange, PreviewRollback, ReadIntent, Rollback, call},
    components::{
        dialog::Dialog,
        error_view::ErrorView,
        review::{Loaded, Review, previewed_base},
    },
    error::ServiceError,
    live::LiveInstance,
    model::{ChangeRequest, Edit, IntentAnswer, IntentChoice},
};

/// How many earlier requests are remembered.
const REMEMBERED: usize = 50;

/// What a confirmed review applies: edits, or a rollback to a revision.
#[derive(Debug, Clone, PartialEq)]
enum Proposal {
    Edits(Vec<Edit>),
    Rollback(i64),
}

impl Proposal {
    fn of(edits: Vec<Edit>, rollback_to: Option<i64>) -> Proposal {
        rollback_to.map_or(Proposal::Edits(edits), Proposal::Rollback)
    }

    /// One chip per edit.
    fn chips(&self) -> Vec<String> {
        match self {
            Proposal::Edits(edits) => edits.iter().map(Edit::in_words).collect(),
            Proposal::Rollback(to) => vec![format!("roll back to revision {to}")],
        }
    }
}

/// The change box, with its review dialog.
#[component]
pub fn ChangeBox(live: LiveInstance) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let text = RwSignal::new(String::new());
    let reading = RwSignal::new(false);
    let answer = RwSignal::new(None::<Result<IntentAnswer, ServiceError>>);
    let proposal = RwSignal::new(None::<Proposal>);
    let recall = Recall::new();
    let (open, preview, applying) = (
        RwSignal::new(false),
        RwSignal::new(None as Loaded),
        RwSignal::new(false),
    );
    let failure = RwSignal::new(None::<ServiceError>);
    focus_on_slash(input);

    let key = move || {
        let s = live.view.read_untracked().summary.clone();
        (s.namespace, s.name, s.revision)
    };
    // Previews a proposal against the current revision and opens the review.
    let review = move |p: Proposal| {
        let (ns, name, revision) = key();
        proposal.set(Some(p.clone()));
        preview.set(None);
        failure.set(None);
        open.set(true);
        spawn_local(async move {
            let loaded = match p {
                Proposal::Edits(edits) => {
                    call(PreviewChange {
                        namespace: ns,
                        name,
                        request: change(revision, edits, None),
                    })
                    .await
                }
                Proposal::Rollback(to) => {
                    call(PreviewRollback {
                        namespace: ns,
                        name,
                        to,
                    })
                    .await
                }
            };
            preview.set(Some(loaded));
        });
    };
    let read = move |request: String| {
        let request = request.trim().to_string();
        if request.is_empty() || reading.get_untracked() {
            return;
        }
        recall.remember(&request);
        let (ns, name, _) = key();
        reading.set(true);
        answer.set(None);
        spawn_local(async move {
            let result = call(ReadIntent {
                namespace: ns,
                name,
                text: request,
            })
            .await;
            if let Ok(IntentAnswer::Change {
                edits,
                rollback_to,
                preview: p,
                ..
            }) = &result
            {
                proposal.set(Some(Proposal::of(edits.clone(), *rollback_to)));
                preview.set(Some(Ok((**p).clone())));
                failure.set(None);
                open.set(true);
            }
            answer.set(Some(result));
            reading.set(false);
        });
    };
    let choose = Callback::new(move |c: IntentChoice| review(Proposal::of(c.edits, c.rollback_to)));
    let try_example = Callback::new(move |example: String| {
        text.set(example);
        if let Some(i) = input.get_untracked() {
            let _ = i.focus();
        }
    });
    let on_apply = Callback::new(move |hash: String| {
        let (ns, name, _) = key();
        let base = previewed_base(preview);
        let Some(p) = proposal.get_untracked() else {
            return;
        };
        applying.set(true);
        spawn_local(async move {
            let started = match p {
                Proposal::Edits(edits) => {
                    call(ApplyChange {
                        namespace: ns,
                        name,
                        request: change(base, edits, Some(hash)),
                    })
                    .await
                }
                Proposal::Rollback(to) => {
                    call(Rollback {
                        namespace: ns,
                        name,
                        to,
                        plan_hash: hash,
                    })
                    .await
                }
            };
            match started {
                Ok(op) => {
                    live.started(op.revision);
                    open.set(false);
                    answer.set(None);
                    text.set(String::new());
                }
                Err(e) => failure.set(Some(e)),
            }
            applying.set(false);
        });
    });
    let on_reload = Callback::new(move |_| {
        if let Some(p) = proposal.get_untracked() {
            review(p)
        }
    });

    view! {
        <form class="change-box" role="search" aria-label="Change box" data-testid="change-box"
            on:submit=move |e| { e.prevent_default(); read(text.get_untracked()) }>
            <label class="change-box-field">
                <input type="text" node_ref=input data-testid="change-box-input" aria-label="Describe a change" autocomplete="off" spellcheck="false"
                    maxlength="2000"
                    placeholder="Describe a change: “give capture 3 replicas and 1Gi memory”"
                    aria-keyshortcuts="/"
                    prop:value=move || text.get()
                    on:input=move |e| { text.set(event_target_value(&e)); recall.reset() }
                    on:keydown=move |e| {
                        let step = match e.key().as_str() { "ArrowUp" => 1, "ArrowDown" => -1, _ => 0 };
                        if step != 0 && let Some(earlier) = recall.step(step) {
                            e.prevent_default();
                            text.set(earlier);
                        }
                    }/>
                <kbd class="hint" aria-hidden="true">"/"</kbd>
            </label>
            <button type="submit" class="button" data-testid="change-box-read" disabled=move || reading.get() || text.read().trim().is_empty()>
                {move || if reading.get() { "Reading…" } else { "Preview" }}
            </button>
        </form>
        <div class="change-box-answer" aria-live="polite" data-testid="intent-answer">
            {move || answer.get().map(|a| match a {
                Ok(IntentAnswer::Change { summary, .. }) => view! {
                    <div class="intent-change">
                        <Chips proposal/>
                        <span class="muted">{summary}</span>
                        <button type="button" class="button small" data-testid="intent-review" on:click=move |_| open.set(true)>"Review"</button>
                    </div>
                }.into_any(),
                Ok(IntentAnswer::Question { question, choices }) => view! {
                    <Question question choices choose/>
                }.into_any(),
                Ok(IntentAnswer::Refusal { reason, examples }) => view! {
                    <Refusal reason examples try_example/>
                }.into_any(),
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
            })}
        </div>
        <Dialog open title="Review changes" testid="intent-review-dialog">
            <Chips proposal/>
            <Review preview on_apply on_reload applying failure/>
        </Dialog>
    }
}

/// The proposal's edits, one chip each.
#[component]
fn Chips(proposal: RwSignal<Option<Proposal>>) -> impl IntoView {
    view! {
        <ul class="chips plain" data-testid="intent-chips">
            {move || proposal.get().map(|p| p.chips()).unwrap_or_default().into_iter()
                .map(|c| view! { <li class="chip strong" data-testid="intent-chip">{c}</li> }).collect_view()}
        </ul>
    }
}

/// A question, with one button per answer.
#[component]
fn Question(
    question: String,
    choices: Vec<IntentChoice>,
    choose: Callback<IntentChoice>,
) -> impl IntoView {
    view! {
        <div class="intent-question" data-testid="intent-question">
            <p>{question}</p>
            <div class="chips">
                {choices.into_iter().map(|c| {
                    let label = c.label.clone();
                    view! { <button type="button" class="button small" data-testid="intent-choice" on:click=move |_| choose.run(c.clone())>{label}</button> }
                }).collect_view()}
            </div>
        </div>
    }
}

/// Why a request was refused, with requests that would work here.
#[component]
fn Refusal(reason: String, examples: Vec<String>, try_example: Callback<String>) -> impl IntoView {
    view! {
        <div class="intent-refusal" role="status" data-testid="intent-refusal">
            <p>{reason}</p>
            <p class="muted">"Try one of these:"</p>
            <div class="chips">
                {examples.into_iter().map(|x| {
                    let label = x.clone();
                    view! { <button type="button" class="button small" data-testid="intent-example" on:click=move |_| try_example.run(x.clone())>{label}</button> }
                }).collect_view()}
            </div>
        </div>
    }
}

fn change(base_revision: i64, edits: Vec<Edit>, plan_hash: Option<String>) -> ChangeRequest {
    ChangeRequest {
        base_revision,
        edits,
        plan_hash,
        force: false,
        strict: false,
        adopt: false,
    }
}

/// Moves focus to the change box when `/` is pressed outside a field and no dialog is open.
fn focus_on_slash(input: NodeRef<leptos::html::Input>) {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |e| {
            if e.key() != "/" || e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            let doc = document();
            let typing = doc.active_element().is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
            let dialog = doc.query_selector("[role=dialog]").ok().flatten().is_some();
            if let (false, false, Some(i)) = (typing, dialog, input.get_untracked()) {
                e.prevent_default();
                let _ = i.focus();
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = input;
}

/// Earlier requests, newest last, and how far back ↑ has gone.
#[derive(Clone, Copy)]
struct Recall {
    earlier: RwSignal<Vec<String>>,
    back: RwSignal<usize>,
}

impl Recall {
    fn new() -> Recall {
        let recall = Recall {
            earlier: RwSignal::new(Vec::new()),
            back: RwSignal::new(0),
        };
        // Read after hydration, so that the server's render and the browser's first agree.
        Effect::new(move |_| recall.earlier.set(stored::load()));
        recall
    }

    /// Keeps `request` (its values after `=` left out) as the newest.
    fn remember(self, request: &str) {
        let kept = without_values(request);
        self.earlier.update(|e| {
            e.retain(|x| *x != kept);
            e.push(kept);
            let extra = e.len().saturating_sub(REMEMBERED);
            e.drain(..extra);
        });
        self.back.set(0);
        self.earlier.with_untracked(|e| stored::save(e));
    }

    /// One step back (`1`, ↑) or forward (`-1`, ↓): the request there, or `None` past either
    /// end. Forward from the newest is an empty box.
    fn step(self, by: i32) -> Option<String> {
        let len = self.earlier.with_untracked(Vec::len);
        let at = self.back.get_untracked() as i64 + i64::from(by);
        if at < 0 || at as usize > len {
            return None;
        }
        self.back.set(at as usize);
        Some(match at as usize {
            0 => String::new(),
            n => self.earlier.with_untracked(|e| e[len - n].clone()),
        })
    }

    /// Typing starts from the newest again.
    fn reset(self) {
        self.back.set(0);
    }
}

/// `request` with every value after an `=` replaced by `…` ("add API_KEY=… to web").
fn without_values(request: &str) -> String {
    let mut out = String::with_capacity(request.len());
    let mut chars = request.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '=' {
            continue;
        }
        out.push('…');
        let quote = chars.next_if(|q| *q == '"' || *q == '\'');
        let in_value = |v: &char| match quote {
            Some(q) => *v != q,
            None => !v.is_whitespace() && *v != ',' && *v != ';',
        };
        while chars.next_if(in_value).is_some() {}
        if let Some(q) = quote {
            chars.next_if(|v| *v == q);
        }
    }
    out
}

#[cfg(feature = "hydrate")]
mod stored {
    use leptos::prelude::window;

    const KEY: &str = "berth-intents";

    pub fn load() -> Vec<String> {
        window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    pub fn save(earlier: &[String]) {
        if let (Ok(Some(s)), Ok(json)) = (window().local_storage(), serde_json::to_string(earlier))
        {
            let _ = s.set_item(KEY, &json);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod stored {
    pub fn load() -> Vec<String> {
        Vec::new()
    }

    pub fn save(_: &[String]) {}
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn values_after_equals_are_not_remembered() {
        assert_eq!(
            without_values("add secret API_KEY=s3cr3t to web"),
            "add secret API_KEY=… to web"
        );
        assert_eq!(
            without_values("add A=\"x y\", B=z; scale web to 2"),
            "add A=…, B=…; scale web to 2"
        );
        assert_eq!(without_values("scale web to 2"), "scale web to 2");
        assert_eq!(without_values("X='unterminated"), "X=…");
    }
}
