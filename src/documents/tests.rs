use std::io::Write;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::sandbox::documents as files;

const RESUME: &str = "Jane Doe
jane.doe@example.com | +1 555 0100 | 12 Elm St, Springfield, IL

SUMMARY
Backend engineer (7 years) building distributed systems \\ payments.

EXPERIENCE
Senior Software Engineer, Acme Corp (2019 - present)
- Built a payments platform on Kubernetes & PostgreSQL
Software Engineer, Initech (2015 - 2019)

EDUCATION
Bachelor of Science in Computer Science, State University (2011 - 2015)

SKILLS
Rust, Kubernetes, PostgreSQL, Go, C++, <HTML>
";

fn tidy(s: &str) -> String {
    text::tidy(s, usize::MAX).0
}

fn read_ok(bytes: &[u8]) -> Extracted {
    match read(bytes, &Limits::default()) {
        Ok(e) => e,
        Err(e) => panic!("unreadable: {e}"),
    }
}

/// A resume of about `lines` lines.
fn long_resume(lines: usize) -> String {
    let mut s = String::from(RESUME);
    s.push_str("\nPROJECTS\n");
    for i in 0..lines {
        s.push_str(&format!(
            "- Project {i}: migrated a service to Rust and Kubernetes\n"
        ));
    }
    s
}

#[test]
fn every_format_reads_back_the_same_text() {
    let expected = tidy(RESUME);
    let files = [
        (DocumentFormat::Text, RESUME.as_bytes().to_vec()),
        (DocumentFormat::Html, files::html(RESUME).into_bytes()),
        (DocumentFormat::Pdf, files::pdf(RESUME, 1)),
        (DocumentFormat::Docx, files::docx(RESUME)),
    ];
    for (format, bytes) in files {
        let e = read_ok(&bytes);
        assert_eq!(e.format, format);
        assert_eq!(e.text, expected, "{format}");
        assert!(!e.truncated);
        assert_eq!(e.pages.is_some(), format == DocumentFormat::Pdf);
    }
}

#[test]
fn multi_page_pdf_keeps_every_line_in_order() {
    let text = long_resume(120);
    let e = read_ok(&files::pdf(&text, 9));
    // 46 lines to a letter page.
    assert_eq!(e.pages, Some(text.lines().count().div_ceil(46)));
    assert!(e.pages > Some(2));
    assert_eq!(e.text, tidy(&text));
}

#[test]
fn pdf_lines_come_from_positions_not_text_objects() {
    // As pdfTeX writes: one text object, lines by `Td`/`T*`/`'`, words in
    // `TJ` arrays with kerning and word gaps; then words placed one by one on
    // a line by `Tm`, as office suites do.
    let page = "BT /F1 10 Tf 14 TL 72 720 Td [(EXP)20(ERIENCE)] TJ \
                0 -14 Td [(Engineer,)-333(Acme)-250(\\(2019)-333(-)-333(present\\))] TJ \
                T* (- Built) Tj ( it) Tj (SKILLS) ' ET \
                BT /F1 10 Tf 1 0 0 1 72 664 Tm (Rust,) Tj 1 0 0 1 100 664 Tm (Go) Tj ET \
                BT /F1 10 Tf 1 0 0 1 72 663 Tm [(x)] TJ 1 0 0 1 72 640 Tm (end) Tj ET";
    let e = read_ok(&files::helvetica_pdf(&[page.to_string()], 1));
    assert_eq!(
        e.text,
        "EXPERIENCE\nEngineer, Acme (2019 - present)\n- Built it\nSKILLS\nRust, Go x\nend"
    );
}

#[test]
fn a_scan_has_no_text() {
    assert_eq!(
        read(&files::scanned_pdf(3), &Limits::default()),
        Err(DocumentError::NoText(DocumentFormat::Pdf))
    );
}

