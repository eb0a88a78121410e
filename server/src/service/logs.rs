//! What an operator reads beside a card: the Kubernetes Events of an instance's objects (kept by
//! [`crate::health::events`]), and the logs of a component's pods, read through the apiserver's
//! `pods/log` and streamed line by line. Every line and message passes the instance's redactor,
//! so a secret that Berth knows never leaves. A stream holds at most [`QUEUE`] lines of at most
//! [`MAX_LINE`] bytes, and stops when its reader goes away.

use app::model::{KubeEventList, PodBrief};
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::LogParams};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use app::service::BoxStream;

use super::{Error, Result, Service, redact};
use crate::health::events::KEEP;

/// Lines queued for a slow reader before reading the pod's log waits.
const QUEUE: usize = 256;
/// A longer line is cut there (and says so).
pub const MAX_LINE: usize = 8 * 1024;
/// The most lines a request may ask for from the end of the log.
pub const MAX_TAIL: i64 = 10_000;

/// Which log to read, and how much of it.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// The component.
    pub component: String,
    /// One of its pods (its first pod when not given).
    pub pod: Option<String>,
    /// One of the pod's containers (its first app container when not given).
    pub container: Option<String>,
    /// Lines from the end (200 when neither this nor `since_seconds` is given).
    pub tail_lines: Option<i64>,
    /// Only lines from the last this many seconds.
    pub since_seconds: Option<i64>,
    /// Keep following new lines.
    pub follow: bool,
}

/// One item of a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogItem {
    /// The pod and container being read.
    Source { pod: String, container: String },
    /// One line, redacted.
    Line(String),
    /// The cluster serves no log for it, and why (in the apiserver's words, redacted).
    Unavailable(String),
    /// The log ended (the container stopped, or `follow` was not asked for).
    End,
}

impl Service {
    /// The kept Events of an instance (of one component, when given), newest first.
    pub async fn k8s_events(
        &self,
        namespace: &str,
        name: &str,
        component: Option<&str>,
    ) -> Result<KubeEventList> {
        let (_, state) = self.current(namespace, name).await?;
        if let Some(c) = component {
            self.component_of(namespace, name, c).await?;
        }
        let Some(events) = &self.events else {
            return Err(Error::NoCluster("no cluster configured".into()));
        };
        events.need(namespace);
        let redactor = self.redactor(&state);
        let items = events
            .of_instance(namespace, name)
            .into_iter()
            .filter(|e| component.is_none_or(|c| e.component == c))
            .map(|mut e| {
                e.message = redact::message(&redactor, &e.message);
                e
            })
            .collect();
        Ok(KubeEventList {
            items,
            kept_seconds: KEEP.as_secs(),
        })
    }

    /// The pods of one of the instance's components (404 for a component it does not have).
    async fn component_of(&self, namespace: &str, name: &str, id: &str) -> Result<Vec<PodBrief>> {
        let view = self.get(namespace, name).await?;
        view.components
            .into_iter()
            .find(|c| c.component.id == id)
            .map(|c| c.pods)
            .ok_or_else(|| {
                Error::NotFound(format!("component {id:?} of instance {namespace}/{name}"))
            })
    }

    /// A component's pod log as a stream of lines: the source first, then the lines, then
    /// [`LogItem::End`] or [`LogItem::Unavailable`].
    pub async fn logs(
        &self,
        namespace: &str,
        name: &str,
        q: LogQuery,
    ) -> Result<BoxStream<LogItem>> {
        if q.tail_lines.is_some_and(|t| !(1..=MAX_TAIL).contains(&t)) {
            return Err(Error::Invalid(format!(
                "tailLines must be from 1 to {MAX_TAIL}"
            )));
        }
        if q.since_seconds.is_some_and(|s| s < 1) {
            return Err(Error::Invalid("sinceSeconds must be at least 1".into()));
        }
        let (_, state) = self.current(namespace, name).await?;
        let pods = self.component_of(namespace, name, &q.component).await?;
        let pod = match &q.pod {
            Some(p) => pods.iter().find(|b| &b.name == p).ok_or_else(|| {
                Error::NotFound(format!("pod {p:?} of component {}", q.component))
            })?,
            None => pods
                .first()
                .ok_or_else(|| Error::NotFound(format!("component {} has no pods", q.component)))?,
        };
        let container = match &q.container {
            Some(c) if pod.containers.contains(c) => c.clone(),
            Some(c) => {
                return Err(Error::NotFound(format!(
                    "container {c:?} of pod {} (it has {})",
                    pod.name,
                    pod.containers.join(", ")
                )));
            }
            // The first app container: init containers are listed first.
            None => pod.containers.last().cloned().unwrap_or_default(),
        };
        let Some(client) = self.cluster.watch_client() else {
            return Err(Error::NoCluster("no cluster configured".into()));
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let params = LogParams {
            container: Some(container.clone()),
            follow: q.follow,
            tail_lines: q.tail_lines.or((q.since_seconds.is_none()).then_some(200)),
            since_seconds: q.since_seconds,
            ..LogParams::default()
        };
        let redactor = self.redactor(&state);
        let (tx, rx) = mpsc::channel(QUEUE);
        let pod = pod.name.clone();
        tokio::spawn(async move {
            let source = LogItem::Source {
                pod: pod.clone(),
                container,
            };
            if tx.send(source).await.is_err() {
                return;
            }
            let reader = match api.log_stream(&pod, &params).await {
                Ok(r) => r,
                Err(e) => {
                    let why = redact::message(&redactor, &unavailable(&e));
                    let _ = tx.send(LogItem::Unavailable(why)).await;
                    return;
                }
            };
            let mut lines = reader.lines();
            loop {
                tokio::select! {
                    line = lines.next() => match line {
                        Some(Ok(l)) => {
                            let shown = redact::message(&redactor, &cut(l));
                            if tx.send(LogItem::Line(shown)).await.is_err() { return; }
                        }
                        Some(Err(e)) => {
                            let why = redact::message(&redactor, &e.to_string());
                            let _ = tx.send(LogItem::Unavailable(why)).await;
                            return;
                        }
                        None => { let _ = tx.send(LogItem::End).await; return; }
                    },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

/// A line cut to [`MAX_LINE`] bytes (at a character boundary).
fn cut(mut line: String) -> String {
    if line.len() > MAX_LINE {
        let mut end = MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push_str(" …(cut)");
    }
    line
}

/// Why the cluster gave no log, in the apiserver's words.
fn unavailable(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("the cluster provides no logs for it: {}", s.message),
        other => format!("the cluster provides no logs for it: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_at_a_character_boundary() {
        let line = "é".repeat(MAX_LINE);
        let shown = cut(line);
        assert!(shown.ends_with(" …(cut)"));
        assert!(shown.len() <= MAX_LINE + " …(cut)".len());
        assert_eq!(cut("short".into()), "short");
    }
}
