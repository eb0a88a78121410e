//! When applying must stop short: someone cancelled the operation, or it ran past its deadline.
//! Checked between objects, so an object is either applied or not started; each call to the
//! apiserver also has a timeout of its own ([`Limits::call_timeout`]), and once one goes
//! unanswered no further object is started.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use app::model::{ObjectAction, ObjectResult};
use kube::api::PatchParams;

use super::{Applier, NO_ANSWER, Resolved};

/// Time limits of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long one call to the apiserver may take.
    pub call_timeout: Duration,
    /// How long a whole operation may take.
    pub deadline: Duration,
    /// A pause before each object (zero unless set for a fault drill, which needs an apply slow
    /// enough to interrupt at a chosen object).
    pub pace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            call_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(600),
            pace: Duration::ZERO,
        }
    }
}

/// The stop signal of one operation. Clones share it.
#[derive(Debug, Clone)]
pub struct Stop {
    cancelled: Arc<AtomicBool>,
    /// A call got no answer in time: the apiserver is likely down, so no more are started.
    stalled: Arc<AtomicBool>,
    deadline: Instant,
}

impl Stop {
    /// A signal that trips `after` from now, or when cancelled.
    pub fn after(after: Duration) -> Stop {
        Stop {
            cancelled: Arc::default(),
            stalled: Arc::default(),
            deadline: Instant::now() + after,
        }
    }

    /// A signal that never trips.
    pub fn never() -> Stop {
        Stop::after(Duration::from_secs(100 * 365 * 24 * 3600))
    }

    /// Asks the operation to stop before its next object.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Records that a call got no answer within its timeout.
    pub fn stalled(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Why the next object must not start, if it must not.
    pub fn reason(&self) -> Option<&'static str> {
        if self.is_cancelled() {
            Some("cancelled")
        } else if self.stalled.load(Ordering::SeqCst) {
            Some("an earlier call got no answer from the apiserver")
        } else if Instant::now() >= self.deadline {
            Some("the operation ran past its deadline")
        } else {
            None
        }
    }
}

impl Applier {
    /// [`Applier::apply_one`] within the call timeout (a regrow or a Job replacement, which
    /// wait for deletions, get their own longer waits inside it).
    pub(super) async fn apply_timed(
        &self,
        r: &Resolved,
        namespace: &str,
        params: &PatchParams,
        before: Option<String>,
        stop: &Stop,
    ) -> ObjectResult {
        let within = match r.key.kind.as_str() {
            "Job" | "StatefulSet" => self.limits.call_timeout + Duration::from_secs(60),
            _ => self.limits.call_timeout,
        };
        match tokio::time::timeout(within, self.apply_one(r, namespace, params, before)).await {
            Ok(res) => {
                if res
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with(NO_ANSWER))
                {
                    stop.stalled();
                }
                res
            }
            Err(_) => {
                stop.stalled();
                ObjectResult {
                    object: r.key.clone(),
                    action: ObjectAction::Failed,
                    message: Some(format!("{NO_ANSWER} within {within:?}")),
                }
            }
        }
    }
}
