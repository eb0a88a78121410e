//! Operation progress passed between Berth replicas that share a PostgreSQL, so that a live
//! stream on any replica shows an operation that runs on another. Each replica publishes its own
//! progress with `NOTIFY` and listens for everyone's; what it sent itself it skips. Health needs
//! no bus: every replica watches the cluster itself. On SQLite (one process) there is no bus.

use app::model::{ObjectResult, Progress};
use futures::{Stream, StreamExt as _};
use serde::{Deserialize, Serialize};

use super::{Backend, Result, Store};

/// The channel progress travels on.
const CHANNEL: &str = "berth_progress";
/// PostgreSQL refuses a payload of 8000 bytes or more.
const PAYLOAD_LIMIT: usize = 7900;

/// One notification: who sent it, and the progress.
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    progress: Progress,
}

impl Store {
    /// Tells the other replicas of `progress` (nothing on SQLite). `origin` names this replica.
    pub async fn publish_progress(&self, origin: &str, progress: &Progress) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let mut envelope = Envelope {
            origin: origin.into(),
            progress: progress.clone(),
        };
        let mut payload = serde_json::to_string(&envelope).unwrap_or_default();
        if payload.len() > PAYLOAD_LIMIT {
            shorten(&mut envelope.progress);
            payload = serde_json::to_string(&envelope).unwrap_or_default();
        }
        sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS sent")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Progress the other replicas publish, for as long as the stream is kept; `None` on SQLite.
    /// A lost connection is opened again (what was sent meanwhile is lost: a live stream reads
    /// the instance again when an operation finishes).
    pub async fn listen_progress(
        &self,
        origin: &str,
    ) -> Result<Option<impl Stream<Item = Progress> + Send + 'static>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(self.dsn.expose()).await?;
        listener.listen(CHANNEL).await?;
        let origin = origin.to_string();
        let stream = listener.into_stream().filter_map(move |n| {
            let progress = match n {
                Ok(n) => serde_json::from_str::<Envelope>(n.payload())
                    .ok()
                    .filter(|e| e.origin != origin)
                    .map(|e| e.progress),
                Err(e) => {
                    tracing::warn!(error = %e, "the progress channel between replicas failed; reconnecting");
                    None
                }
            };
            std::future::ready(progress)
        });
        Ok(Some(stream))
    }
}

/// Cuts the messages of `progress` so that it fits a notification.
fn shorten(progress: &mut Progress) {
    const NOTE: &str = " (cut short between replicas; the revision has it whole)";
    let cut = |m: &mut String| {
        if m.len() > 1000 {
            let mut end = 1000;
            while !m.is_char_boundary(end) {
                end -= 1;
            }
            m.truncate(end);
            m.push_str(NOTE);
        }
    };
    match progress {
        Progress::Object {
            result:
                ObjectResult {
                    message: Some(message),
                    ..
                },
            ..
        }
        | Progress::Finished { message, .. } => cut(message),
        Progress::Object { .. } => {}
    }
}
