//! How an operation's end is recorded: its outcome, retried for a while when the database cannot
//! take writes (a full disk), or, when its task panicked, a failure, so that no revision is left
//! `running` by a live Berth. The health the operation left its instance in follows the end.

use std::sync::Arc;

use app::model::{OperationInfo, OperationStatus};

use super::Service;
use crate::store::{Outcome, RevisionState};

/// How many times (a second apart) the end of an operation is retried on a database that
/// cannot take writes.
const END_RETRIES: u32 = 10;

/// How long after an operation's end the health it left is read: its answer goes out first.
const HEALTH_AFTER: std::time::Duration = std::time::Duration::from_millis(20);

impl Service {
    /// A task that panicked: its revision is failed, never left running.
    pub(super) async fn panicked(&self, mut info: OperationInfo, why: &str) -> OperationInfo {
        tracing::error!(operation = %info.id, error = why, "an operation panicked");
        info.status = OperationStatus::Failed;
        info.message = "Berth failed while running this operation; see the server log".into();
        let outcome = Outcome {
            status: info.status,
            message: &info.message,
            results: &info.results,
        };
        if let Err(e) = self
            .store
            .finish_revision(&info.namespace, &info.name, info.revision, &outcome)
            .await
        {
            tracing::error!(error = %e, "cannot record the end of an operation");
        }
        self.ops.remove(&info.id);
        info
    }

    /// Reads the health an ended operation left its instance in, from the caches, and records it
    /// on its revision, in a task of its own that starts [`HEALTH_AFTER`] later: the operation
    /// answers without waiting for it. For a one-object change, reading every component's health
    /// took 1.5-2 ms, as long as the rest of Berth's own part; started at once, on two cores it
    /// still held the answer back by as much. History shows it a moment after the end.
    pub(super) fn record_health_later(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        state: &Arc<RevisionState>,
    ) {
        let (service, state) = (self.clone(), state.clone());
        let (namespace, name) = (namespace.to_string(), name.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(HEALTH_AFTER).await;
            let health = service.health_of(&namespace, &name, &state.manifests).await;
            if let Err(e) = service
                .store
                .record_health(&namespace, &name, revision, health)
                .await
            {
                tracing::warn!(%namespace, %name, revision, error = %e, "cannot record the health an operation ended with");
            }
        });
    }

    /// Records how an operation ended. A database that cannot take writes (a full disk) is
    /// retried for a while, the instance's lock still held, so that nothing starts on a record
    /// that is behind the cluster.
    pub(super) async fn record_end(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        outcome: &Outcome<'_>,
    ) -> std::result::Result<(), String> {
        let mut tries = 0;
        loop {
            match self
                .store
                .finish_revision(namespace, name, revision, outcome)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) if e.is_unwritable() && tries < END_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot record the end of an operation");
                    return Err(e.to_string());
                }
            }
        }
    }
}
