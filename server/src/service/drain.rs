//! Stopping operations: cancelling one (it stops before its next object and records what was
//! applied), and draining them all when Berth shuts down (no new ones; the running ones get a
//! deadline to finish, and whatever is left is marked interrupted, never left `running`).

use std::time::{Duration, Instant};

use app::model::OperationInfo;

use super::{Error, Result, Service};

impl Service {
    /// Asks the running operation `id` to stop before its next object. Answers its state as it
    /// is now; it ends `cancelled` once the objects in flight are done.
    pub async fn cancel(&self, id: &str) -> Result<OperationInfo> {
        if !self.ops.cancel(id) {
            let done = self.operation(id).await?;
            return Err(Error::NotRunning(format!(
                "operation {id} is not running (it is {})",
                done.status.as_str()
            )));
        }
        self.operation(id).await
    }

    /// Stops taking operations, waits up to `grace` for the running ones, then marks what is
    /// left interrupted. Answers how many were left.
    pub async fn shutdown(&self, grace: Duration) -> u64 {
        self.ops.drain();
        let until = Instant::now() + grace;
        while self.ops.running() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let left = self.ops.instances_running();
        match self.store.interrupt_running(&left).await {
            Ok(left) => left.len() as u64,
            Err(e) => {
                tracing::error!(error = %e, "cannot mark the operations left as interrupted");
                0
            }
        }
    }
}
