//! Plain text: decoding (UTF-8, UTF-16 with a byte-order mark, else
//! Windows-1252 when the bytes look like text) and the tidying every
//! extracted text gets.

/// Pure: `bytes` as text, or `None` when they are not text (NUL bytes,
/// control characters).
pub fn decode(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).ok().map(str::to_string);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        // Not UTF-8: older editors save Windows-1252.
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    };
    is_text(&text).then_some(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    is_text(&text).then_some(text)
}

/// Text has no NUL and few other control characters.
fn is_text(s: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in s.chars() {
        total += 1;
        if c == '\0' {
            return false;
        }
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C') {
            control += 1;
        }
    }
    // One stray control character in a hundred is still a text file.
    control.saturating_mul(100) <= total
}

/// Windows-1252, whose 0x80-0x9F are punctuation rather than controls.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Pure: lines trimmed at the end (and `\r\n` made `\n`), runs of blank
/// lines made one, no blank lines at either end, at most `max_chars`
/// characters. Returns the text and whether it was cut.
pub fn tidy(text: &str, max_chars: usize) -> (String, bool) {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut chars = 0usize;
    let mut blank_pending = false;
    let mut truncated = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        let sep = if out.is_empty() {
            ""
        } else if blank_pending {
            "\n\n"
        } else {
            "\n"
        };
        blank_pending = false;
        let n = line.chars().count() + sep.len();
        if chars.saturating_add(n) > max_chars {
            let room = max_chars.saturating_sub(chars + sep.len());
            if room > 0 {
                out.push_str(sep);
                out.extend(line.chars().take(room));
            }
            truncated = true;
            break;
        }
        out.push_str(sep);
        out.push_str(line);
        chars += n;
    }
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"plain").as_deref(), Some("plain"));
        assert_eq!(decode(b"\xEF\xBB\xBFbom").as_deref(), Some("bom"));
        let le: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain("Zoë".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le).as_deref(), Some("Zoë"));
        let be: Vec<u8> = b"\xFE\xFF"
            .iter()
            .copied()
            .chain("Zoë".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).as_deref(), Some("Zoë"));
        // Windows-1252 curly quotes and an e acute.
        assert_eq!(
            decode(b"\x93caf\xE9\x94").as_deref(),
            Some("\u{201C}café\u{201D}")
        );
        assert_eq!(decode(b"a\0b"), None);
        assert_eq!(decode(b"\x01\x02\x03\x04 text"), None);
    }

    #[test]
    fn tidy_lines_and_limit() {
        let (t, cut) = tidy("\n\n a  \r\nb\n\n\n\nc  \n\n", 100);
        assert_eq!(t, " a\nb\n\nc");
        assert!(!cut);
        let (t, cut) = tidy("abcdef\nghij", 8);
        assert_eq!(t, "abcdef\ng");
        assert!(cut);
        assert_eq!(tidy("", 10), (String::new(), false));
    }
}
