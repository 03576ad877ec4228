//! HTML resumes (saved web pages, exported profiles): the body's text, by
//! the same converter job posts use.

use crate::model::text::html_to_text;

/// Pure: the text of an HTML document; the `<head>` (title, metadata) is left out.
pub fn extract(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let body = match (lower.find("<head"), lower.find("</head>")) {
        (Some(start), Some(end)) if end > start => {
            // Both indices are of ASCII bytes, so they are char boundaries in `html` too.
            let mut s = String::with_capacity(html.len());
            s.push_str(&html[..start]);
            s.push_str(&html[end + "</head>".len()..]);
            s
        }
        _ => html.to_string(),
    };
    html_to_text(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_text_without_head() {
        let html = "<!DOCTYPE html><html><head><title>Jane Doe CV</title>\
                    <style>p{}</style></head><body><h1>EXPERIENCE</h1>\
                    <p>Engineer, Acme (2019 - present)</p><ul><li>Built &amp; ran</li></ul>\
                    <h2>SKILLS</h2><p>Rust, Go</p></body></html>";
        assert_eq!(
            extract(html),
            "EXPERIENCE\n\nEngineer, Acme (2019 - present)\n\n- Built & ran\n\nSKILLS\n\nRust, Go"
        );
    }
}