#[test]
fn a_truncated_pdf_is_malformed_or_partial_never_a_panic() {
    let full = files::pdf(&long_resume(200), 4);
    for cut in [full.len() / 2, full.len() - 40, 9] {
        match read(&full[..cut], &Limits::default()) {
            Err(DocumentError::Malformed { .. } | DocumentError::NoText(_)) => {}
            // A lenient reader may recover the pages before the cut.
            Ok(e) => assert!(RESUME.starts_with(e.text.lines().next().unwrap_or(""))),
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn too_many_pages() {
    let limits = Limits {
        max_pages: 3,
        ..Limits::default()
    };
    let text = long_resume(200);
    assert_eq!(
        read(&files::pdf(&text, 2), &limits),
        Err(DocumentError::TooManyPages {
            pages: text.lines().count().div_ceil(46),
            limit: 3
        })
    );
}

#[test]
fn a_pdf_stream_bomb_is_refused() {
    // One content stream that inflates to 64 MiB from about 64 KiB.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..64 {
        z.write_all(&zeros).unwrap();
    }
    let packed = z.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length ".to_vec();
    pdf.extend_from_slice(format!("{} /Filter /FlateDecode >>\nstream\n", packed.len()).as_bytes());
    pdf.extend_from_slice(&packed);
    pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< >>\n%%EOF\n");
    assert_eq!(
        read(&pdf, &Limits::default()),
        Err(DocumentError::Expands {
            format: DocumentFormat::Pdf,
            what: "streams"
        })
    );
}

/// A ZIP with `word/document.xml` of `size` bytes of spaces inside a document.
fn docx_of(size: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(size > u32::MAX as usize / 2);
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(b"<w:document><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p>")
        .unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        zip.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    zip.write_all(b"</w:body></w:document>").unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_is_refused_before_inflating() {
    // 48 MiB of spaces: declared over the expansion limit, and at a ratio of ~1000.
    let bomb = docx_of(48 * 1024 * 1024);
    assert!(bomb.len() < 200 * 1024, "{}", bomb.len());
    let started = Instant::now();
    let r = read(&bomb, &Limits::default());
    assert!(
        matches!(
            r,
            Err(DocumentError::Expands {
                format: DocumentFormat::Docx,
                ..
            })
        ),
        "{r:?}"
    );
    // Refused from the directory: nothing was inflated.
    assert!(started.elapsed() < Duration::from_secs(2));
    // Under the size limit but over the ratio: refused too.
    let dense = docx_of(8 * 1024 * 1024);
    assert_eq!(
        read(&dense, &Limits::default()),
        Err(DocumentError::Expands {
            format: DocumentFormat::Docx,
            what: "compression ratio"
        })
    );
}

#[test]
fn a_zip_that_lies_about_its_size_stops_at_the_declared_size() {
    let mut bytes = docx_of(1024 * 1024);
    // Declare 2,000 bytes in the central directory (the size the reader trusts).
    let cd = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x01\x02")
        .expect("central directory");
    bytes[cd + 24..cd + 28].copy_from_slice(&2_000u32.to_le_bytes());
    let r = read(&bytes, &Limits::default());
    assert!(
        matches!(
            r,
            Err(DocumentError::Expands { .. } | DocumentError::Malformed { .. })
        ),
        "{r:?}"
    );
}

#[test]
fn too_many_archive_entries() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..30 {
        zip.start_file(format!("word/media/{i}.xml"), options)
            .unwrap();
    }
    zip.start_file("word/document.xml", options).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let limits = Limits {
        max_entries: 20,
        ..Limits::default()
    };
    assert_eq!(
        read(&bytes, &limits),
        Err(DocumentError::Expands {
            format: DocumentFormat::Docx,
            what: "too many archive entries"
        })
    );
}

#[test]
fn a_damaged_docx_is_malformed() {
    let mut bytes = files::docx(RESUME);
    bytes.truncate(bytes.len() * 2 / 3);
    assert!(matches!(
        read(&bytes, &Limits::default()),
        Err(DocumentError::Malformed {
            format: DocumentFormat::Docx,
            ..
        })
    ));
}

#[test]
fn docx_runs_tabs_breaks_and_field_codes() {
    let xml = r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body>
        <w:p><w:r><w:t>Senior </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>Engineer</w:t></w:r><w:r><w:tab/><w:t>2019</w:t></w:r></w:p>
        <w:p><w:r><w:instrText>HYPERLINK "x"</w:instrText><w:t>R&amp;D</w:t><w:br/><w:t>Go</w:t></w:r></w:p>
        <w:p/><w:p><w:r><w:delText>gone</w:delText><w:t>end</w:t></w:r></w:p>
        <w:p><w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent></mc:Choice>
        <mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
        </w:body></w:document>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert_eq!(
        read_ok(&bytes).text,
        "Senior Engineer\t2019\nR&D\nGo\n\nend\nBox"
    );
}

#[test]
fn size_and_character_limits() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        read(b"0123456789ab", &limits),
        Err(DocumentError::TooLarge {
            size: 12,
            limit: 10
        })
    );
    assert_eq!(read(b"", &limits), Err(DocumentError::Empty));
    assert_eq!(
        read(b" \n\t\n", &Limits::default()),
        Err(DocumentError::NoText(DocumentFormat::Text))
    );
    let limits = Limits {
        max_chars: 20,
        ..Limits::default()
    };
    let e = read(&files::docx(RESUME), &limits).unwrap();
    assert!(e.truncated);
    assert_eq!(e.text, "Jane Doe\njane.doe@ex");
}

