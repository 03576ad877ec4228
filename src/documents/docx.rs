//! Word (DOCX) files: a ZIP archive whose `word/document.xml` holds the text.
//!
//! The archive is checked before anything is inflated (entry count, the
//! sizes every entry declares, their compression ratios), and the one entry
//! read is inflated through a cap, so an archive that lies about its sizes
//! stops at the limit too.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;
use zip::ZipArchive;

use super::{Budget, DocumentError};
use crate::model::DocumentFormat;

const FORMAT: DocumentFormat = DocumentFormat::Docx;
const MAIN_PART: &str = "word/document.xml";

fn malformed(reason: &'static str) -> DocumentError {
    DocumentError::Malformed {
        format: FORMAT,
        reason,
    }
}

/// Pure: the document's paragraphs, one per line.
pub fn extract(bytes: &[u8], budget: &Budget) -> Result<String, DocumentError> {
    let limits = &budget.limits;
    let mut zip =
        ZipArchive::new(Cursor::new(bytes)).map_err(|_| malformed("not a readable ZIP archive"))?;
    if zip.len() > limits.max_entries {
        return Err(DocumentError::Expands {
            format: FORMAT,
            what: "too many archive entries",
        });
    }
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| malformed("unreadable archive entry"))?;
        declared = declared.saturating_add(entry.size());
        check_ratio(entry.size(), entry.compressed_size(), limits.max_ratio)?;
    }
    budget.inflated(FORMAT, declared, "declared entry sizes")?;
    budget.check()?;

    let entry = zip
        .by_name(MAIN_PART)
        .map_err(|_| malformed("no word/document.xml"))?;
    let compressed = entry.compressed_size();
    let cap = limits.max_inflated_bytes.min(entry.size());
    let mut xml = Vec::new();
    // One byte past the cap tells an entry that inflates beyond its word.
    entry
        .take(cap.saturating_add(1))
        .read_to_end(&mut xml)
        .map_err(|_| malformed("corrupt compressed data"))?;
    let actual = xml.len() as u64;
    if actual > cap {
        return Err(DocumentError::Expands {
            format: FORMAT,
            what: "entry inflates beyond its declared size",
        });
    }
    check_ratio(actual, compressed, limits.max_ratio)?;
    budget.check()?;
    paragraphs(&xml, budget)
}

/// An entry whose uncompressed size is too many times its compressed size.
fn check_ratio(size: u64, compressed: u64, max_ratio: u64) -> Result<(), DocumentError> {
    // Tiny entries (a few KiB) cannot be a bomb whatever their ratio.
    if size > 64 * 1024 && size > compressed.saturating_mul(max_ratio) {
        return Err(DocumentError::Expands {
            format: FORMAT,
            what: "compression ratio",
        });
    }
    Ok(())
}

/// WordprocessingML to text: `w:t` runs joined, a line per `w:p`, tabs and
/// breaks kept. Field codes (`w:instrText`), deleted text (`w:delText`) and
/// the fallback copies of text boxes are not text.
fn paragraphs(xml: &[u8], budget: &Budget) -> Result<String, DocumentError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_text = false;
    let mut fallback = 0u32;
    let mut events = 0u32;
    loop {
        events = events.wrapping_add(1);
        if events.is_multiple_of(4096) {
            budget.check()?;
        }
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| malformed("invalid XML in word/document.xml"))?;
        // A text box is written twice (`mc:Choice` for new readers, `mc:Fallback`
        // for old ones): the fallback copy is skipped.
        let skipping = fallback > 0;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "Fallback" => fallback = fallback.saturating_add(1),
                _ if skipping => {}
                "t" => in_text = true,
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "Fallback" => fallback = fallback.saturating_sub(1),
                "t" => in_text = false,
                _ if skipping => {}
                "p" => out.push('\n'),
                _ => {}
            },
            _ if skipping => {}
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" | "p" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => out.push_str(&t.xml10_content()),
            Event::CData(t) if in_text => out.push_str(&t.into_inner()),
            // Entities arrive apart from the text around them.
            Event::GeneralRef(r) if in_text => {
                let reference = format!("&{};", r.into_inner());
                let c = quick_xml::escape::unescape(&reference)
                    .map_err(|_| malformed("unknown entity in word/document.xml"))?;
                out.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
        // Far more text than will be kept: stop reading.
        if out.len() > budget.limits.max_chars.saturating_mul(4) {
            break;
        }
        buf.clear();
    }
    Ok(out)
}
