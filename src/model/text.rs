//! Plain-text helpers for vendor content (job posts arrive as HTML).

/// Converts an HTML fragment to plain text.
///
/// Block elements (`<p>`, `<br>`, `<div>`, headings, list items, table rows)
/// become line breaks, list items get a `- ` bullet so requirement lists
/// survive as lines, `<script>`/`<style>` bodies are dropped, and the common
/// entities are decoded. Source newlines are whitespace, as in a browser.
/// Content that is entity-escaped HTML (Greenhouse's `content` field) is
/// unescaped first.
pub fn html_to_text(html: &str) -> String {
    let unescaped;
    let html = if !html.contains('<') && html.contains("&lt;") {
        unescaped = decode_entities(html);
        unescaped.as_str()
    } else {
        html
    };

    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while let Some(lt) = rest.find('<') {
        let (text, tail) = rest.split_at(lt);
        if skip_until.is_none() {
            push_text(&mut out, text);
        }
        let Some(gt) = tail.find('>') else {
            // An unterminated `<` is text, not a tag.
            if skip_until.is_none() {
                push_text(&mut out, tail);
            }
            rest = "";
            break;
        };
        let tag = &tail[1..gt];
        rest = &tail[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(end) = skip_until {
            if closing && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" if !closing => skip_until = Some("script"),
            "style" if !closing => skip_until = Some("style"),
            "li" if !closing => {
                out.push('\n');
                out.push_str("- ");
            }
            // The opening tag already broke the line.
            "li" => {}
            "br" | "p" | "div" | "ul" | "ol" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "blockquote" | "section" | "article" | "header" | "footer" | "table" => {
                out.push('\n')
            }
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    if skip_until.is_none() {
        push_text(&mut out, rest);
    }
    tidy(&out)
}

fn push_text(out: &mut String, text: &str) {
    // Source whitespace (including newlines) is a single space in HTML.
    let decoded = decode_entities(text);
    for c in decoded.chars() {
        if c == '\n' || c == '\r' || c == '\t' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
}

/// Collapses runs of spaces, trims lines and keeps at most one blank line.
fn tidy(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines() {
        let collapsed = line
            .split([' ', '\u{a0}'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if collapsed.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(collapsed);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Decodes named entities we meet in ATS content and numeric references.
/// Unknown entities are left as they are.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        // Entities are short; a `;` far away is not ours.
        let semi = tail.char_indices().take(12).find(|&(_, c)| c == ';');
        let decoded = semi.and_then(|(i, _)| decode_entity(&tail[1..i]).map(|c| (c, i)));
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &tail[i + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "hellip" => '…',
        "bull" => '•',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            let c = char::from_u32(code)?;
            // A non-breaking space is a space for our purposes.
            if c == '\u{a0}' { ' ' } else { c }
        }
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_and_lists() {
        let html = "<p>We build <b>things</b>.</p><p>Requirements:<br>Rust</p>\
                    <ul>\n  <li>5+ years</li>\n  <li>Kubernetes &amp; Go</li></ul>";
        assert_eq!(
            html_to_text(html),
            "We build things.\n\nRequirements:\nRust\n\n- 5+ years\n- Kubernetes & Go"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            html_to_text(
                "<p>a &lt;b&gt; &quot;c&quot; &#39;d&#39;&nbsp;e &#x41; &unknown; AT&T</p>"
            ),
            "a <b> \"c\" 'd' e A &unknown; AT&T"
        );
    }

    #[test]
    fn escaped_html_is_unescaped_first() {
        assert_eq!(
            html_to_text("&lt;p&gt;Hello &amp;amp; bye&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;"),
            "Hello & bye\n\nTwo"
        );
    }

    #[test]
    fn scripts_dropped_and_whitespace_collapsed() {
        assert_eq!(
            html_to_text(
                "<div>  one\n   two </div><script>var x = '<p>';</script><style>p{}</style>three"
            ),
            "one two\nthree"
        );
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(html_to_text("just text"), "just text");
        assert_eq!(html_to_text("a < b"), "a < b");
    }
}
