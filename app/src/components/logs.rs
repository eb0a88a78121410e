//! A pod's log, live: the component's pods and containers to choose from, how much of the end to
//! read (the last lines, or since a time), and whether to follow. Lines arrive over the REST API's log stream
//! (`.../logs?follow=true`, Server-Sent Events) and at most [`MAX_LINES`] are kept. While the
//! reader scrolls up the view stays put and a "paused (N new lines)" marker counts what arrived;
//! it resumes at the bottom. When the cluster serves no log, it says so and why; when the
//! connection drops, it says so until the browser has opened the stream again.

use leptos::prelude::*;

use crate::model::PodBrief;

/// The most lines the viewer keeps (the oldest go first).
pub const MAX_LINES: usize = 2000;

/// Where the stream is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LogState {
    /// Opening it.
    #[default]
    Connecting,
    /// Reading this pod's container.
    Reading(String, String),
    /// The connection dropped; the browser is opening it again.
    Reconnecting,
    /// Berth refused to reopen it, so the browser gave up.
    Refused,
    /// The log ended.
    Ended,
    /// The cluster provides no log for it, and why.
    Unavailable(String),
}

/// What the viewer shows, updated by the stream.
#[derive(Clone, Copy)]
pub struct LogLines {
    pub lines: RwSignal<Vec<String>>,
    pub state: RwSignal<LogState>,
    /// Lines that arrived while the reader was scrolled up.
    pub unseen: RwSignal<usize>,
    pub paused: RwSignal<bool>,
}

impl LogLines {
    fn new() -> LogLines {
        LogLines {
            lines: RwSignal::new(Vec::new()),
            state: RwSignal::new(LogState::Connecting),
            unseen: RwSignal::new(0),
            paused: RwSignal::new(false),
        }
    }

    /// Applies one event of the stream.
    pub fn apply(&self, event: &str, data: &str) {
        match event {
            "source" => {
                let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                self.state
                    .set(LogState::Reading(field("pod"), field("container")));
            }
            "line" => {
                self.lines.update(|l| {
                    l.push(data.to_string());
                    if l.len() > MAX_LINES {
                        l.drain(..l.len() - MAX_LINES);
                    }
                });
                if self.paused.get_untracked() {
                    self.unseen.update(|n| *n += 1);
                }
            }
            "end" => self.state.set(LogState::Ended),
            "unavailable" => self.state.set(LogState::Unavailable(data.to_string())),
            _ => {}
        }
    }
}

