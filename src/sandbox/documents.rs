//! Resume files as candidates upload them: PDF, Word (DOCX), HTML and text,
//! generated deterministically from [`GenCandidate::resume_text`] (fixed PDF
//! ids, no dates in either format, fixed ZIP entry times), so the same
//! tenant serves the same bytes every time.
//!
//! Which file a candidate has is a pure function of the candidate id and the
//! sandbox's [`ResumeRule`]. A small share may be unreadable (a scan with no
//! text layer, or a damaged Word file), as real tenants have.

use std::io::Write;

use sha2::{Digest, Sha256};

use super::data::GenCandidate;

/// The kind of file behind a candidate's resume.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ResumeFile {
    Pdf,
    Docx,
    Html,
    #[default]
    Text,
    /// A PDF of page images: no text to read.
    ScannedPdf,
    /// A Word file cut short in transfer.
    DamagedDocx,
}

impl ResumeFile {
    pub fn extension(self) -> &'static str {
        match self {
            ResumeFile::Pdf | ResumeFile::ScannedPdf => "pdf",
            ResumeFile::Docx | ResumeFile::DamagedDocx => "docx",
            ResumeFile::Html => "html",
            ResumeFile::Text => "txt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ResumeFile::Pdf | ResumeFile::ScannedPdf => "application/pdf",
            ResumeFile::Docx | ResumeFile::DamagedDocx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            ResumeFile::Html => "text/html; charset=utf-8",
            ResumeFile::Text => "text/plain; charset=utf-8",
        }
    }

    /// Whether the operator can take text from this file.
    pub fn readable(self) -> bool {
        !matches!(self, ResumeFile::ScannedPdf | ResumeFile::DamagedDocx)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResumeFile::Pdf => "pdf",
            ResumeFile::Docx => "docx",
            ResumeFile::Html => "html",
            ResumeFile::Text => "text",
            ResumeFile::ScannedPdf => "scanned_pdf",
            ResumeFile::DamagedDocx => "damaged_docx",
        }
    }
}

/// Which files a sandbox's candidates have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeRule {
    /// `false`: every resume is plain text (as the sandboxes served before).
    pub documents: bool,
    /// Percent of candidates (0-100) whose file cannot be read.
    pub unreadable_percent: u8,
}

impl Default for ResumeRule {
    /// Real files for most candidates, none unreadable: a test that wants
    /// unreadable files asks for them.
    fn default() -> Self {
        ResumeRule {
            documents: true,
            unreadable_percent: 0,
        }
    }
}

impl ResumeRule {
    /// Pure: the file of candidate `id`. About 45% PDF, 40% DOCX, 8% text and
    /// 7% HTML; the unreadable share is drawn independently of the format.
    pub fn file_for(&self, id: u64) -> ResumeFile {
        if !self.documents {
            return ResumeFile::Text;
        }
        let format = mix(id, 1) % 100;
        let unreadable = mix(id, 2) % 100 < u64::from(self.unreadable_percent.min(100));
        match (format, unreadable) {
            (0..45, false) => ResumeFile::Pdf,
            (45..85, false) => ResumeFile::Docx,
            (85..93, false) => ResumeFile::Text,
            (_, false) => ResumeFile::Html,
            (0..50, true) => ResumeFile::ScannedPdf,
            (_, true) => ResumeFile::DamagedDocx,
        }
    }
}

