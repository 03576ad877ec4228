//! What the vendor client tests share: the sandbox's control API and request
//! counts, short retries, and a write-back request to send.

use std::collections::BTreeSet;
use std::time::Duration;

use ats_operator::model::{Application, Band, ChangeSet, ComponentScores, Score};
use ats_operator::sandbox::RunningSandbox;
use ats_operator::vendors::http::RetryPolicy;
use ats_operator::vendors::{AtsClient, BandTag, PullScope, VendorError, WriteBackRequest};
use reqwest::Method;
use serde_json::{Value, json};

/// A call to the sandbox's control API (`/_sandbox/{path}`) that must succeed;
/// its JSON answer.
pub async fn control(
    sb: &RunningSandbox,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut rb = reqwest::Client::new().request(method, format!("{}/_sandbox/{path}", sb.base_url));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("control request");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("control json")
}

pub async fn get(sb: &RunningSandbox, path: &str) -> Value {
    control(sb, Method::GET, path, None).await
}

pub async fn post(sb: &RunningSandbox, path: &str, body: Value) -> Value {
    control(sb, Method::POST, path, Some(body)).await
}

/// Sets the sandbox's rate limit (`{"requests", "window_seconds"}` or `{"disabled": true}`).
pub async fn rate_limit(sb: &RunningSandbox, body: Value) {
    control(sb, Method::PUT, "rate_limit", Some(body)).await;
}

/// The next `count` API requests under `path_prefix` answer `status`.
pub async fn faults(sb: &RunningSandbox, status: u16, count: u32, path_prefix: &str) {
    let body = json!({"status": status, "count": count, "path_prefix": path_prefix});
    post(sb, "faults", body).await;
}

pub async fn stats(sb: &RunningSandbox) -> Value {
    get(sb, "stats").await
}

/// Requests the sandbox answered on `route`, e.g. `GET /v3/jobs`.
pub fn count(stats: &Value, route: &str) -> u64 {
    stats["requests"][route].as_u64().unwrap_or(0)
}

/// The `application_ids` of a control API answer.
pub fn ids(v: &Value) -> BTreeSet<String> {
    v["application_ids"]
        .as_array()
        .expect("application_ids")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect()
}

/// A full pull of everything, which must succeed (`what` names it if not).
pub async fn pull_all(c: &impl AtsClient, what: &str) -> ChangeSet {
    c.pull(None, &PullScope::default()).await.expect(what)
}

/// A full pull of everything, which must fail; its error.
pub async fn pull_err(c: &impl AtsClient) -> VendorError {
    c.pull(None, &PullScope::default()).await.unwrap_err()
}

/// Short backoffs keep the fault tests fast; the attempt budget is the default.
pub fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
        ..RetryPolicy::default()
    }
}

/// A score of 87 in `band` for `app`, written as a note, the `ai_score`
/// custom field and an `ai-` band tag; tests drop what their vendor lacks.
pub fn write_request(app: &Application, key: &str, band: Band) -> WriteBackRequest {
    WriteBackRequest {
        application: app.clone(),
        score: Score {
            score: 87,
            components: ComponentScores {
                skills: Some(90),
                experience: Some(80),
                title: None,
                education: None,
            },
            strengths: vec!["Rust".into()],
            gaps: vec!["Kafka".into()],
            band,
        },
        note: true,
        custom_field: Some("ai_score".into()),
        band_tag: Some(BandTag::new("ai-", band)),
        key: key.into(),
        decided_at: chrono::Utc::now(),
        profile: "test (generation 1)".into(),
    }
}