#[test]
fn wall_time_is_a_limit() {
    let limits = Limits {
        wall_time: Duration::ZERO,
        ..Limits::default()
    };
    assert_eq!(
        read(&files::pdf(&long_resume(100), 1), &limits),
        Err(DocumentError::Timeout(Duration::ZERO))
    );
}

#[test]
fn unsupported_and_unknown_formats() {
    assert_eq!(
        read(b"{\\rtf1\\ansi Jane}", &Limits::default()),
        Err(DocumentError::Unsupported("RTF"))
    );
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(
        read(&junk, &Limits::default()),
        Err(DocumentError::UnknownFormat)
    );
}

#[test]
fn messages_never_carry_content() {
    // The reason recorded for an unreadable file names the failure only.
    let secret = "jane.doe@example.com";
    let mut damaged = files::docx(RESUME);
    damaged.truncate(damaged.len() / 2);
    for bytes in [
        damaged,
        files::scanned_pdf(1),
        files::pdf(RESUME, 1)[..300].to_vec(),
    ] {
        if let Err(e) = read(&bytes, &Limits::default()) {
            assert!(!e.to_string().contains(secret), "{e}");
        }
    }
}

#[tokio::test]
async fn read_file_runs_off_the_runtime() {
    let e = read_file(files::docx(RESUME), Limits::default())
        .await
        .unwrap();
    assert_eq!(e.text, tidy(RESUME));
    let (text, readability) = read_resume(files::scanned_pdf(2)).await;
    assert_eq!(text, None);
    assert!(readability.is_unreadable());
}

/// Typical cost: a two-page resume (run with `--nocapture` to see it).
#[test]
fn timing_of_a_two_page_resume() {
    let text = long_resume(50);
    for (name, bytes) in [("pdf", files::pdf(&text, 1)), ("docx", files::docx(&text))] {
        let runs = 20u32;
        let started = Instant::now();
        for _ in 0..runs {
            assert_eq!(read_ok(&bytes).text, tidy(&text));
        }
        println!(
            "{name}: {} bytes, {:?} per read",
            bytes.len(),
            started.elapsed() / runs
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Arbitrary bytes: an answer, never a panic.
    #[test]
    fn never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(&bytes, &Limits::default());
    }

    /// Valid files with bytes changed: an answer, never a panic.
    #[test]
    fn never_panics_on_damaged_files(
        pdf in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20),
    ) {
        let mut bytes = if pdf { files::pdf(RESUME, 1) } else { files::docx(RESUME) };
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = read(&bytes, &Limits::default());
    }
}