/// SplitMix64 of `id` and a stream number: a fixed, well-spread hash.
fn mix(id: u64, stream: u64) -> u64 {
    let mut z = id
        .wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The bytes of `c`'s resume file.
pub fn render(c: &GenCandidate) -> Vec<u8> {
    let text = c.resume_text();
    match c.resume_file {
        ResumeFile::Text => text.into_bytes(),
        ResumeFile::Html => html(&text).into_bytes(),
        ResumeFile::Pdf => pdf(&text, c.id),
        ResumeFile::Docx => docx(&text),
        ResumeFile::ScannedPdf => scanned_pdf(c.id),
        ResumeFile::DamagedDocx => {
            let mut bytes = docx(&text);
            // Cut short: the archive's directory at the end is gone.
            bytes.truncate(bytes.len() * 2 / 3);
            bytes
        }
    }
}

/// A saved web page: a paragraph per blank-line separated block, a line
/// break per line.
pub fn html(text: &str) -> String {
    let mut body = String::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let lines: Vec<String> = block
            .lines()
            .map(|l| super::data::html_escape(l.trim_end()))
            .collect();
        body.push_str("<p>");
        body.push_str(&lines.join("<br>\n"));
        body.push_str("</p>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Resume</title></head>\n<body>\n{body}</body></html>\n"
    )
}

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 72.0;
const LEADING: f32 = 14.0;
const FONT_SIZE: f32 = 10.0;

/// A letter-size PDF in Helvetica, one text object per line (long lines are
/// set smaller rather than wrapped, so each stays one line), Flate content
/// streams, a correct cross-reference table and an id derived from `seed`.
pub fn pdf(text: &str, seed: u64) -> Vec<u8> {
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let lines: Vec<&str> = text.lines().collect();
    let pages: Vec<String> = lines
        .chunks(per_page.max(1))
        .map(|chunk| {
            let mut ops = String::new();
            for (i, line) in chunk.iter().enumerate() {
                let y = PAGE_HEIGHT - MARGIN - LEADING * i as f32;
                // A blank line is a space, so extraction keeps the paragraph break.
                let shown = if line.trim().is_empty() { " " } else { line };
                let size = font_size(shown);
                ops.push_str(&format!(
                    "BT /F1 {size:.1} Tf {MARGIN:.0} {y:.0} Td ({}) Tj ET\n",
                    pdf_string(shown)
                ));
            }
            ops
        })
        .collect();
    let pages = if pages.is_empty() {
        vec![String::new()]
    } else {
        pages
    };
    helvetica_pdf(&pages, seed)
}

/// A PDF of the given page content streams, with Helvetica as font `/F1`.
pub fn helvetica_pdf(pages: &[String], seed: u64) -> Vec<u8> {
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
    write_pdf(
        pages,
        &format!("/Font << /F1 {} >>", "3 0 R"),
        &[font.as_bytes().to_vec()],
        seed,
    )
}

/// A PDF whose one page is an image: what a scanner makes.
pub fn scanned_pdf(seed: u64) -> Vec<u8> {
    // An 8x8 grey image, uncompressed.
    let pixels: Vec<u8> = (0..64u8).map(|i| 0x80 ^ (i.wrapping_mul(37))).collect();
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
        pixels.len()
    )
    .into_bytes();
    image.extend_from_slice(&pixels);
    image.extend_from_slice(b"\nendstream");
    let page = format!(
        "q {:.0} 0 0 {:.0} {MARGIN:.0} {MARGIN:.0} cm /Im1 Do Q\n",
        PAGE_WIDTH - 2.0 * MARGIN,
        PAGE_HEIGHT - 2.0 * MARGIN
    );
    write_pdf(&[page], "/XObject << /Im1 3 0 R >>", &[image], seed)
}

/// Helvetica averages about half an em per character: long lines are set
/// smaller to fit the measure, down to 6 points.
fn font_size(line: &str) -> f32 {
    let width = line.chars().count() as f32 * 0.5 * FONT_SIZE;
    let measure = PAGE_WIDTH - 2.0 * MARGIN;
    if width <= measure {
        FONT_SIZE
    } else {
        (FONT_SIZE * measure / width).max(6.0)
    }
}

/// A PDF literal string in WinAnsi (Latin-1 here; other characters become `?`).
fn pdf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFF => out.push_str(&format!("\\{:03o}", u32::from(c))),
            _ => out.push('?'),
        }
    }
    out
}

