//! PDF files, read with `lopdf`: the text each page shows, a line per text
//! object or line move.
//!
//! Before `lopdf` sees the file, every Flate stream in it is inflated through
//! a counter (bounded by the expansion limit), so a small file that expands
//! to gigabytes is refused before anything keeps its output; `lopdf`'s own
//! per-stream limit bounds each stream again (whatever its filters) while
//! loading and extracting.

use std::io::Read;

use lopdf::{Document, LoadOptions};

use super::{Budget, DocumentError};
use crate::model::DocumentFormat;

const FORMAT: DocumentFormat = DocumentFormat::Pdf;

fn malformed(reason: &'static str) -> DocumentError {
    DocumentError::Malformed {
        format: FORMAT,
        reason,
    }
}

/// Pure: the text of every page, and the page count.
pub fn extract(bytes: &[u8], budget: &Budget) -> Result<(String, Option<usize>), DocumentError> {
    let limits = &budget.limits;
    inflated_streams(bytes, budget)?;
    budget.check()?;
    let per_stream = usize::try_from(limits.max_inflated_bytes).unwrap_or(usize::MAX);
    let options = LoadOptions {
        max_decompressed_size: Some(per_stream),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).map_err(load_error)?;
    let pages = doc.get_pages();
    if pages.len() > limits.max_pages {
        return Err(DocumentError::TooManyPages {
            pages: pages.len(),
            limit: limits.max_pages,
        });
    }
    let mut text = String::new();
    for &number in pages.keys() {
        budget.check()?;
        match doc.extract_text_with_limit(&[number], per_stream) {
            Ok(t) => text.push_str(&t),
            Err(lopdf::Error::Decompress(_)) => {
                return Err(DocumentError::Expands {
                    format: FORMAT,
                    what: "page content",
                });
            }
            // A page that cannot be read leaves the others readable.
            Err(_) => {}
        }
        // Each page ends its last line (text objects end with one).
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if text.len() > limits.max_chars.saturating_mul(4) {
            break;
        }
    }
    if text.trim().is_empty() && doc.is_encrypted() {
        return Err(DocumentError::Encrypted);
    }
    Ok((text, Some(pages.len())))
}

fn load_error(e: lopdf::Error) -> DocumentError {
    match e {
        lopdf::Error::Decompress(_) => DocumentError::Expands {
            format: FORMAT,
            what: "stream",
        },
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => DocumentError::Encrypted,
        _ => malformed("not a readable PDF (truncated or corrupt)"),
    }
}

/// Inflates every Flate (zlib) stream of the file into a counter and errs
/// when their total passes the expansion limit.
fn inflated_streams(bytes: &[u8], budget: &Budget) -> Result<(), DocumentError> {
    let max = budget.limits.max_inflated_bytes;
    let mut total = 0u64;
    let mut at = 0usize;
    while let Some(i) = find(&bytes[at..], b"stream") {
        let keyword = at + i;
        at = keyword + b"stream".len();
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            continue;
        }
        // Stream data starts after the keyword's end of line.
        let data = match &bytes[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n', ..] | [b'\r', ..] => at + 1,
            _ => continue,
        };
        let remaining = max.saturating_sub(total);
        let decoder = flate2::read::ZlibDecoder::new(&bytes[data..]);
        // Not Flate, or corrupt: counted as far as it inflated.
        let mut counter = Counter(0);
        let _ = std::io::copy(&mut decoder.take(remaining.saturating_add(1)), &mut counter);
        total = total.saturating_add(counter.0);
        budget.inflated(FORMAT, total, "streams")?;
        budget.check()?;
    }
    Ok(())
}

/// A sink that counts what is written to it.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
