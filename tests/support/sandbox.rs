//! Vendor sandboxes in-process, as the sandbox tests and the client tests
//! start them.

use std::time::Duration;

use ats_operator::model::VendorKind;
use ats_operator::sandbox::{self, RunningSandbox, SandboxOptions};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// `applications` over `jobs` jobs, without a rate limit (so request counts
/// and timings depend on the test alone); everything else the default.
pub fn unlimited(applications: usize, jobs: usize) -> SandboxOptions {
    SandboxOptions {
        applications,
        jobs,
        rate_limit: None,
        ..Default::default()
    }
}

/// As [`unlimited`], with a limit of `requests` per `window`.
pub fn rate_limited(
    applications: usize,
    jobs: usize,
    requests: u32,
    window: Duration,
) -> SandboxOptions {
    SandboxOptions {
        rate_limit: Some((requests, window)),
        ..unlimited(applications, jobs)
    }
}

/// The sandbox's counters (`/_sandbox/stats`) named in `expected` have its values.
pub fn assert_counts(stats: &Value, expected: Value) {
    for (k, v) in expected.as_object().expect("counters") {
        assert_eq!(&stats[k], v, "{k} in {stats}");
    }
}

/// The JSON of a response that must be `200 OK` (`what` names the request).
pub async fn ok_json(r: reqwest::Response, what: &str) -> Value {
    assert_eq!(r.status(), StatusCode::OK, "{what}");
    r.json().await.unwrap()
}

/// A response header, as text.
pub fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()[name].to_str().unwrap()
}

/// A vendor sandbox on loopback, a plain HTTP client for it and the
/// credentials it hands out: what the sandbox tests, which exercise it from
/// outside, build on (each adds its vendor's calls in an `impl` of its own).
pub struct Harness {
    pub sb: RunningSandbox,
    pub http: reqwest::Client,
    /// `/_sandbox/credentials` as served at start.
    pub creds: Value,
}

impl Harness {
    pub async fn launch(vendor: VendorKind, opts: SandboxOptions) -> Harness {
        let sb = sandbox::start(vendor, "127.0.0.1:0".parse().unwrap(), opts)
            .await
            .expect("sandbox starts");
        let mut h = Harness {
            sb,
            http: reqwest::Client::new(),
            creds: Value::Null,
        };
        h.creds = h.credentials().await;
        h
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sb.base_url, path)
    }

    /// `GET path` with a bearer `token`.
    pub async fn bearer(&self, token: &str, path: &str) -> reqwest::Response {
        let r = self.http.get(self.url(path)).bearer_auth(token);
        r.send().await.unwrap()
    }

    /// A call to the control API, `/_sandbox/{path}`, with a JSON `body`.
    pub async fn control(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.http
            .request(method, self.url(&format!("/_sandbox/{path}")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `GET /_sandbox/{path}`, whatever it answers.
    pub async fn control_get_raw(&self, path: &str) -> reqwest::Response {
        let url = self.url(&format!("/_sandbox/{path}"));
        self.http.get(url).send().await.unwrap()
    }

    /// `GET /_sandbox/{path}`, which must answer 200; its JSON.
    pub async fn control_get(&self, path: &str) -> Value {
        let r = self.control_get_raw(path).await;
        ok_json(r, &format!("GET /_sandbox/{path}")).await
    }

    /// What the sandbox hands a tenant: `/_sandbox/credentials`.
    pub async fn credentials(&self) -> Value {
        self.control_get("credentials").await
    }
}
