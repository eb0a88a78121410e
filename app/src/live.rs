//! Live updates of one instance in the browser: its SSE stream (`.../events`), read with the
//! browser's `EventSource`, which reconnects by itself. `health` replaces the instance view,
//! `progress` adds an object's result, `finished` ends an operation, `k8s-event` adds a
//! Kubernetes Event. Nothing is polled. On the
//! server (SSR) this does nothing: the page renders what it loaded.

use leptos::prelude::*;

use crate::model::{InstanceView, KubeEvent, ObjectResult, OperationStatus, Progress};

/// The most pushed Kubernetes Events a page keeps.
pub const KEPT_EVENTS: usize = 200;

/// An operation seen on the stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Running {
    /// The revision it applies.
    pub revision: i64,
    /// The objects applied so far, in order.
    pub results: Vec<ObjectResult>,
    /// How it ended, once it has.
    pub finished: Option<(OperationStatus, String)>,
}

/// The signals the stream keeps up to date.
#[derive(Clone, Copy)]
pub struct LiveInstance {
    /// The instance as last reported.
    pub view: RwSignal<InstanceView>,
    /// The operation in progress (or the last one), if any.
    pub operation: RwSignal<Option<Running>>,
    /// Whether the stream is open (false while it reconnects).
    pub connected: RwSignal<bool>,
    /// Whether the browser gave up on the stream because Berth refused to reopen it (a session
    /// that ended while Berth was away, say): then only a reload brings live updates back.
    pub refused: RwSignal<bool>,
    /// Kubernetes Events pushed since the page opened, newest first.
    pub events: RwSignal<Vec<KubeEvent>>,
}

impl LiveInstance {
    /// Starts from `initial` and, in the browser, follows the instance's stream until the page
    /// is left.
    pub fn follow(initial: InstanceView) -> LiveInstance {
        // An operation already running when the page opened shows from its results so far.
        let running = initial.running.as_ref().map(|op| Running {
            revision: op.revision,
            results: op.results.clone(),
            finished: None,
        });
        let live = LiveInstance {
            view: RwSignal::new(initial),
            operation: RwSignal::new(running),
            connected: RwSignal::new(true),
            refused: RwSignal::new(false),
            events: RwSignal::new(Vec::new()),
        };
        #[cfg(feature = "hydrate")]
        browser::open(live);
        live
    }

    /// Applies one event of the stream.
    pub fn apply(&self, event: &str, data: &str) {
        match event {
            "health" => {
                if let Ok(view) = serde_json::from_str::<InstanceView>(data) {
                    self.view.set(view);
                }
            }
            "progress" | "finished" => {
                let Ok(progress) = serde_json::from_str::<Progress>(data) else {
                    return;
                };
                self.operation.update(|op| match progress {
                    Progress::Object {
                        revision, result, ..
                    } => {
                        let current = op.get_or_insert_with(Running::default);
                        if current.revision != revision || current.finished.is_some() {
                            *current = Running {
                                revision,
                                ..Running::default()
                            };
                        }
                        current.results.push(result);
                    }
                    Progress::Finished {
                        revision,
                        status,
                        message,
                        ..
                    } => {
                        let current = op.get_or_insert_with(Running::default);
                        if current.revision != revision {
                            *current = Running {
                                revision,
                                ..Running::default()
                            };
                        }
                        current.finished = Some((status, message));
                    }
                });
            }
            "k8s-event" => {
                if let Ok(e) = serde_json::from_str::<KubeEvent>(data) {
                    self.events.update(|list| {
                        list.retain(|k| !(k.object == e.object && k.reason == e.reason));
                        list.insert(0, e);
                        list.truncate(KEPT_EVENTS);
                    });
                }
            }
            _ => {}
        }
    }

    /// Shows how an operation ended that this page was opened for but never saw running (it
    /// ended before the page loaded). An operation the page already shows is left as it is.
    pub fn ended(&self, revision: i64, status: OperationStatus, message: String) {
        self.operation.update(|op| {
            if op.is_none() {
                *op = Some(Running {
                    revision,
                    results: Vec::new(),
                    finished: Some((status, message)),
                });
            }
        });
    }

    /// Marks the start of an operation this page launched (before its first event arrives).
    pub fn started(&self, revision: i64) {
        self.operation.set(Some(Running {
            revision,
            ..Running::default()
        }));
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    use super::LiveInstance;

    pub fn open(live: LiveInstance) {
        let view = live.view.get_untracked();
        let url = format!(
            "/api/v1/instances/{}/{}/events",
            view.summary.namespace, view.summary.name
        );
        let Ok(source) = EventSource::new(&url) else {
            live.connected.set(false);
            return;
        };
        let mut keep = Vec::new();
        for event in ["health", "progress", "finished", "k8s-event"] {
            let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if let Some(data) = e.data().as_string() {
                    live.apply(event, &data);
                }
            });
            let _ =
                source.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
            keep.push(handler);
        }
        let on_open = Closure::<dyn FnMut()>::new(move || live.connected.set(true));
        let s = source.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            live.connected.set(false);
            live.refused.set(s.ready_state() == EventSource::CLOSED);
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let source = send_wrapper::SendWrapper::new(source);
        let closures = send_wrapper::SendWrapper::new((keep, on_open, on_error));
        on_cleanup(move || {
            source.close();
            drop(closures);
        });
    }
}
