//! What a Berth replica does for the others sharing its PostgreSQL (nothing on SQLite): it
//! passes its operations' progress on to them and relays theirs to its own live streams, and it
//! looks every few seconds for operations whose replica went away, marks them interrupted (the
//! store's instance locks tell, see `crate::store::lock`), and announces that as their end.

use std::time::Duration;

use app::model::{OperationStatus, Progress};
use futures::StreamExt as _;

use super::Service;
use crate::store::Backend;

/// How often a replica looks for operations another replica left running.
pub const ORPHAN_SWEEP: Duration = Duration::from_secs(2);

impl Service {
    /// Tells this replica's live streams of `progress`, then the other replicas.
    pub(super) async fn announce(&self, progress: Progress) {
        let _ = self.ops.progress.send(progress.clone());
        if let Err(e) = self.store.publish_progress(&self.replica, &progress).await {
            tracing::warn!(error = %e, "cannot pass progress on to the other replicas");
        }
    }

    /// Starts relaying the other replicas' progress and sweeping for their abandoned operations
    /// (on PostgreSQL; on SQLite it does nothing). The tasks end with the process.
    pub async fn join_replicas(&self) -> crate::store::Result<()> {
        if self.store.backend() != Backend::Postgres {
            return Ok(());
        }
        if let Some(mut theirs) = self.store.listen_progress(&self.replica).await? {
            let local = self.ops.progress.clone();
            tokio::spawn(async move {
                while let Some(progress) = theirs.next().await {
                    let _ = local.send(progress);
                }
            });
        }
        let service = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(ORPHAN_SWEEP);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                service.sweep_orphans().await;
            }
        });
        Ok(())
    }

    /// Marks the operations no replica runs any more interrupted, and announces their end.
    async fn sweep_orphans(&self) {
        match self.store.interrupt_orphans().await {
            Ok(found) => {
                for orphan in found {
                    tracing::warn!(
                        instance = %orphan.instance,
                        revision = orphan.revision,
                        "an operation whose replica went away is marked interrupted"
                    );
                    self.announce(Progress::Finished {
                        instance: orphan.instance,
                        revision: orphan.revision,
                        status: OperationStatus::Interrupted,
                        message: orphan.message,
                    })
                    .await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for abandoned operations"),
        }
    }
}
