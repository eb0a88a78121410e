//! The live-update stream of one instance: its health at once, then a fresh view whenever its
//! live objects change (a burst of watch events settles into one update) or one of its
//! operations ends, every step of its operations, and each new Kubernetes Event about its
//! objects. The SSE endpoint and the UI read the same stream.

use std::time::Duration;

use app::{
    model::Progress,
    service::{BoxStream, LiveEvent},
};
use tokio::sync::{
    broadcast::error::{RecvError, TryRecvError},
    mpsc,
};
use tokio_stream::wrappers::ReceiverStream;

use super::{Result, Service};
use crate::kube::instance_key;

/// How long a burst of watch events may settle before the view is read again.
const SETTLE: Duration = Duration::from_millis(150);
/// How long a subscriber may leave its queue full before it is dropped.
const SLOW_READER: Duration = Duration::from_secs(30);

/// Queues `event` for the subscriber; false once it is gone or has stopped reading (its queue
/// stayed full for [`SLOW_READER`]), when the stream ends so that it holds nothing more.
async fn deliver(tx: &mpsc::Sender<LiveEvent>, event: LiveEvent) -> bool {
    matches!(
        tokio::time::timeout(SLOW_READER, tx.send(event)).await,
        Ok(Ok(()))
    )
}

impl Service {
    /// Reads the instance again and queues its view if it differs from `last`; false once the
    /// subscriber is gone.
    async fn send_fresh(
        &self,
        namespace: &str,
        name: &str,
        last: &mut app::model::InstanceView,
        tx: &mpsc::Sender<LiveEvent>,
    ) -> bool {
        match self.get(namespace, name).await {
            Ok(view) if view != *last => {
                *last = view.clone();
                deliver(tx, LiveEvent::Health(Box::new(view))).await
            }
            _ => true,
        }
    }

    /// The current revision's redactor, for the Events pushed on the stream (`None` for a
    /// deleted instance, whose Events are not pushed).
    async fn live_redactor(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<crate::manifest::Redactor> {
        let (_, state) = self.current(namespace, name).await.ok()?;
        Some(self.redactor(&state))
    }

    /// Live updates about one instance, until the stream is dropped.
    pub async fn watch(&self, namespace: &str, name: &str) -> Result<BoxStream<LiveEvent>> {
        // Subscribed before the first read: whatever happens after that read (an operation's
        // end, say) reaches the stream, rather than falling between the read and the subscription.
        let mut progress = self.ops.subscribe();
        let mut changes = self.subscribe_changes();
        let mut kube_events = self.events.as_ref().map(|e| e.subscribe());
        let first = self.get(namespace, name).await?;
        let (tx, rx) = mpsc::channel::<LiveEvent>(64);
        let service = self.clone();
        let (namespace, name) = (namespace.to_string(), name.to_string());
        let instance = instance_key(&namespace, &name);
        // A deleted instance has no Events to show, and no redactor.
        let mut redactor = self.live_redactor(&namespace, &name).await;
        tokio::spawn(async move {
            let mut last = first.clone();
            if !deliver(&tx, LiveEvent::Health(Box::new(first))).await {
                return;
            }
            loop {
                // Whether this instance may have changed: it was announced, or announcements
                // were lost because this stream fell behind (then it reads the view anyway).
                let changed = async {
                    match changes.as_mut() {
                        Some(c) => match c.recv().await {
                            Ok(key) => key == instance,
                            Err(RecvError::Lagged(_)) => true,
                            Err(RecvError::Closed) => std::future::pending().await,
                        },
                        None => std::future::pending().await,
                    }
                };
                let kube_event = async {
                    match kube_events.as_mut().filter(|_| redactor.is_some()) {
                        Some(k) => match k.recv().await {
                            Ok((key, e)) if key == instance => Some(e),
                            Ok(_) | Err(RecvError::Lagged(_)) => None,
                            Err(RecvError::Closed) => std::future::pending().await,
                        },
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    Some(mut e) = kube_event => {
                        if let Some(r) = &redactor {
                            e.message = super::redact::message(r, &e.message);
                        }
                        if !deliver(&tx, LiveEvent::KubeEvent(e)).await { return; }
                    }
                    p = progress.recv() => match p {
                        Ok(p) if p.instance() == instance => {
                            let finished = matches!(p, Progress::Finished { .. });
                            if !deliver(&tx, LiveEvent::Progress(p)).await { return; }
                            // The end of an operation changes the recorded instance (its
                            // revision, or what did not finish), which no watch reports.
                            if finished {
                                // A new revision may hold new secrets to hide.
                                redactor = service.live_redactor(&namespace, &name).await;
                                if !service.send_fresh(&namespace, &name, &mut last, &tx).await {
                                    return;
                                }
                            }
                        }
                        Ok(_) => {}
                        // Steps were lost: the view says where the operation got to.
                        Err(RecvError::Lagged(_)) => {
                            if !service.send_fresh(&namespace, &name, &mut last, &tx).await { return; }
                        }
                        Err(RecvError::Closed) => return,
                    },
                    mine = changed => {
                        if !mine { continue; }
                        tokio::time::sleep(SETTLE).await;
                        // What was announced meanwhile is covered by the read below.
                        if let Some(c) = changes.as_mut() {
                            while !matches!(c.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
                        }
                        if !service.send_fresh(&namespace, &name, &mut last, &tx).await { return; }
                    }
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}