/// Objects 1 (catalog), 2 (pages), 3.. (`shared`: fonts or images), then a
/// page and its content stream per page.
fn write_pdf(pages: &[String], resources: &str, shared: &[Vec<u8>], seed: u64) -> Vec<u8> {
    let first_page = 3 + shared.len();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    ];
    objects.extend(shared.iter().cloned());
    for (i, content) in pages.iter().enumerate() {
        let contents = first_page + 2 * i + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH:.0} {PAGE_HEIGHT:.0}] \
                 /Resources << {resources} >> /Contents {contents} 0 R >>"
            )
            .into_bytes(),
        );
        let packed = deflate(content.as_bytes());
        let mut stream = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            packed.len()
        )
        .into_bytes();
        stream.extend_from_slice(&packed);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let id = hex::encode(&Sha256::digest(seed.to_be_bytes())[..16]);
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(bytes);
    z.finish().unwrap_or_default()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

/// A minimal Word document: a paragraph per line, headings (all-caps lines)
/// in bold, entries stored with the ZIP epoch as their time.
pub fn docx(text: &str) -> Vec<u8> {
    let mut body = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            body.push_str("<w:p/>");
            continue;
        }
        let heading = line.chars().any(char::is_alphabetic)
            && !line.chars().any(char::is_lowercase)
            && line.len() <= 40;
        let props = if heading { "<w:rPr><w:b/></w:rPr>" } else { "" };
        body.push_str(&format!(
            "<w:p><w:r>{props}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            xml_escape(line)
        ));
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, content) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("word/document.xml", document.as_str()),
    ] {
        // Writing to memory fails only on a programming error; an empty
        // file then reads as unreadable, which a test would show.
        if zip.start_file(name, options).is_err() || zip.write_all(content.as_bytes()).is_err() {
            return Vec::new();
        }
    }
    zip.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_the_rule() {
        let rule = ResumeRule {
            documents: true,
            unreadable_percent: 3,
        };
        let mut counts = std::collections::HashMap::new();
        for id in 50_000_000..50_010_000u64 {
            *counts.entry(rule.file_for(id)).or_insert(0usize) += 1;
        }
        let share = |k| counts.get(&k).copied().unwrap_or(0) as f64 / 10_000.0;
        assert!((0.40..0.47).contains(&share(ResumeFile::Pdf)), "{counts:?}");
        assert!(
            (0.35..0.42).contains(&share(ResumeFile::Docx)),
            "{counts:?}"
        );
        let unreadable = share(ResumeFile::ScannedPdf) + share(ResumeFile::DamagedDocx);
        assert!((0.02..0.04).contains(&unreadable), "{counts:?}");
        let text_only = ResumeRule {
            documents: false,
            unreadable_percent: 50,
        };
        assert_eq!(text_only.file_for(7), ResumeFile::Text);
        assert_eq!(
            ResumeRule::default().file_for(9),
            ResumeRule::default().file_for(9)
        );
    }

    #[test]
    fn deterministic_bytes() {
        let text = "Jane Doe\n\nSKILLS\nRust (systems), C++ \\ Go\n";
        assert_eq!(pdf(text, 1), pdf(text, 1));
        assert_ne!(pdf(text, 1), pdf(text, 2));
        assert_eq!(docx(text), docx(text));
        assert_eq!(scanned_pdf(3), scanned_pdf(3));
    }

    #[test]
    fn pdf_xref_offsets_point_at_objects() {
        let bytes = pdf("one\ntwo\n", 5);
        let rfind = |needle: &[u8]| bytes.windows(needle.len()).rposition(|w| w == needle);
        let xref = rfind(b"\nxref\n").unwrap() + 1;
        // The table is ASCII from here on.
        let table = std::str::from_utf8(&bytes[xref..]).unwrap();
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert_eq!(entries.len(), 5);
        for (i, off) in entries.iter().enumerate() {
            let head = format!("{} 0 obj", i + 1);
            assert!(
                bytes[*off..].starts_with(head.as_bytes()),
                "object {}",
                i + 1
            );
        }
        let startxref: usize = table[table.rfind("startxref\n").unwrap() + 10..]
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(startxref, xref);
    }
}
