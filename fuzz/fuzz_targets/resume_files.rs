//! Resume files of any bytes: the reader answers (text within its limit, or
//! why not). cargo-fuzz builds with `panic=abort`, so a parser panic the
//! reader would catch in production shows up here as a crash to look at.
#![no_main]

use ats_operator::documents::{Limits, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(e) = read(data, &limits) {
        assert!(e.text.chars().count() <= limits.max_chars);
        assert!(!e.text.trim().is_empty());
    }
});
