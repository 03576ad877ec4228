//! Record bodies through each vendor's decoder and mapper, then blind
//! redaction: whatever the JSON, no panic. The first byte picks the record.
#![no_main]

use ats_operator::model::BlindCandidate;
use ats_operator::vendors::{NoteMark, greenhouse, lever, workable};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fn decode<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let blind = |c: &ats_operator::model::Candidate| drop(BlindCandidate::from_candidate(c));
    match kind % 8 {
        0 => {
            if let Some(a) = decode::<greenhouse::mapping::GhApplication>(body) {
                let _ = greenhouse::mapping::application(&a);
            }
        }
        1 => {
            if let Some(c) = decode::<greenhouse::mapping::GhCandidate>(body) {
                let text = String::from_utf8_lossy(body).into_owned();
                blind(&greenhouse::mapping::candidate(&c, None, Some(text)));
            }
        }
        2 => {
            if let Some(j) = decode::<greenhouse::mapping::GhJob>(body) {
                let post = decode::<greenhouse::mapping::GhJobPost>(body);
                let _ = greenhouse::mapping::job(&j, post.as_ref());
            }
        }
        3 => {
            if let Some(p) = decode::<lever::mapping::LvPosting>(body) {
                let _ = lever::mapping::job(&p);
            }
        }
        4 => {
            if let Some(o) = decode::<lever::mapping::LvOpportunity>(body) {
                let _ = lever::mapping::application(&o, &Default::default());
                let resume = decode::<lever::mapping::LvResume>(body);
                blind(&lever::mapping::candidate(&o, resume.as_ref(), None));
            }
        }
        5 => {
            if let Some(j) = decode::<workable::mapping::WkJob>(body) {
                let _ = workable::mapping::job(&j);
            }
        }
        6 => {
            if let Some(c) = decode::<workable::mapping::WkCandidate>(body) {
                let _ = workable::mapping::application(&c, Some("JOB1"));
                blind(&workable::mapping::candidate(&c, None));
            }
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let _ = NoteMark::parse(&text);
            let _ = NoteMark::latest([text.as_ref()]);
        }
    }
});
