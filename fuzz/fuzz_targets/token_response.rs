//! Token endpoint answers: never a panic, and a token's lifetime is capped at
//! a day whatever `expires_in` says.
#![no_main]

use ats_operator::vendors::http::{parse_expiry, token_expiry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = chrono::Utc::now();
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(t) = token_expiry(&body, now) {
            assert!(t <= now + chrono::Duration::days(1));
        }
    }
    let _ = parse_expiry(&String::from_utf8_lossy(data));
});
