//! Telling a file's format from its first bytes (magic numbers) and, for
//! text, from what it says. File names and Content-Type are not consulted:
//! vendors serve `application/octet-stream` and candidates rename files.

use super::DocumentError;
use super::text;
use crate::model::DocumentFormat;

/// A file's format; text formats come decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Detected {
    Pdf,
    Docx,
    Html(String),
    Text(String),
}

impl Detected {
    pub fn format(&self) -> DocumentFormat {
        match self {
            Detected::Pdf => DocumentFormat::Pdf,
            Detected::Docx => DocumentFormat::Docx,
            Detected::Html(_) => DocumentFormat::Html,
            Detected::Text(_) => DocumentFormat::Text,
        }
    }
}

/// Readers accept a PDF header this far in, as Acrobat does.
const PDF_HEADER_WITHIN: usize = 1024;

/// Pure: the format of `bytes`, or why it is not one we read.
pub fn detect(bytes: &[u8]) -> Result<Detected, DocumentError> {
    let head = &bytes[..bytes.len().min(PDF_HEADER_WITHIN)];
    if find(head, b"%PDF-").is_some() {
        return Ok(Detected::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // The OOXML main part's name appears in the archive's headers.
        if find(bytes, b"word/document.xml").is_some() {
            return Ok(Detected::Docx);
        }
        if find(head, b"opendocument").is_some() {
            return Err(DocumentError::Unsupported("OpenDocument"));
        }
        return Err(DocumentError::Unsupported("ZIP archives other than DOCX"));
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(DocumentError::Unsupported(kind));
    }
    let decoded = text::decode(bytes).ok_or(DocumentError::UnknownFormat)?;
    if looks_like_html(&decoded) {
        Ok(Detected::Html(decoded))
    } else {
        Ok(Detected::Text(decoded))
    }
}

/// Formats we recognise and do not read.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const KINDS: &[(&[u8], &str)] = &[
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "legacy Word (.doc)"),
        (b"{\\rtf", "RTF"),
        (b"\x89PNG", "image"),
        (b"\xFF\xD8\xFF", "image"),
        (b"GIF8", "image"),
        (b"II*\x00", "image"),
        (b"MM\x00*", "image"),
    ];
    KINDS
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, kind)| *kind)
}

/// HTML by content: a doctype or an `<html>`/`<body>` tag near the start, or
/// markup that is mostly block tags.
fn looks_like_html(s: &str) -> bool {
    let start: String = s
        .trim_start()
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    // A text resume may name HTML ("<html>, CSS") but does not open with markup.
    start.starts_with('<')
        && [
            "<!doctype html",
            "<html",
            "<body",
            "<head",
            "<p>",
            "<div",
            "<br",
            "<li>",
            "<h1",
            "<h2",
            "<table",
        ]
        .iter()
        .any(|t| start.contains(t))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_magic_not_name() {
        assert_eq!(detect(b"%PDF-1.4\n...").unwrap(), Detected::Pdf);
        // Junk before the header, as some generators write.
        assert_eq!(detect(b"\n\n%PDF-1.7\n").unwrap(), Detected::Pdf);
        assert_eq!(
            detect(b"PK\x03\x04....word/document.xml....").unwrap(),
            Detected::Docx
        );
        assert_eq!(
            detect(b"PK\x03\x04....other.txt"),
            Err(DocumentError::Unsupported("ZIP archives other than DOCX"))
        );
        assert_eq!(
            detect(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"),
            Err(DocumentError::Unsupported("legacy Word (.doc)"))
        );
        assert_eq!(
            detect(b"\x89PNG\r\n"),
            Err(DocumentError::Unsupported("image"))
        );
    }

    #[test]
    fn html_by_content() {
        for s in [
            "<!DOCTYPE html><html><body><p>Hi</p></body></html>",
            "  <html><p>x</p></html>",
            "<div><p>Experience</p></div>",
        ] {
            assert!(
                matches!(detect(s.as_bytes()).unwrap(), Detected::Html(_)),
                "{s}"
            );
        }
        for s in [
            "Jane Doe\nSKILLS\nRust, C++ <3",
            "a < b and <c> d",
            "Jane\nSKILLS\n<html>, <body> and <div> layouts",
        ] {
            assert!(
                matches!(detect(s.as_bytes()).unwrap(), Detected::Text(_)),
                "{s}"
            );
        }
    }

    #[test]
    fn binary_junk_is_unknown() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(600).collect();
        assert_eq!(detect(&junk), Err(DocumentError::UnknownFormat));
    }
}
