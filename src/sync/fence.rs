//! The write fence: every write to an ATS first checks that this replica still
//! holds the leader Lease, and a write in flight is dropped when the fence
//! closes. Leadership (`controller::leadership`) opens it until a deadline that
//! each confirmed renewal moves forward; without renewals it closes on its own,
//! before the Lease can expire and another replica take over.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How often a guarded write looks at the fence.
const POLL: Duration = Duration::from_millis(100);

#[derive(Clone, Debug)]
pub struct Fence {
    /// Open until this deadline (leadership); `None`: always open.
    lease: Option<Arc<Mutex<Option<Instant>>>>,
    /// The worker's stop signal: once set, no new write starts, while a write
    /// already sent finishes (a clean stop leaves nothing to check later).
    stop: Option<watch::Receiver<bool>>,
}

/// The fence closed: this replica may no longer be the leader, or its worker
/// is stopping.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("writes stopped: no longer the leader, or the worker is stopping")]
pub struct Lost;

impl Fence {
    /// Always open: a single replica without leader election, tests, benchmarks.
    pub fn open() -> Fence {
        Fence {
            lease: None,
            stop: None,
        }
    }

    /// Closed until [`Fence::extend_until`] opens it.
    pub fn closed() -> Fence {
        Fence {
            lease: Some(Arc::new(Mutex::new(None))),
            stop: None,
        }
    }

    /// This fence, also closed to new writes once `stop` is set.
    pub fn stopping(&self, stop: watch::Receiver<bool>) -> Fence {
        Fence {
            lease: self.lease.clone(),
            stop: Some(stop),
        }
    }

    /// Open until `deadline` (a later call may move it either way).
    pub fn extend_until(&self, deadline: Instant) {
        if let Some(m) = &self.lease {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = Some(deadline);
        }
    }

    pub fn close(&self) {
        if let Some(m) = &self.lease {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Whether the leadership this fence follows still holds.
    pub fn held(&self) -> bool {
        match &self.lease {
            None => true,
            Some(m) => m
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|d| Instant::now() < d),
        }
    }

    /// Whether the worker was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Resolves once the worker is asked to stop (never without a stop signal).
    pub async fn until_stopped(&self) {
        match &self.stop {
            Some(s) => {
                let _ = s.clone().wait_for(|s| *s).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Whether a new write may start.
    pub fn check(&self) -> Result<(), Lost> {
        if self.held() && !self.stopped() {
            Ok(())
        } else {
            Err(Lost)
        }
    }

    /// Runs `f` if a write may start, and drops it (cancelling the request) the
    /// moment leadership is no longer held. A dropped write is as a crash
    /// mid-write: the ledger still has it Pending and the next leader checks
    /// the ATS first. A stop lets it finish.
    pub async fn guard<F: Future>(&self, f: F) -> Result<F::Output, Lost> {
        self.check()?;
        if self.lease.is_none() {
            return Ok(f.await);
        }
        tokio::pin!(f);
        loop {
            tokio::select! {
                r = &mut f => return Ok(r),
                _ = tokio::time::sleep(POLL) => if !self.held() { return Err(Lost) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closes_by_itself_and_drops_a_write_in_flight() {
        let f = Fence::closed();
        assert!(!f.held());
        f.extend_until(Instant::now() + Duration::from_millis(300));
        assert!(f.held());
        let r = f.guard(tokio::time::sleep(Duration::from_secs(5))).await;
        assert_eq!(r, Err(Lost));
        assert!(!f.held());
        assert!(Fence::open().held());
    }

    #[tokio::test]
    async fn a_stop_lets_the_write_in_flight_finish_and_refuses_new_ones() {
        let (tx, rx) = watch::channel(false);
        let lease = Fence::closed();
        lease.extend_until(Instant::now() + Duration::from_secs(60));
        for f in [Fence::open().stopping(rx.clone()), lease.stopping(rx)] {
            let write = f.guard(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "landed"
            });
            let stop = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(true);
            };
            let (r, ()) = tokio::join!(write, stop);
            assert_eq!(r, Ok("landed"));
            assert!(f.stopped());
            assert_eq!(f.guard(async {}).await, Err(Lost));
            tokio::time::timeout(Duration::from_secs(1), f.until_stopped())
                .await
                .unwrap();
            let _ = tx.send(false);
        }
    }
}
