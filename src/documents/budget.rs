//! The time and expansion a reader may still spend on one file.

use std::time::Instant;

use super::{DocumentError, Limits};
use crate::model::DocumentFormat;

/// A file's limits and its deadline; readers check it as they go, so a file
/// that would take long stops soon after its time is up even though the
/// blocking thread it runs on cannot be cancelled.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    deadline: Instant,
}

impl Budget {
    pub fn new(limits: &Limits) -> Self {
        Budget {
            limits: limits.clone(),
            deadline: Instant::now() + limits.wall_time,
        }
    }

    /// Errs once the wall time is spent.
    pub fn check(&self) -> Result<(), DocumentError> {
        if Instant::now() > self.deadline {
            return Err(DocumentError::Timeout(self.limits.wall_time));
        }
        Ok(())
    }

    /// Errs when `inflated` bytes are over the expansion limit.
    pub fn inflated(
        &self,
        format: DocumentFormat,
        inflated: u64,
        what: &'static str,
    ) -> Result<(), DocumentError> {
        if inflated > self.limits.max_inflated_bytes {
            return Err(DocumentError::Expands { format, what });
        }
        Ok(())
    }
}
