//! Fault injection: the next requests under a path fail with a chosen status.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use super::errors::ApiError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub status: u16,
    pub count: u32,
    pub path_prefix: String,
}

/// Queued faults: each fails its next `count` requests under `path_prefix`.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Vec<Fault>,
}

impl Faults {
    pub const SUPPORTED: [u16; 3] = [429, 500, 503];

    pub fn push(&mut self, f: Fault) -> Result<(), String> {
        if !Self::SUPPORTED.contains(&f.status) {
            return Err(format!(
                "status {} is not supported; use one of 429, 500, 503",
                f.status
            ));
        }
        if f.count > 0 {
            self.queue.push(f);
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn pending(&self) -> &[Fault] {
        &self.queue
    }

    /// Consumes one fault matching `path`, oldest first.
    pub fn take(&mut self, path: &str) -> Option<u16> {
        let i = self
            .queue
            .iter()
            .position(|f| path.starts_with(&f.path_prefix))?;
        let f = &mut self.queue[i];
        let status = f.status;
        f.count -= 1;
        if f.count == 0 {
            self.queue.remove(i);
        }
        Some(status)
    }

    /// The response an injected fault produces.
    pub fn response(status: u16) -> ApiError {
        match status {
            429 => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded. Please retry after 1 seconds.",
            )
            .header(
                HeaderName::from_static("retry-after"),
                HeaderValue::from_static("1"),
            ),
            500 => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            _ => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed() {
        let mut f = Faults::default();
        assert!(
            f.push(Fault {
                status: 404,
                count: 1,
                path_prefix: "/v3".into()
            })
            .is_err()
        );
        f.push(Fault {
            status: 503,
            count: 2,
            path_prefix: "/v3/applications".into(),
        })
        .expect("push");
        assert_eq!(f.take("/v3/jobs"), None);
        assert_eq!(f.take("/v3/applications"), Some(503));
        assert_eq!(f.take("/v3/applications/1"), Some(503));
        assert_eq!(f.take("/v3/applications"), None);
    }
}
