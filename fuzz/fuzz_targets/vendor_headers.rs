//! Rate-limit and paging headers: never a panic, and every wait they ask for
//! stays within the cap. The input is newline-separated header values.
#![no_main]

use ats_operator::vendors::http::{MAX_VENDOR_WAIT, next_link, rate_limit_info, retry_after};
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

const NAMES: [&str; 7] = [
    "retry-after",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
    "link",
];

fuzz_target!(|data: &[u8]| {
    let mut h = HeaderMap::new();
    for (name, value) in NAMES.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    let now = chrono::Utc::now();
    if let Some(d) = retry_after(&h, now) {
        assert!(d <= MAX_VENDOR_WAIT);
    }
    if let Some(info) = rate_limit_info(&h, now) {
        assert!(info.reset_in.is_none_or(|d| d <= MAX_VENDOR_WAIT));
    }
    let _ = next_link(&h);
});
