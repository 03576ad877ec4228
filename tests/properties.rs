//! Property tests: whatever a vendor (or something pretending to be one) sends
//! in headers and bodies, parsing and mapping never panic, and times stay
//! within their caps. Pure functions only: no traffic.

use ats_operator::model::BlindCandidate;
use ats_operator::vendors::http::{
    MAX_VENDOR_WAIT, next_link, parse_expiry, rate_limit_info, retry_after, token_expiry,
};
use ats_operator::vendors::{NoteMark, greenhouse, lever, workable};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// Arbitrary JSON, a few levels deep, with the numbers vendors get wrong.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just(1e16), Just(1e300), Just(-1e16), Just(0.0)]
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("9999-12-31T23:59:59Z".to_string()),
            Just("0000-01-01T00:00:00Z".to_string()),
            Just("1e25".to_string()),
            Just("2026-11-23T10:00:00.000Z".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names the mappers read, and others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "name",
            "title",
            "status",
            "state",
            "job_id",
            "candidate_id",
            "created_at",
            "updated_at",
            "updatedAt",
            "createdAt",
            "applications",
            "custom_fields",
            "value",
            "employments",
            "educations",
            "content",
            "text",
            "posting",
            "stage",
            "parsedData",
            "positions",
            "schools",
            "start",
            "end",
            "experience_entries",
            "education_entries",
            "job",
            "shortcode",
            "skills",
            "summary",
            "resume_url",
            "first_name",
            "last_name",
            "emails",
            "tags",
            "description",
            "requirements",
            "benefits",
            "lists",
            "expires_in",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,60}",
        Just("1e20".to_string()),
        Just("1e25".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
        Just("<https://x.example/a>; rel=\"next\", <>; rel=next".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
    ]
}

/// `v` as an object carrying `id` (what every record must have), so that the
/// mappers, not only the decoder, see the arbitrary rest.
fn with_id(v: Value, id: Value) -> Value {
    let mut m = match v {
        Value::Object(m) => m,
        other => [("extra".to_string(), other)].into_iter().collect(),
    };
    m.insert("id".into(), id);
    Value::Object(m)
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(HeaderName::from_static(k), v);
        }
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn rate_limit_headers_never_panic_and_stay_capped(
        retry in header_value(), remaining in header_value(), reset in header_value(),
        limit in header_value(), link in header_value(), secs in any::<i64>()
    ) {
        let now = Utc.timestamp_opt(secs.rem_euclid(4_000_000_000), 0).single().unwrap_or_else(Utc::now);
        let h = headers(&[
            ("retry-after", retry),
            ("x-ratelimit-remaining", remaining.clone()),
            ("x-ratelimit-reset", reset.clone()),
            ("x-ratelimit-limit", limit),
            ("x-rate-limit-remaining", remaining),
            ("x-rate-limit-reset", reset),
            ("link", link),
        ]);
        if let Some(d) = retry_after(&h, now) {
            prop_assert!(d <= MAX_VENDOR_WAIT);
        }
        if let Some(info) = rate_limit_info(&h, now) {
            prop_assert!(info.reset_in.is_none_or(|d| d <= MAX_VENDOR_WAIT));
        }
        let _ = next_link(&h);
    }

    #[test]
    fn token_responses_never_panic_and_lifetimes_are_capped(body in json(), s in ".{0,40}") {
        let now = Utc::now();
        if let Some(t) = token_expiry(&body, now) {
            prop_assert!(t <= now + chrono::Duration::days(1));
        }
        let _ = parse_expiry(&s);
    }

    #[test]
    fn markers_parse_whatever_the_note_says(body in ".{0,200}") {
        let _ = NoteMark::parse(&body);
        let _ = NoteMark::latest([body.as_str()]);
    }

    #[test]
    fn greenhouse_mappers_take_any_json(
        app in json(), cand in json(), job in json(), post in json(), id in any::<i64>()
    ) {
        let (app, cand, job, post) = (
            with_id(app, id.into()), with_id(cand, id.into()), with_id(job, id.into()), with_id(post, id.into()),
        );
        if let Ok(a) = serde_json::from_value::<greenhouse::mapping::GhApplication>(app) {
            let _ = greenhouse::mapping::application(&a);
        }
        if let Ok(c) = serde_json::from_value::<greenhouse::mapping::GhCandidate>(cand) {
            let c = greenhouse::mapping::candidate(&c, None, Some("resume".into()));
            let _ = BlindCandidate::from_candidate(&c);
        }
        if let Ok(j) = serde_json::from_value::<greenhouse::mapping::GhJob>(job) {
            let p = serde_json::from_value::<greenhouse::mapping::GhJobPost>(post).ok();
            let _ = greenhouse::mapping::job(&j, p.as_ref());
        }
    }

    #[test]
    fn lever_mappers_take_any_json(
        opp in json(), posting in json(), resume in json(), id in ".{0,12}"
    ) {
        let (opp, posting, resume) = (
            with_id(opp, id.clone().into()), with_id(posting, id.clone().into()), with_id(resume, id.into()),
        );
        if let Ok(p) = serde_json::from_value::<lever::mapping::LvPosting>(posting) {
            let _ = lever::mapping::job(&p);
        }
        if let Ok(o) = serde_json::from_value::<lever::mapping::LvOpportunity>(opp) {
            let _ = lever::mapping::application(&o, &Default::default());
            let r = serde_json::from_value::<lever::mapping::LvResume>(resume).ok();
            let c = lever::mapping::candidate(&o, r.as_ref(), Some("file".into()));
            let _ = BlindCandidate::from_candidate(&c);
        }
    }

    #[test]
    fn workable_mappers_take_any_json(
        cand in json(), job in json(), code in ".{0,8}", id in ".{0,12}"
    ) {
        let (cand, job) = (with_id(cand, id.clone().into()), with_id(job, id.into()));
        if let Ok(j) = serde_json::from_value::<workable::mapping::WkJob>(job) {
            let _ = workable::mapping::job(&j);
        }
        if let Ok(c) = serde_json::from_value::<workable::mapping::WkCandidate>(cand) {
            let _ = workable::mapping::application(&c, Some(&code));
            let c = workable::mapping::candidate(&c, Some("cv"));
            let _ = BlindCandidate::from_candidate(&c);
        }
    }
}

/// The mapper properties are not vacuous: a good share of the generated
/// records gets past the decoder and into the mappers.
#[test]
fn generated_records_reach_the_mappers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut gh, mut lv, mut wk) = (0, 0, 0);
    for _ in 0..300 {
        let v = json().new_tree(&mut runner).unwrap().current();
        let n = with_id(v.clone(), 7.into());
        let s = with_id(v, "x7".into());
        gh += usize::from(serde_json::from_value::<greenhouse::mapping::GhApplication>(n).is_ok());
        lv +=
            usize::from(serde_json::from_value::<lever::mapping::LvOpportunity>(s.clone()).is_ok());
        wk += usize::from(serde_json::from_value::<workable::mapping::WkCandidate>(s).is_ok());
    }
    assert!(
        gh >= 30 && lv >= 30 && wk >= 30,
        "decoded {gh}, {lv}, {wk} of 300"
    );
}
