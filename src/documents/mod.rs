//! Reading resume files: PDF, Word (DOCX), HTML and plain text, told apart by
//! their content (never by file name or Content-Type, which vendors and
//! candidates get wrong), under limits on size, pages, archive expansion,
//! extracted characters and time.
//!
//! [`read`] is pure and synchronous; [`read_file`] runs it on the blocking
//! pool under a timeout. A parser that panics on hostile input yields
//! [`DocumentError::Panicked`], not a crashed worker. Errors describe the
//! failure only: no fragment of a file ever reaches a message.

mod budget;
pub mod detect;
mod docx;
mod html;
mod pdf;
mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

pub use self::budget::Budget;
use self::detect::Detected;
use crate::model::{DocumentFormat, Readability};

/// The largest resume file read: a resume over 5 MiB is a scan or an
/// attachment of something else.
pub const MAX_RESUME_BYTES: usize = 5 * 1024 * 1024;

/// What reading one file may cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Size of the file itself.
    pub max_bytes: usize,
    /// PDF pages.
    pub max_pages: usize,
    /// Bytes a file may expand to when its parts are inflated (DOCX entries,
    /// PDF streams), declared and actual.
    pub max_inflated_bytes: u64,
    /// Entries in a DOCX archive.
    pub max_entries: usize,
    /// Uncompressed / compressed size of one archive entry.
    pub max_ratio: u64,
    /// Characters of text kept; the rest is dropped (`truncated`).
    pub max_chars: usize,
    /// Wall time for one file.
    pub wall_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: MAX_RESUME_BYTES,
            // Resumes run to a few pages; a long PDF is a portfolio or a book.
            max_pages: 30,
            max_inflated_bytes: 32 * 1024 * 1024,
            max_entries: 2_000,
            // Word XML compresses 5-20 times; 200 is far from any real file.
            max_ratio: 200,
            max_chars: 200_000,
            wall_time: Duration::from_secs(5),
        }
    }
}

/// The text taken from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    pub format: DocumentFormat,
    /// One line per line of the document, trimmed at the end, with no
    /// leading or trailing blank lines.
    pub text: String,
    /// PDF pages.
    pub pages: Option<usize>,
    /// The text was cut at [`Limits::max_chars`].
    pub truncated: bool,
}

/// Why a file could not be read. Messages name the failure, never content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the file's format is not one the operator reads (PDF, DOCX, HTML, text)")]
    UnknownFormat,
    #[error("{0} files are not supported")]
    Unsupported(&'static str),
    #[error("the {format} file is malformed: {reason}")]
    Malformed {
        format: DocumentFormat,
        reason: &'static str,
    },
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF has {pages} pages, over the limit of {limit}")]
    TooManyPages { pages: usize, limit: usize },
    #[error("the {format} file expands beyond its limits ({what})")]
    Expands {
        format: DocumentFormat,
        what: &'static str,
    },
    #[error("the {0} file has no text (a scan or an image?)")]
    NoText(DocumentFormat),
    #[error("reading the file took longer than {0:?}")]
    Timeout(Duration),
    #[error("the {0} reader failed on this file")]
    Panicked(DocumentFormat),
}

/// Reads one file's text. Pure: the same bytes and limits give the same
/// result (short of the wall-time limit).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Extracted, DocumentError> {
    if bytes.is_empty() {
        return Err(DocumentError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DocumentError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let detected = detect::detect(bytes)?;
    let format = detected.format();
    let budget = Budget::new(limits);
    // Parsers of binary formats may panic on crafted input; that is this
    // file's failure, not the worker's.
    let raw = catch_unwind(AssertUnwindSafe(|| match detected {
        Detected::Pdf => pdf::extract(bytes, &budget),
        Detected::Docx => docx::extract(bytes, &budget).map(|t| (t, None)),
        Detected::Html(s) => Ok((html::extract(&s), None)),
        Detected::Text(s) => Ok((s, None)),
    }))
    .map_err(|_| DocumentError::Panicked(format))??;
    let (text, pages) = raw;
    let (text, truncated) = text::tidy(&text, limits.max_chars);
    if text.chars().all(char::is_whitespace) {
        return Err(DocumentError::NoText(format));
    }
    Ok(Extracted {
        format,
        text,
        pages,
        truncated,
    })
}

/// [`read`] on the blocking pool, given up after the wall-time limit (the
/// readers also check the time themselves and stop soon after).
pub async fn read_file(bytes: Vec<u8>, limits: Limits) -> Result<Extracted, DocumentError> {
    let wall = limits.wall_time;
    let task = tokio::task::spawn_blocking(move || read(&bytes, &limits));
    match tokio::time::timeout(wall, task).await {
        Ok(Ok(result)) => result,
        // Only a panic outside the readers (none expected) gets here.
        Ok(Err(_)) => Err(DocumentError::Panicked(DocumentFormat::Text)),
        Err(_) => Err(DocumentError::Timeout(wall)),
    }
}

/// A resume file's text and what to record about it: the text when it was
/// read, else `None` and why (for the explanation).
pub async fn read_resume(bytes: Vec<u8>) -> (Option<String>, Readability) {
    outcome(read_file(bytes, Limits::default()).await)
}

/// Pure: the text and readability of a read's result.
pub fn outcome(result: Result<Extracted, DocumentError>) -> (Option<String>, Readability) {
    match result {
        Ok(e) => (Some(e.text), Readability::Read { format: e.format }),
        Err(e) => (
            None,
            Readability::Unreadable {
                reason: e.to_string(),
            },
        ),
    }
}

#[cfg(test)]
mod tests;