/// The log viewer of one component.
#[component]
pub fn LogViewer(
    namespace: String,
    name: String,
    component: String,
    pods: Signal<Vec<PodBrief>>,
) -> impl IntoView {
    let pod = RwSignal::new(
        pods.get_untracked()
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    );
    let containers = move || {
        pods.read()
            .iter()
            .find(|p| p.name == pod.get())
            .map(|p| p.containers.clone())
            .unwrap_or_default()
    };
    let container = RwSignal::new(String::new());
    let tail = RwSignal::new("200".to_string());
    // Seconds, or empty for "the last lines".
    let since = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    let out = LogLines::new();
    let area = NodeRef::<leptos::html::Div>::new();
    let url = move || {
        let p = pod.get();
        (!p.is_empty()).then(|| {
            let window = match since.get() {
                s if s.is_empty() => format!("tailLines={}", tail.get()),
                s => format!("sinceSeconds={s}"),
            };
            let mut u = format!(
                "/api/v1/instances/{namespace}/{name}/logs?component={component}&pod={p}&{window}&follow={}",
                follow.get()
            );
            let c = container.get();
            if !c.is_empty() {
                u.push_str(&format!("&container={c}"));
            }
            u
        })
    };
    #[cfg(feature = "hydrate")]
    browser::stream(Signal::derive(url), out, area);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, area);
    let show_paused = move || out.paused.get() && out.unseen.get() != 0;
    let to_bottom = move || {
        if let Some(a) = area.get() {
            a.set_scroll_top(a.scroll_height());
            // The marker goes away: focus stays in the dialog, on the lines.
            let _ = a.focus();
        }
        out.paused.set(false);
        out.unseen.set(0);
    };
    view! {
        <div class="log-controls">
            <label class="field"><span>"Pod"</span>
                <select data-testid="log-pod" on:change=move |e| { pod.set(event_target_value(&e)); container.set(String::new()) }>
                    {move || pods.get().into_iter().map(|p| {
                        let selected = p.name == pod.get_untracked();
                        let label = format!("{} ({}{})", p.name, p.phase, if p.ready { ", ready" } else { "" });
                        view! { <option value=p.name.clone() selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"Container"</span>
                <select data-testid="log-container" on:change=move |e| container.set(event_target_value(&e))>
                    <option value="">"(its app container)"</option>
                    {move || containers().into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"From"</span>
                <select data-testid="log-since" on:change=move |e| since.set(event_target_value(&e))>
                    {[("", "the last lines"), ("300", "5 minutes ago"), ("3600", "an hour ago"), ("86400", "a day ago")]
                        .into_iter().map(|(v, label)| view! { <option value=v>{label}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"Last lines"</span>
                <select data-testid="log-tail" disabled=move || !since.read().is_empty() on:change=move |e| tail.set(event_target_value(&e))>
                    {["100", "200", "1000", "5000"].into_iter().map(|n| view! { <option value=n selected=n == "200">{n}</option> }).collect_view()}
                </select>
            </label>
            <label class="check"><input type="checkbox" data-testid="log-follow" prop:checked=move || follow.get()
                on:change=move |e| follow.set(event_target_checked(&e))/>" Follow"</label>
        </div>
        <p class="log-state muted" role="status" data-testid="log-state">{move || match out.state.get() {
            LogState::Connecting => "Connecting…".to_string(),
            LogState::Reading(p, c) => format!("{p} · {c}{}", if follow.get() { " · following" } else { "" }),
            LogState::Reconnecting => "Connection lost; reconnecting…".to_string(),
            LogState::Refused => "Berth refused the log stream. Sign in again, or reload the page.".to_string(),
            LogState::Ended => "End of the log.".to_string(),
            LogState::Unavailable(why) => format!("This cluster provides no logs for this pod ({why})."),
        }}</p>
        <div class="log-box">
            <div class="log-lines mono" node_ref=area data-testid="log-lines" tabindex="0" aria-label="Log lines"
                on:scroll=move |_| if let Some(a) = area.get() {
                    let bottom = a.scroll_top() + a.client_height() >= a.scroll_height() - 4;
                    out.paused.set(!bottom);
                    if bottom { out.unseen.set(0) }
                }>
                {move || out.lines.get().into_iter().map(|l| view! { <div class="log-line">{l}</div> }).collect_view()}
            </div>
            <Show when=show_paused>
                <button type="button" class="button small log-paused" data-testid="log-paused" on:click=move |_| to_bottom()>
                    {move || format!("paused ({} new lines) · jump to the end", out.unseen.get())}
                </button>
            </Show>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    use super::{LogLines, LogState};

    /// The open stream and the handlers it calls.
    type Open = (
        EventSource,
        Vec<Closure<dyn FnMut(MessageEvent)>>,
        [Closure<dyn FnMut()>; 2],
    );

    /// Opens the stream at `url` whenever it changes (closing the one before), until the viewer
    /// goes away. An ended stream is closed, so that `EventSource` does not reopen it. A stream
    /// that dropped and reopened by itself sends its window of the log again, so the lines start
    /// over rather than show twice.
    pub fn stream(url: Signal<Option<String>>, out: LogLines, area: NodeRef<leptos::html::Div>) {
        let current = StoredValue::new_local(None::<Open>);
        let close = move || {
            current.update_value(|c| {
                if let Some((s, _, _)) = c.take() {
                    s.close();
                }
            })
        };
        Effect::new(move |_| {
            close();
            out.lines.set(Vec::new());
            out.unseen.set(0);
            out.paused.set(false);
            out.state.set(LogState::Connecting);
            let Some(u) = url.get() else { return };
            let Ok(source) = EventSource::new(&u) else {
                out.state.set(LogState::Unavailable(
                    "the browser could not open the stream".into(),
                ));
                return;
            };
            let mut keep = Vec::new();
            for event in ["source", "line", "end", "unavailable"] {
                let s = source.clone();
                let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                    let data = e.data().as_string().unwrap_or_default();
                    out.apply(event, &data);
                    if matches!(event, "end" | "unavailable") {
                        s.close();
                    }
                    if event == "line" && !out.paused.get_untracked() {
                        // Asked again when the frame comes: a reader who scrolled up since the
                        // line arrived stays where they are.
                        let follow = move || {
                            if out.paused.get_untracked() {
                                return;
                            }
                            if let Some(a) = area.get_untracked() {
                                a.set_scroll_top(a.scroll_height());
                            }
                        };
                        if request_animation_frame(follow).is_err() {
                            follow();
                        }
                    }
                });
                let _ = source
                    .add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
                keep.push(handler);
            }
            let mut opened = false;
            let on_open = Closure::<dyn FnMut()>::new(move || {
                if std::mem::replace(&mut opened, true) {
                    out.lines.set(Vec::new());
                    out.unseen.set(0);
                }
            });
            // After an error the browser either opens the stream again or, when Berth refused
            // it, gives up.
            let s = source.clone();
            let on_error = Closure::<dyn FnMut()>::new(move || {
                out.state.set(match s.ready_state() {
                    EventSource::CONNECTING => LogState::Reconnecting,
                    _ => LogState::Refused,
                })
            });
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            current.set_value(Some((source, keep, [on_open, on_error])));
        });
        on_cleanup(close);
    }
}
