//! What vendors say in headers and error bodies: `Retry-After`, rate-limit
//! windows, `Link` paging, and short, safe error messages.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// The longest wait a vendor's header can ask for; a larger one (or `1e20`)
/// is clamped, never trusted into a panic or a year-long stall.
pub const MAX_VENDOR_WAIT: Duration = Duration::from_secs(3600);

/// Seconds from a vendor, clamped to `0..=MAX_VENDOR_WAIT`.
fn clamped_secs(secs: f64) -> Duration {
    if !secs.is_finite() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(secs.min(MAX_VENDOR_WAIT.as_secs_f64()))
}

/// `Retry-After` as delay-seconds or an HTTP date, at most [`MAX_VENDOR_WAIT`].
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| clamped_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some(
        (at - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_VENDOR_WAIT),
    )
}

/// What a response said about the vendor's rate-limit window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimitInfo {
    pub limit: Option<u32>,
    pub remaining: u32,
    /// Until the window resets, when the vendor said.
    pub reset_in: Option<Duration>,
}

/// Epoch values are at least this; smaller `Reset` values are seconds from now.
const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;

/// Reads `X-RateLimit-Limit/Remaining/Reset` (Greenhouse) or the
/// `X-Rate-Limit-*` spelling (Workable). `None` without a `Remaining`.
pub fn rate_limit_info(headers: &HeaderMap, now: DateTime<Utc>) -> Option<RateLimitInfo> {
    let get = |suffix: &str| -> Option<f64> {
        [
            format!("x-ratelimit-{suffix}"),
            format!("x-rate-limit-{suffix}"),
        ]
        .iter()
        .find_map(|name| headers.get(name.as_str()))
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let remaining = get("remaining")?;
    let reset_in = get("reset").map(|r| {
        if r >= EPOCH_THRESHOLD {
            let now_s = now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0;
            clamped_secs(r - now_s)
        } else {
            clamped_secs(r)
        }
    });
    Some(RateLimitInfo {
        // `as` saturates: 1e25 is u32::MAX, not a panic.
        limit: get("limit").map(|l| l as u32),
        remaining: remaining as u32,
        reset_in,
    })
}

/// The `rel="next"` target of `Link` headers, if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| link_with_rel(v, "next"))
}

/// Parses one `Link` value (`<url>; rel="next", <url>; rel="last"`).
pub fn link_with_rel(value: &str, rel: &str) -> Option<String> {
    let mut rest = value;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // Parameters run to the next entry; URLs (inside <>) may hold commas, params not.
        let end = rest.find('<').unwrap_or(rest.len());
        let params = &rest[..end];
        let matches = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches(|c| c == '"' || c == ',')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
        });
        if matches && !target.trim().is_empty() {
            return Some(target.trim().to_string());
        }
    }
}

