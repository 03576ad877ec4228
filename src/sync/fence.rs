//! The write fence: every write to an ATS first checks that this replica still
//! holds the leader Lease, and a write in flight is dropped when the fence
//! closes. Leadership (`controller::leadership`) opens it until a deadline that
//! each confirmed renewal moves forward; without renewals it closes on its own,
//! before the Lease can expire and another replica take over.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How often a guarded write looks at the fence.
const POLL: Duration = Duration::from_millis(100);

#[derive(Clone, Debug)]
pub struct Fence(Option<Arc<Mutex<Option<Instant>>>>);

/// The fence closed: this replica may no longer be the leader.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("no longer the leader: writes stopped")]
pub struct Lost;

impl Fence {
    /// Always open: a single replica without leader election, tests, benchmarks.
    pub fn open() -> Fence {
        Fence(None)
    }

    /// Closed until [`Fence::extend_until`] opens it.
    pub fn closed() -> Fence {
        Fence(Some(Arc::new(Mutex::new(None))))
    }

    /// Open until `deadline` (a later call may move it either way).
    pub fn extend_until(&self, deadline: Instant) {
        if let Some(m) = &self.0 {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = Some(deadline);
        }
    }

    pub fn close(&self) {
        if let Some(m) = &self.0 {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    pub fn held(&self) -> bool {
        match &self.0 {
            None => true,
            Some(m) => m
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|d| Instant::now() < d),
        }
    }

    pub fn check(&self) -> Result<(), Lost> {
        if self.held() { Ok(()) } else { Err(Lost) }
    }

    /// Runs `f` while the fence is open; drops it (cancelling the request) the
    /// moment the fence closes. A dropped write is as a crash mid-write: the
    /// ledger still has it Pending and the next leader checks the ATS first.
    pub async fn guard<F: Future>(&self, f: F) -> Result<F::Output, Lost> {
        self.check()?;
        if self.0.is_none() {
            return Ok(f.await);
        }
        tokio::pin!(f);
        loop {
            tokio::select! {
                r = &mut f => return Ok(r),
                _ = tokio::time::sleep(POLL) => self.check()?,
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
}
