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
                    self.settle_unseen_end();
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
                        // The stream subscribes before it reads the view it starts with, so
                        // a result may come both in that view and as an event.
                        match current
                            .results
                            .iter_mut()
                            .find(|r| r.object == result.object)
                        {
                            Some(seen) => *seen = result,
                            None => current.results.push(result),
                        }
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

    /// Shows how an operation ended that this page never saw end: one it was opened for that
    /// ended before the page loaded, or one it shows as running whose `finished` event it missed.
    /// An operation the page already shows as ended, or another revision's, is left as it is.
    fn ended(&self, revision: i64, status: OperationStatus, message: String) {
        self.operation.update(|op| match op {
            None => {
                *op = Some(Running {
                    revision,
                    results: Vec::new(),
                    finished: Some((status, message)),
                })
            }
            Some(op) if op.revision == revision && op.finished.is_none() => {
                op.finished = Some((status, message));
            }
            Some(_) => {}
        });
    }

    /// Reads from the history how revision `revision`'s operation ended, and shows it; nothing
    /// changes while it is still running (or when the history cannot be read).
    pub async fn read_end(self, revision: i64) {
        let (namespace, name) = {
            let v = self.view.read_untracked();
            (v.summary.namespace.clone(), v.summary.name.clone())
        };
        let Ok(revisions) = crate::api::call(crate::api::ListRevisions { namespace, name }).await
        else {
            return;
        };
        if let Some(r) = revisions.into_iter().find(|r| r.number == revision)
            && r.status != OperationStatus::Running
        {
            self.ended(revision, r.status, r.message);
        }
    }

    /// After a `health` event: an operation shown as running that the instance no longer runs
    /// ended without this page seeing its `finished` event. That happens when it ended after the
    /// page was rendered but before its stream subscribed, or while the stream was reconnecting.
    /// The history says how it ended.
    fn settle_unseen_end(&self) {
        let shown = self
            .operation
            .read_untracked()
            .as_ref()
            .filter(|op| op.finished.is_none())
            .map(|op| op.revision);
        let running = self
            .view
            .read_untracked()
            .running
            .as_ref()
            .map(|op| op.revision);
        if let Some(revision) = shown
            && running != Some(revision)
        {
            leptos::task::spawn_local(self.read_end(revision));
        }
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

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use serde_json::{Value, json};

    use super::LiveInstance;
    use crate::model::{InstanceView, OperationStatus};

    fn result(name: &str) -> Value {
        json!({"object": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "action": "created"})
    }

    /// The instance as the page loaded it, with revision 2 running and `web` applied so far.
    fn loaded() -> InstanceView {
        serde_json::from_value(json!({
            "namespace": "ns", "name": "ph", "template": "posthog", "revision": 1,
            "createdAt": "2026-11-26T00:00:00Z", "createdBy": "t", "deletedAt": null,
            "health": {"state": "Progressing", "reason": ""}, "components": [],
            "running": {"id": "ns/ph/2", "namespace": "ns", "name": "ph", "revision": 2,
                        "status": "running", "message": "", "results": [result("web")]}
        }))
        .expect("an instance view")
    }

    fn object(name: &str) -> String {
        json!({"type": "object", "instance": "ns/ph", "revision": 2, "result": result(name)})
            .to_string()
    }

    #[test]
    fn a_result_both_in_the_loaded_view_and_on_the_stream_counts_once() {
        let owner = Owner::new();
        owner.set();
        let live = LiveInstance::follow(loaded());
        live.apply("progress", &object("web"));
        live.apply("progress", &object("worker"));
        let finished = json!({"type": "finished", "instance": "ns/ph", "revision": 2,
                              "status": "succeeded", "message": "applied 2 objects"});
        live.apply("finished", &finished.to_string());
        let op = live.operation.get_untracked().expect("the operation");
        let names: Vec<_> = op.results.iter().map(|r| r.object.name.as_str()).collect();
        assert_eq!(names, ["web", "worker"]);
        assert_eq!(
            op.finished,
            Some((OperationStatus::Succeeded, "applied 2 objects".to_string()))
        );
    }

    #[test]
    fn an_end_read_from_the_history_finishes_only_the_operation_shown_running() {
        let owner = Owner::new();
        owner.set();
        let live = LiveInstance::follow(loaded());
        live.ended(3, OperationStatus::Failed, "another revision".into());
        assert_eq!(
            live.operation.get_untracked().expect("shown").finished,
            None
        );
        live.ended(2, OperationStatus::Succeeded, "done".into());
        live.ended(2, OperationStatus::Failed, "read again, later".into());
        let op = live.operation.get_untracked().expect("shown");
        assert_eq!((op.revision, op.results.len()), (2, 1));
        assert_eq!(
            op.finished,
            Some((OperationStatus::Succeeded, "done".into()))
        );
    }
}
