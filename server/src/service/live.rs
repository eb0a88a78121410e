//! The live-update stream of one instance: its health at once, then a fresh view whenever its
//! live objects change (a burst of watch events settles into one update) or one of its
//! operations ends, and every step of its operations. The SSE endpoint and the UI read the same
//! stream.

use std::time::Duration;

use app::{
    model::Progress,
    service::{BoxStream, LiveEvent},
};
use tokio::sync::{broadcast::error::RecvError, mpsc};
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
    /// Live updates about one instance, until the stream is dropped.
    pub async fn watch(&self, namespace: &str, name: &str) -> Result<BoxStream<LiveEvent>> {
        let first = self.get(namespace, name).await?;
        let (tx, rx) = mpsc::channel::<LiveEvent>(64);
        let service = self.clone();
        let (namespace, name) = (namespace.to_string(), name.to_string());
        let instance = instance_key(&namespace, &name);
        let mut progress = self.ops.subscribe();
        let mut changes = self.subscribe_changes();
        tokio::spawn(async move {
            let mut last = first.clone();
            if !deliver(&tx, LiveEvent::Health(Box::new(first))).await {
                return;
            }
            loop {
                let changed = async {
                    match changes.as_mut() {
                        Some(c) => c.recv().await.ok(),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    p = progress.recv() => match p {
                        Ok(p) if p.instance() == instance => {
                            let finished = matches!(p, Progress::Finished { .. });
                            if !deliver(&tx, LiveEvent::Progress(p)).await { return; }
                            // The end of an operation changes the recorded instance (its
                            // revision, or what did not finish), which no watch reports.
                            if finished && let Ok(view) = service.get(&namespace, &name).await
                                && view != last
                            {
                                last = view.clone();
                                if !deliver(&tx, LiveEvent::Health(Box::new(view))).await { return; }
                            }
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                    c = changed => {
                        if c.as_deref() != Some(instance.as_str()) { continue; }
                        tokio::time::sleep(SETTLE).await;
                        let Ok(view) = service.get(&namespace, &name).await else { continue };
                        if view != last {
                            last = view.clone();
                            if !deliver(&tx, LiveEvent::Health(Box::new(view))).await { return; }
                        }
                    }
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}