/// A short, single-line message from an error body: JSON `message`,
/// `error`/`error_description` and `errors`, else the text itself.
pub fn error_message(body: &str) -> String {
    const MAX: usize = 300;
    let body = body.trim();
    let mut parts: Vec<String> = Vec::new();
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(body) {
        for key in ["message", "error", "error_description", "code"] {
            if let Some(s) = o.get(key).and_then(Value::as_str) {
                let s = s.trim();
                if !s.is_empty() && !parts.iter().any(|p| p == s) {
                    parts.push(s.to_string());
                }
            }
        }
        match o.get("errors") {
            Some(Value::Array(items)) => {
                for it in items {
                    match it {
                        Value::String(s) => parts.push(s.trim().to_string()),
                        Value::Object(e) => {
                            if let Some(s) = e.get("message").and_then(Value::as_str) {
                                let field = e.get("field").and_then(Value::as_str);
                                parts.push(match field {
                                    Some(f) => format!("{f} {s}"),
                                    None => s.to_string(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(Value::Object(fields)) => {
                for (k, v) in fields {
                    parts.push(format!("{k}: {}", flatten(v)));
                }
            }
            _ => {}
        }
    }
    let msg = if parts.is_empty() {
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        parts.join(": ")
    };
    if msg.is_empty() {
        return "no message".into();
    }
    quoted(&truncate(&msg, MAX))
}

/// Marks text as the vendor's own words (`«…»`), so that where the endpoint
/// is not the vendor's own host they can be withheld ([`unquoted`]).
pub fn quoted(text: &str) -> String {
    // The markers are ours alone: the vendor's own are dropped.
    format!("«{}»", text.replace(['«', '»'], ""))
}

/// Pure: `msg` without the vendor's words: each `«…»` (with the `: ` before
/// it) is dropped, and a note says something was withheld.
pub fn unquoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    let mut withheld = false;
    while let Some(start) = rest.find('«') {
        let before = &rest[..start];
        out.push_str(before.strip_suffix(": ").unwrap_or(before));
        withheld = true;
        rest = match rest[start..].find('»') {
            Some(end) => &rest[start + end + '»'.len_utf8()..],
            None => "",
        };
    }
    out.push_str(rest);
    if withheld {
        out.push_str(" (the endpoint's own words are withheld: it is not the vendor's host)");
    }
    out
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(flatten).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A transport error without its URL (presigned URLs carry signatures), with its causes.
pub(super) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    // hyper's words for an answer whose header section is over its limit.
    if msg.contains("message head is too large") {
        msg = format!("the response headers are larger than any vendor sends ({msg})");
    }
    truncate(&msg, 300)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
                now
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn rate_limit_headers_both_spellings() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let gh = headers(&[
            ("x-ratelimit-limit", "50"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000012"),
        ]);
        assert_eq!(
            rate_limit_info(&gh, now),
            Some(RateLimitInfo {
                limit: Some(50),
                remaining: 0,
                reset_in: Some(Duration::from_secs(12))
            })
        );
        let wk = headers(&[
            ("x-rate-limit-limit", "10"),
            ("x-rate-limit-remaining", "3"),
            ("x-rate-limit-reset", "4"),
        ]);
        assert_eq!(
            rate_limit_info(&wk, now),
            Some(RateLimitInfo {
                limit: Some(10),
                remaining: 3,
                reset_in: Some(Duration::from_secs(4))
            })
        );
        // A reset already past waits nothing.
        let past = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1699999990"),
        ]);
        assert_eq!(
            rate_limit_info(&past, now).unwrap().reset_in,
            Some(Duration::ZERO)
        );
        assert_eq!(
            rate_limit_info(&headers(&[("x-ratelimit-limit", "5")]), now),
            None
        );
    }

    #[test]
    fn link_parsing() {
        let h = headers(&[(
            "link",
            "<https://harvest.greenhouse.io/v3/jobs?cursor=abc,def>; rel=\"next\"",
        )]);
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://harvest.greenhouse.io/v3/jobs?cursor=abc,def")
        );
        let v1 = "<https://x/v1/a?page=1>; rel=\"prev\", <https://x/v1/a?page=3>; rel=\"next\", <https://x/v1/a?page=9>; rel=\"last\"";
        assert_eq!(
            link_with_rel(v1, "next").as_deref(),
            Some("https://x/v1/a?page=3")
        );
        assert_eq!(
            link_with_rel(v1, "last").as_deref(),
            Some("https://x/v1/a?page=9")
        );
        assert_eq!(
            link_with_rel("<https://x/a>; rel=next", "next").as_deref(),
            Some("https://x/a")
        );
        assert_eq!(
            link_with_rel("<https://x/a>; rel=\"prev next\"", "next").as_deref(),
            Some("https://x/a")
        );
        assert_eq!(link_with_rel("<https://x/a>; rel=\"prev\"", "next"), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
        assert_eq!(next_link(&headers(&[("link", "")])), None);
        // Separate header lines.
        let two = headers(&[
            ("link", "<https://x/p>; rel=\"prev\""),
            ("link", "<https://x/n>; rel=\"next\""),
        ]);
        assert_eq!(next_link(&two).as_deref(), Some("https://x/n"));
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(
                r#"{"message":"Forbidden","errors":["List endpoints require a Site Admin."]}"#
            ),
            "«Forbidden: List endpoints require a Site Admin.»"
        );
        assert_eq!(
            error_message(r#"{"error":"invalid_client"}"#),
            "«invalid_client»"
        );
        assert_eq!(
            error_message(
                r#"{"message":"Validation error","errors":[{"field":"body","message":"is required"}]}"#
            ),
            "«Validation error: body is required»"
        );
        assert_eq!(
            error_message("  <html>\n bad gateway </html> "),
            "«<html> bad gateway </html>»"
        );
        assert_eq!(error_message(""), "no message");
        assert!(error_message(&"x".repeat(1000)).chars().count() <= 303);
        // The markers are ours: a vendor cannot close them early.
        assert_eq!(error_message("a » b"), "«a  b»");
    }

    #[test]
    fn the_vendors_words_can_be_withheld() {
        let m = format!(
            "greenhouse: vendor rejected the request (422): /v3/x: {}",
            quoted("secret sauce")
        );
        let u = unquoted(&m);
        assert!(!u.contains("secret sauce"), "{u}");
        assert!(
            u.starts_with("greenhouse: vendor rejected the request (422): /v3/x (the endpoint"),
            "{u}"
        );
        assert_eq!(unquoted("ours only"), "ours only");
        assert!(unquoted("a: «b» c: «d").starts_with("a c ("));
    }

    #[test]
    fn absurd_vendor_times_are_clamped_not_a_panic() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("1e20"));
        assert_eq!(retry_after(&h, now), Some(MAX_VENDOR_WAIT));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(MAX_VENDOR_WAIT));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("1"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1e25"));
        h.insert("x-ratelimit-limit", HeaderValue::from_static("1e25"));
        let info = rate_limit_info(&h, now).unwrap();
        assert_eq!(info.reset_in, Some(MAX_VENDOR_WAIT));
        assert_eq!(info.limit, Some(u32::MAX));
    }
}
