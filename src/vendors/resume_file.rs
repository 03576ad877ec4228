//! A downloaded resume file, read by [`crate::documents`]: its text, and
//! what to record about it on the candidate.

use tracing::warn;

use crate::documents;
use crate::model::Readability;

/// The text of a resume file and its readability. An unreadable file is
/// logged by `candidate` (an id) and reason; never its content.
pub async fn read(bytes: Vec<u8>, candidate: &str) -> (Option<String>, Readability) {
    let (text, readability) = documents::read_resume(bytes).await;
    if let Readability::Unreadable { reason } = &readability {
        warn!(
            candidate,
            reason = reason.as_str(),
            "resume file unreadable; scoring on what else is known"
        );
    }
    (text, readability)
}

/// A file refused for its size before it was read.
pub fn too_large() -> Readability {
    Readability::Unreadable {
        reason: format!(
            "the file is over the limit of {} bytes",
            documents::MAX_RESUME_BYTES
        ),
    }
}
