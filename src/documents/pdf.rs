//! PDF files, read with `lopdf`: the text each page shows, in content order,
//! a line per vertical move of the text position (LaTeX and office suites
//! move between lines inside one text object) and a space per horizontal jump.
//!
//! Before `lopdf` sees the file, every Flate stream in it is inflated through
//! a counter (bounded by the expansion limit), so a small file that expands
//! to gigabytes is refused before anything keeps its output; `lopdf`'s own
//! per-stream limit bounds each stream again (whatever its filters) while
//! loading and extracting.

use std::io::Read;

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Encoding, LoadOptions, Object, ObjectId};

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
        let Some(&page_id) = pages.get(&number) else {
            continue;
        };
        match page_text(&doc, page_id, per_stream, &mut text) {
            Ok(()) => {}
            Err(lopdf::Error::Decompress(_)) => {
                return Err(DocumentError::Expands {
                    format: FORMAT,
                    what: "page content",
                });
            }
            // A page that cannot be read leaves the others readable.
            Err(_) => {}
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

/// A text line's vertical position changes by more than this (points) for
/// a new line; sub- and superscripts stay on theirs.
const SAME_LINE: f32 = 2.0;
/// A `TJ` adjustment more negative than this (thousandths of an em) is a space.
const WORD_GAP: f32 = -200.0;

/// Appends one page's text to `out`, line by line.
fn page_text(
    doc: &Document,
    page_id: ObjectId,
    limit: usize,
    out: &mut String,
) -> Result<(), lopdf::Error> {
    let encodings: BTreeMap<Vec<u8>, Encoding> = doc
        .get_page_fonts(page_id)?
        .into_iter()
        .filter_map(|(name, font)| {
            let encoding = font.get_font_encoding_with_limit(doc, limit);
            encoding.ok().map(|e| (name, e))
        })
        .collect();
    let content = Content::decode(&doc.get_page_content_with_limit(page_id, limit)?)?;
    let mut pos = TextPosition::default();
    let mut encoding: Option<&Encoding> = None;
    // Where the last shown text was: a move away starts a line or a word.
    let mut shown_at: Option<(f32, f32)> = None;
    for op in &content.operations {
        let num = |i: usize| op.operands.get(i).and_then(|o| o.as_float().ok());
        match op.operator.as_str() {
            "BT" => pos = TextPosition::default(),
            "Tf" => {
                encoding = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| encodings.get(n));
            }
            "TL" => pos.leading = num(0).unwrap_or(0.0),
            "Td" => pos.move_by(num(0).unwrap_or(0.0), num(1).unwrap_or(0.0)),
            "TD" => {
                let ty = num(1).unwrap_or(0.0);
                pos.leading = -ty;
                pos.move_by(num(0).unwrap_or(0.0), ty);
            }
            "Tm" => {
                let m: Vec<f32> = (0..6).map(|i| num(i).unwrap_or(0.0)).collect();
                pos.matrix = [m[0], m[1], m[2], m[3], m[4], m[5]];
            }
            "T*" => pos.next_line(),
            "Tj" | "TJ" | "'" | "\"" => {
                let Some(enc) = encoding else { continue };
                if matches!(op.operator.as_str(), "'" | "\"") {
                    pos.next_line();
                }
                let (x, y) = (pos.matrix[4], pos.matrix[5]);
                match shown_at {
                    Some((_, last_y)) if (y - last_y).abs() > SAME_LINE => newline(out),
                    Some((last_x, _)) if x != last_x => space(out),
                    _ => {}
                }
                let shown = match op.operator.as_str() {
                    "\"" => op.operands.get(2).into_iter().collect::<Vec<_>>(),
                    _ => op.operands.iter().collect(),
                };
                for operand in shown {
                    show(enc, operand, out);
                }
                shown_at = Some((x, y));
            }
            _ => {}
        }
    }
    newline(out);
    Ok(())
}

/// The text line matrix: where the current line starts, in user space.
struct TextPosition {
    matrix: [f32; 6],
    leading: f32,
}

impl Default for TextPosition {
    fn default() -> Self {
        TextPosition {
            matrix: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            leading: 0.0,
        }
    }
}

impl TextPosition {
    /// `Td`: the next line starts `(tx, ty)` away, in text space.
    fn move_by(&mut self, tx: f32, ty: f32) {
        let [a, b, c, d, e, f] = self.matrix;
        self.matrix[4] = e + tx * a + ty * c;
        self.matrix[5] = f + tx * b + ty * d;
    }

    fn next_line(&mut self) {
        let leading = if self.leading == 0.0 {
            1.0
        } else {
            self.leading
        };
        // A zero leading still moves: `T*` always means a new line.
        self.move_by(0.0, -leading.abs().max(SAME_LINE + 1.0));
    }
}

/// A string, or a `TJ` array of strings and spacing adjustments.
fn show(encoding: &Encoding, operand: &Object, out: &mut String) {
    match operand {
        Object::String(bytes, _) => {
            // Undecodable bytes are skipped, not guessed.
            let _ = encoding.write_to_string(bytes, out);
        }
        Object::Array(items) => {
            for item in items {
                match item.as_float() {
                    Ok(gap) if gap < WORD_GAP => space(out),
                    Ok(_) => {}
                    Err(_) => show(encoding, item, out),
                }
            }
        }
        _ => {}
    }
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(char::is_whitespace) {
        out.push(' ');
    }
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
