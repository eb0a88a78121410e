//! How a running operation's per-object results reach history and live streams. Each result is
//! written to the revision before anyone is told of it (in order, by one writer, in batches), so
//! that after a crash the record is never behind what was shown.
//!
//! The end of the operation is written with every result anyway. So the last result an
//! operation expects is not written on its own, and neither is any result still waiting for the
//! writer when the operation ends: they go into the end's write and are told after it. A
//! one-object change costs one write fewer, and a create does not wait for its last tier's
//! results to be written before its end.

use std::sync::{
    Arc, Mutex, PoisonError,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use app::model::{ObjectResult, Progress};
use tokio::{sync::mpsc, task::JoinHandle};

use super::Service;
use crate::kube::instance_key;

/// The results of one running operation on their way to the store and to subscribers.
pub(super) struct Results {
    durable: mpsc::UnboundedSender<ObjectResult>,
    /// Set when the operation has ended: the writer then hands back what it has not written.
    ending: Arc<AtomicBool>,
    /// Returns the results it was given but did not write.
    writer: JoinHandle<Vec<ObjectResult>>,
    /// How many results the operation makes when it runs to its end.
    expected: usize,
    sent: AtomicUsize,
    /// The last expected result, kept for the end's write.
    held: Mutex<Vec<ObjectResult>>,
}

impl Results {
    /// Starts the writer of revision `revision` of `namespace/name`, which expects `expected`
    /// results (0: hold none back).
    pub fn start(
        service: &Service,
        (namespace, name): (&str, &str),
        revision: i64,
        expected: usize,
    ) -> Results {
        let (durable, mut written) = mpsc::unbounded_channel::<ObjectResult>();
        let service = service.clone();
        let (ns, name) = (namespace.to_string(), name.to_string());
        let ending = Arc::new(AtomicBool::new(false));
        let ended = ending.clone();
        let writer = tokio::spawn(async move {
            while let Some(first) = written.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = written.try_recv() {
                    batch.push(more);
                }
                if ended.load(Ordering::SeqCst) {
                    return batch;
                }
                if let Err(e) = service
                    .store
                    .record_results(&ns, &name, revision, &batch)
                    .await
                {
                    tracing::warn!(error = %e, "cannot record objects' results as they happen");
                }
                service.tell(&ns, &name, revision, batch).await;
            }
            Vec::new()
        });
        Results {
            durable,
            ending,
            writer,
            expected,
            sent: AtomicUsize::new(0),
            held: Mutex::default(),
        }
    }

    /// One result (already redacted), as it happens.
    pub fn push(&self, result: ObjectResult) {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.expected {
            self.held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(result);
        } else {
            let _ = self.durable.send(result);
        }
    }

    /// Ends the writing: waits for a write in progress, then returns every result not written
    /// (the held one, and any the writer had not started on), in order. The caller writes them
    /// with the end and tells them once that is written.
    pub async fn flush(self) -> Vec<ObjectResult> {
        self.ending.store(true, Ordering::SeqCst);
        drop(self.durable);
        let mut unwritten = self.writer.await.unwrap_or_default();
        unwritten.extend(
            self.held
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
        );
        unwritten
    }
}

impl Service {
    /// Tells the live map and subscribers about results that are written.
    pub(super) async fn tell(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        results: Vec<ObjectResult>,
    ) {
        let id = app::model::OperationInfo::id_of(namespace, name, revision);
        let instance = instance_key(namespace, name);
        for result in results {
            self.ops.push(&id, &result);
            self.announce(Progress::Object {
                instance: instance.clone(),
                revision,
                result,
            })
            .await;
        }
    }
}
