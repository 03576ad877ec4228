//! The Greenhouse Harvest v3 sandbox, exercised from outside with plain HTTP.

use std::collections::HashSet;
use std::time::Duration;

use ats_operator::model::VendorKind;
use ats_operator::sandbox::SandboxOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::client::count;
use support::sandbox::{Harness as Sb, assert_counts, header, ok_json, rate_limited, unlimited};

mod support;

/// The usual size of this file's sandbox.
fn small() -> SandboxOptions {
    unlimited(60, 6)
}

impl Sb {
    async fn start(opts: SandboxOptions) -> Sb {
        Sb::launch(VendorKind::Greenhouse, opts).await
    }

    fn id(&self) -> &str {
        self.creds["client_id"].as_str().unwrap()
    }

    fn secret(&self) -> &str {
        self.creds["client_secret"].as_str().unwrap()
    }

    async fn token_response(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(&self.sb.token_url)
            .basic_auth(self.id(), Some(self.secret()))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn token_for(&self, sub: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = sub {
            form.push(("sub", s));
        }
        let r = self.token_response(&form).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn token(&self) -> String {
        let admin = self.creds["site_admin_user_id"].to_string();
        self.token_for(Some(&admin)).await
    }

    async fn get_json(&self, token: &str, path_and_query: &str) -> Value {
        ok_json(self.bearer(token, path_and_query).await, path_and_query).await
    }

    /// A `method` request to `path` with `token` and, if any, a JSON `body`.
    async fn send(
        &self,
        method: Method,
        token: &str,
        path: impl AsRef<str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let rb = self.http.request(method, self.url(path.as_ref()));
        let rb = rb.bearer_auth(token);
        let rb = match body {
            Some(b) => rb.json(b),
            None => rb,
        };
        rb.send().await.unwrap()
    }

    /// The body at `url` (a file link, presigned: no token).
    async fn text_at(&self, url: &str) -> String {
        let r = self.http.get(url).send().await.unwrap();
        r.text().await.unwrap()
    }

    async fn stats(&self) -> Value {
        self.control_get("stats").await
    }

    /// Follows `Link: rel="next"` to the end; returns (all items, pages).
    async fn walk(&self, token: &str, first: &str) -> (Vec<Value>, usize) {
        let mut url = self.url(first);
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let r = self.http.get(&url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{url}");
            let next = next_link(r.headers());
            let page: Vec<Value> = r.json().await.unwrap();
            items.extend(page);
            pages += 1;
            match next {
                Some(n) => url = n,
                None => return (items, pages),
            }
        }
    }
}

fn next_link(h: &reqwest::header::HeaderMap) -> Option<String> {
    let v = h.get("link")?.to_str().ok()?;
    assert!(v.ends_with("; rel=\"next\""), "{v}");
    Some(
        v.split(';')
            .next()?
            .trim()
            .trim_matches(['<', '>'])
            .to_string(),
    )
}

/// A JSON array's items.
fn arr(v: &Value) -> &[Value] {
    v.as_array().unwrap()
}

/// A rejection: `status`, and a `message` that starts with `start`.
async fn assert_message(r: reqwest::Response, status: StatusCode, start: &str) {
    assert_eq!(r.status(), status);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().starts_with(start), "{v}");
}

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().map(|v| v["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn token_flow_and_errors() {
    let s = Sb::start(small()).await;
    // Success, without sub: the integration service user.
    let r = s
        .token_response(&[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).is_ok());
    let tok = v["access_token"].as_str().unwrap();
    assert_eq!(tok.split('.').count(), 3);
    assert_eq!(s.bearer(tok, "/v3/jobs").await.status(), StatusCode::OK);

    // No credentials.
    let r = s
        .http
        .post(&s.sb.token_url)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "Unauthorized");
    assert!(v["errorId"].as_str().unwrap().starts_with("err-"));

    // Wrong secret.
    let r = s
        .http
        .post(&s.sb.token_url)
        .basic_auth(s.id(), Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "invalid_client"})
    );

    // Missing and bad grant types.
    let r = s.token_response(&[]).await;
    assert_message(r, StatusCode::BAD_REQUEST, "Must include `grant_type`").await;
    let r = s.token_response(&[("grant_type", "not_a_grant")]).await;
    let invalid = "grant_type=not_a_grant is invalid, please use one of:";
    assert_message(r, StatusCode::BAD_REQUEST, invalid).await;

    // Unknown sub.
    let r = s
        .token_response(&[("grant_type", "client_credentials"), ("sub", "424242")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    assert!(s.stats().await["token_requests"].as_u64().unwrap() >= 6);
}

#[tokio::test]
async fn api_auth_errors_and_site_admin() {
    let s = Sb::start(small()).await;
    let expected = json!({
        "message": "Unauthorized",
        "errors": ["Token could not be decoded. Please ensure your token is from a trusted source."]
    });
    let r = s.http.get(s.url("/v3/applications")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
    let r = s.bearer("garbage", "/v3/applications").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap(), expected);
    // A tampered token.
    let mut tok = s.token().await;
    tok.replace_range(tok.len() - 2.., "AA");
    assert_eq!(
        s.bearer(&tok, "/v3/jobs").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A basic (non Site Admin) user may not list.
    let basic = s.creds["basic_user_id"].to_string();
    let bt = s.token_for(Some(&basic)).await;
    let r = s.bearer(&bt, "/v3/applications").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert!(v["errors"][0].as_str().unwrap().contains("Site Admin"));

    // Unknown routes are JSON 404s.
    let tok = s.token().await;
    let r = s.bearer(&tok, "/v3/nothing_here").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
}

#[tokio::test]
async fn token_expiry_revocation_and_short_ttl() {
    let s = Sb::start(SandboxOptions {
        token_ttl: Duration::from_secs(1),
        ..unlimited(10, 3)
    })
    .await;
    let r = s
        .token_response(&[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["expires_in"], 1);

    // Expiry is forced through the control API, so no timing is involved;
    // a revocation kills the token as well.
    let mut tok = String::new();
    for kill in ["tokens/expire", "credentials/revoke"] {
        tok = s.token().await;
        assert_eq!(s.bearer(&tok, "/v3/jobs").await.status(), StatusCode::OK);
        let r = s.control(Method::POST, kill, json!({})).await;
        assert!(r.status().is_success());
        let after = s.bearer(&tok, "/v3/jobs").await.status();
        assert_eq!(after, StatusCode::UNAUTHORIZED, "{kill}");
    }
    let r = s
        .token_response(&[("grant_type", "client_credentials")])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    s.control(reqwest::Method::POST, "credentials/restore", json!({}))
        .await;
    // Old tokens stay void; new ones work.
    assert_eq!(
        s.bearer(&tok, "/v3/jobs").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let tok = s.token().await;
    assert_eq!(s.bearer(&tok, "/v3/jobs").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn paging_with_link_and_cursor_rules() {
    let s = Sb::start(small()).await;
    let tok = s.token().await;
    let (all, pages) = s.walk(&tok, "/v3/applications?per_page=7").await;
    assert_eq!(all.len(), 60);
    assert_eq!(pages, 60usize.div_ceil(7));
    let got = ids(&all);
    let mut sorted = got.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got, sorted, "id descending");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());

    // The last page has no Link; a full single page neither.
    let r = s.bearer(&tok, "/v3/applications?per_page=500").await;
    assert!(r.headers().get("link").is_none());
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 60);

    // Default page size 100 (60 fit on one page).
    let r = s.bearer(&tok, "/v3/applications").await;
    assert!(r.headers().get("link").is_none());

    // Link points at the sandbox with only a cursor.
    let r = s.bearer(&tok, "/v3/applications?per_page=5").await;
    let next = next_link(r.headers()).unwrap();
    assert!(next.starts_with(&format!("{}/v3/applications?cursor=", s.sb.base_url)));
    let query = next.split_once('?').unwrap().1;
    assert!(!query.contains('&'));

    // cursor plus anything else: 422 with a JSON message.
    let r = s
        .http
        .get(format!("{next}&per_page=5"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());

    // Bad cursor, bad per_page.
    for q in [
        "cursor=bm90LWEtY3Vyc29y",
        "cursor=!!!",
        "per_page=0",
        "per_page=501",
        "per_page=ten",
    ] {
        let r = s.bearer(&tok, &format!("/v3/applications?{q}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }

    // Every list endpoint pages the same way.
    for ep in ["jobs", "job_posts", "candidates", "attachments"] {
        let (items, _) = s.walk(&tok, &format!("/v3/{ep}?per_page=4")).await;
        assert!(!items.is_empty(), "{ep}");
        let got = ids(&items);
        assert!(got.windows(2).all(|w| w[0] > w[1]), "{ep} id descending");
    }
}

#[tokio::test]
async fn filters() {
    let s = Sb::start(small()).await;
    let tok = s.token().await;
    let all: Vec<Value> = s
        .get_json(&tok, "/v3/applications?per_page=500")
        .await
        .as_array()
        .unwrap()
        .clone();

    // Filters carried by the cursor across pages.
    let job_id = all[0]["job_id"].as_u64().unwrap();
    let expected: Vec<u64> = all
        .iter()
        .filter(|a| a["job_id"] == job_id)
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    let (items, _) = s
        .walk(
            &tok,
            &format!("/v3/applications?job_ids={job_id}&per_page=2"),
        )
        .await;
    assert_eq!(ids(&items), expected);

    // ids / candidate_ids.
    let some: Vec<String> = all[..3].iter().map(|a| a["id"].to_string()).collect();
    let v = s
        .get_json(&tok, &format!("/v3/applications?ids={}", some.join(",")))
        .await;
    assert_eq!(v.as_array().unwrap().len(), 3);
    let cid = all[5]["candidate_id"].as_u64().unwrap();
    let v = s
        .get_json(&tok, &format!("/v3/applications?candidate_ids={cid}"))
        .await;
    assert!(arr(&v).iter().all(|a| a["candidate_id"] == cid));
    assert!(!v.as_array().unwrap().is_empty());

    // More than 50 ids: 422.
    let many: Vec<String> = (1..=51).map(|i| i.to_string()).collect();
    let r = s
        .bearer(&tok, &format!("/v3/applications?ids={}", many.join(",")))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // status: `active` matches `in_process`.
    let v = s
        .get_json(&tok, "/v3/applications?status=active&per_page=500")
        .await;
    let active = v.as_array().unwrap();
    assert!(!active.is_empty());
    assert!(active.iter().all(|a| a["status"] == "in_process"));
    assert_eq!(
        active.len(),
        all.iter().filter(|a| a["status"] == "in_process").count()
    );
    let r = s.bearer(&tok, "/v3/applications?status=in_process").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // updated_at with one and two operators.
    let mut times: Vec<&str> = all
        .iter()
        .map(|a| a["updated_at"].as_str().unwrap())
        .collect();
    times.sort_unstable();
    let mid = times[times.len() / 2];
    let v = s
        .get_json(
            &tok,
            &format!("/v3/applications?updated_at=gte|{mid}&per_page=500"),
        )
        .await;
    let n = v.as_array().unwrap().len();
    assert_eq!(n, times.iter().filter(|t| **t >= mid).count());
    let (lo, hi) = (times[10], times[40]);
    let v = s
        .get_json(
            &tok,
            &format!("/v3/applications?updated_at=gte|{lo}|lte|{hi}&per_page=500"),
        )
        .await;
    assert_eq!(
        v.as_array().unwrap().len(),
        times.iter().filter(|t| **t >= lo && **t <= hi).count()
    );
    let v = s
        .get_json(
            &tok,
            &format!("/v3/applications?created_at=gt|{hi}&per_page=500"),
        )
        .await;
    assert!(
        arr(&v)
            .iter()
            .all(|a| a["created_at"].as_str().unwrap() > hi)
    );
    for bad in [
        "updated_at=2025-01-01",
        "updated_at=after|2025-01-01T00:00:00Z",
        "created_at=gte|nope",
    ] {
        let r = s.bearer(&tok, &format!("/v3/applications?{bad}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Candidates by email (case-insensitive) and ids.
    let cands = s.get_json(&tok, "/v3/candidates?per_page=3").await;
    let c = &cands[1];
    let email = c["email_addresses"][0]["value"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let v = s
        .get_json(&tok, &format!("/v3/candidates?email={}", urlencode(&email)))
        .await;
    assert_eq!(ids(arr(&v)), vec![c["id"].as_u64().unwrap()]);
    let v = s
        .get_json(&tok, &format!("/v3/candidates?ids={}", c["id"]))
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    // v1's `candidate_ids` is no v3 candidates filter.
    let r = s
        .bearer(&tok, &format!("/v3/candidates?candidate_ids={}", c["id"]))
        .await;
    assert_message(r, StatusCode::UNPROCESSABLE_ENTITY, "candidate_ids is not").await;
    assert!(v[0].get("applications").is_none());
    for k in [
        "first_name",
        "last_name",
        "company",
        "title",
        "phone_numbers",
        "addresses",
        "tags",
        "custom_fields",
        "last_activity_at",
    ] {
        assert!(v[0].get(k).is_some(), "candidate.{k}");
    }

    // Jobs by status; job posts carry the description.
    let open = s.get_json(&tok, "/v3/jobs?status=open").await;
    assert!(arr(&open).iter().all(|j| j["status"] == "open"));
    assert_eq!(
        s.bearer(&tok, "/v3/jobs?status=bogus").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let posts = s.get_json(&tok, "/v3/job_posts").await;
    let content = posts[0]["content"].as_str().unwrap();
    assert!(content.contains("years of experience"));
    assert!(content.contains("<li>"));
    assert!(posts[0]["location"]["name"].is_string());

    // Attachments by application, and the file behind the URL.
    let app = &all[3];
    let v = s
        .get_json(
            &tok,
            &format!("/v3/attachments?application_ids={}", app["id"]),
        )
        .await;
    let att = &v[0];
    assert_eq!(att["type"], "resume");
    assert_eq!(att["candidate_id"], app["candidate_id"]);
    let r = s
        .http
        .get(att["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The file as uploaded (PDF, Word, HTML or text), with its content type.
    let content_type = header(&r, "content-type").to_string();
    let bytes = r.bytes().await.unwrap();
    let read = ats_operator::documents::read(&bytes, &Default::default()).expect("readable");
    let expected = match read.format {
        ats_operator::model::DocumentFormat::Pdf => "application/pdf",
        ats_operator::model::DocumentFormat::Docx => "application/vnd.openxmlformats",
        ats_operator::model::DocumentFormat::Html => "text/html",
        ats_operator::model::DocumentFormat::Text => "text/plain",
    };
    assert!(content_type.starts_with(expected), "{content_type}");
    let text = read.text;
    for h in ["SUMMARY", "EXPERIENCE", "EDUCATION", "SKILLS"] {
        assert!(text.lines().any(|l| l == h), "{h}");
    }
    let r = s
        .http
        .get(s.url("/files/1/nothing.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let s = Sb::start(rate_limited(10, 3, 3, Duration::from_secs(600))).await;
    let tok = s.token().await;
    let now = chrono::Utc::now().timestamp() as u64;
    for remaining in [2, 1, 0] {
        let r = s.bearer(&tok, "/v3/jobs").await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], remaining.to_string().as_str());
        let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > now && reset <= now + 602, "{reset} vs {now}");
    }
    let r = s.bearer(&tok, "/v3/jobs").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=600).contains(&retry));
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    // Writes count too.
    let r = s
        .send(Method::POST, &tok, "/v3/notes", Some(&json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Downloads and the token endpoint are not limited by the API window.
    assert!(
        s.token_response(&[("grant_type", "client_credentials")])
            .await
            .status()
            .is_success()
    );

    let st = s.stats().await;
    assert_eq!(st["rate_limited"], 2);
    assert_eq!(st["requests"]["GET /v3/jobs"], 4);
    assert_eq!(st["requests"]["POST /v3/notes"], 1);

    // Reconfigure: off, then a new limit takes effect at once.
    let r = s
        .control(
            reqwest::Method::PUT,
            "rate_limit",
            json!({"disabled": true}),
        )
        .await;
    assert!(r.status().is_success());
    let r = s.bearer(&tok, "/v3/jobs").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("x-ratelimit-limit").is_none());
    s.control(
        reqwest::Method::PUT,
        "rate_limit",
        json!({"requests": 50, "window_seconds": 30}),
    )
    .await;
    let r = s.bearer(&tok, "/v3/jobs").await;
    assert_eq!(r.headers()["x-ratelimit-limit"], "50");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "49");
}

#[tokio::test]
async fn writes_notes_custom_fields_and_tags() {
    let s = Sb::start(small()).await;
    let tok = s.token().await;
    let apps = s.get_json(&tok, "/v3/applications?per_page=2").await;
    let app = &apps[0];
    let (aid, cid) = (
        app["id"].as_u64().unwrap(),
        app["candidate_id"].as_u64().unwrap(),
    );
    assert_eq!(
        app["custom_fields"]["ai_score"],
        json!({"name": "AI Score", "type": "number", "value": null})
    );

    // Note: 201 with the read shape; user defaults to the token's sub.
    let note = json!({"candidate_id": cid, "application_id": aid, "body": "AI match score: 87/100", "visibility": "admin_only", "note_type": "NOTE"});
    let r = s.send(Method::POST, &tok, "/v3/notes", Some(&note)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let note: Value = r.json().await.unwrap();
    assert_eq!(note["visibility"], "admin_only_visible");
    assert_eq!(note["user_id"], s.creds["site_admin_user_id"]);
    assert_eq!(note["application_id"], aid);
    let listed = s
        .get_json(&tok, &format!("/v3/notes?application_ids={aid}"))
        .await;
    assert_eq!(ids(arr(&listed)), vec![note["id"].as_u64().unwrap()]);
    let ctl: Value = s.control_get(&format!("applications/{aid}/notes")).await;
    assert_eq!(ctl.as_array().unwrap().len(), 1);
    // Bad notes.
    for body in [
        json!({"candidate_id": cid, "body": "x", "visibility": "everyone"}),
        json!({"candidate_id": 1, "body": "x", "visibility": "public"}),
        json!({"candidate_id": cid, "visibility": "public"}),
        json!({"candidate_id": cid, "application_id": 1, "body": "x", "visibility": "public"}),
    ] {
        let r = s.send(Method::POST, &tok, "/v3/notes", Some(&body)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    // PATCH custom fields: 204, bumps updated_at, visible in reads.
    let before = app["updated_at"].as_str().unwrap().to_string();
    let fields = json!({"custom_fields": [{"name_key": "ai_score", "value": 87}, {"name_key": "ai_band", "value": "strong_fit"}]});
    let path = format!("/v3/applications/{aid}");
    let r = s.send(Method::PATCH, &tok, &path, Some(&fields)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v = s
        .get_json(&tok, &format!("/v3/applications?ids={aid}"))
        .await;
    assert_eq!(v[0]["custom_fields"]["ai_score"]["value"], 87);
    assert_eq!(v[0]["custom_fields"]["ai_band"]["value"], "strong_fit");
    assert!(v[0]["updated_at"].as_str().unwrap() > before.as_str());
    let ctl: Value = s.control_get(&format!("applications/{aid}")).await;
    assert_eq!(ctl["custom_fields"]["ai_score"]["value"], 87);
    for (path, body, status) in [
        (
            format!("/v3/applications/{aid}"),
            json!({"custom_fields": [{"name_key": "nope", "value": 1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("/v3/applications/{aid}"),
            json!({"custom_fields": [{"name_key": "ai_score", "value": "high"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v3/applications/1".to_string(),
            json!({"custom_fields": [{"name_key": "ai_score", "value": 1}]}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = s.send(Method::PATCH, &tok, &path, Some(&body)).await;
        assert_eq!(r.status(), status, "{body}");
    }

    // Tags: create, apply, list, remove.
    let r = s
        .send(
            Method::POST,
            &tok,
            "/v3/candidate_tags",
            Some(&json!({"name": "ai-strong-fit"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let tag: Value = r.json().await.unwrap();
    let tags = s.get_json(&tok, "/v3/candidate_tags").await;
    assert!(arr(&tags).iter().any(|t| t["name"] == "ai-strong-fit"));
    let r = s
        .send(
            Method::POST,
            &tok,
            "/v3/applied_candidate_tags",
            Some(&json!({"candidate_id": cid, "candidate_tag_id": tag["id"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let applied: Value = r.json().await.unwrap();
    let v = s
        .get_json(
            &tok,
            &format!("/v3/applied_candidate_tags?candidate_ids={cid}"),
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let c = s.get_json(&tok, &format!("/v3/candidates?ids={cid}")).await;
    assert_eq!(c[0]["tags"], json!(["ai-strong-fit"]));
    // Removed once; then it is gone.
    let applied_tag = format!("/v3/applied_candidate_tags/{}", applied["id"]);
    for status in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let r = s.send(Method::DELETE, &tok, &applied_tag, None).await;
        assert_eq!(r.status(), status);
    }

    let st = s.stats().await;
    let writes = json!({"notes_created": 1, "application_patches": 1, "tags_applied": 1});
    assert_counts(&st, writes);
    assert!(count(&st, "PATCH /v3/applications/{id}") >= 1);
}

#[tokio::test]
async fn control_endpoints() {
    let s = Sb::start(small()).await;
    let tok = s.token().await;
    for k in [
        "client_id",
        "client_secret",
        "site_admin_user_id",
        "basic_user_id",
    ] {
        assert!(!s.creds[k].is_null(), "{k}");
    }

    // Faults: the next N matching requests fail, others pass.
    let r = s
        .control(
            reqwest::Method::POST,
            "faults",
            json!({"status": 503, "count": 2, "path_prefix": "/v3/applications"}),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(s.bearer(&tok, "/v3/jobs").await.status(), StatusCode::OK);
    assert_eq!(
        s.bearer(&tok, "/v3/applications").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        s.bearer(&tok, "/v3/applications").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        s.bearer(&tok, "/v3/applications").await.status(),
        StatusCode::OK
    );
    s.control(
        reqwest::Method::POST,
        "faults",
        json!({"status": 429, "count": 1, "path_prefix": "/v3/notes"}),
    )
    .await;
    let r = s.bearer(&tok, "/v3/notes").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    let r = s
        .control(reqwest::Method::POST, "faults", json!({"status": 404}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Touch: resume changes; candidate, application and attachment timestamps move.
    let apps = s.get_json(&tok, "/v3/applications?per_page=500").await;
    let app = apps[7].clone();
    let aid = app["id"].as_u64().unwrap();
    let att = s
        .get_json(&tok, &format!("/v3/attachments?application_ids={aid}"))
        .await[0]
        .clone();
    let before_text = s.text_at(att["url"].as_str().unwrap()).await;
    let r = s
        .control(
            reqwest::Method::POST,
            "touch",
            json!({"application_ids": [aid.to_string()]}),
        )
        .await;
    assert!(r.status().is_success());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["application_ids"], json!([aid.to_string()]));
    let after_app = s
        .get_json(&tok, &format!("/v3/applications?ids={aid}"))
        .await;
    assert!(after_app[0]["updated_at"].as_str() > app["updated_at"].as_str());
    let since = after_app[0]["updated_at"].as_str().unwrap();
    let changed = s
        .get_json(&tok, &format!("/v3/applications?updated_at=gte|{since}"))
        .await;
    assert_eq!(ids(arr(&changed)), vec![aid]);
    let cands = s
        .get_json(&tok, &format!("/v3/candidates?updated_at=gte|{since}"))
        .await;
    assert_eq!(
        ids(arr(&cands)),
        vec![app["candidate_id"].as_u64().unwrap()]
    );
    let att2 = s
        .get_json(&tok, &format!("/v3/attachments?application_ids={aid}"))
        .await[0]
        .clone();
    assert!(att2["updated_at"].as_str() > att["updated_at"].as_str());
    let after_text = s.text_at(att2["url"].as_str().unwrap()).await;
    assert_ne!(before_text, after_text);

    let r = s
        .control(reqwest::Method::POST, "touch", json!({"count": 3}))
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["application_ids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let r = s
        .control(
            reqwest::Method::POST,
            "touch",
            json!({"application_ids": [1]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // New applications: newest ids, on open jobs.
    let r = s
        .control(reqwest::Method::POST, "applications", json!({"count": 4}))
        .await;
    let v: Value = r.json().await.unwrap();
    let new: Vec<u64> = v["application_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(new.len(), 4);
    let top = s.get_json(&tok, "/v3/applications?per_page=4").await;
    let mut expect = new.clone();
    expect.reverse();
    assert_eq!(ids(arr(&top)), expect);
    let ctl: Value = s.control_get("applications").await;
    assert_eq!(ctl.as_array().unwrap().len(), 64);
    let newest = ctl
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == new[0])
        .unwrap();
    assert_eq!(newest["job_status"], "open");

    let st = s.stats().await;
    assert!(count(&st, "GET /v3/applications") >= 5);
    assert!(st["faults_injected"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn same_seed_same_data_over_http() {
    let a = Sb::start(small()).await;
    let b = Sb::start(small()).await;
    let (ta, tb) = (a.token().await, b.token().await);
    let mut va = a.get_json(&ta, "/v3/candidates?per_page=500").await;
    let mut vb = b.get_json(&tb, "/v3/candidates?per_page=500").await;
    assert_eq!(va, vb);
    va = a.get_json(&ta, "/v3/applications?per_page=500").await;
    vb = b.get_json(&tb, "/v3/applications?per_page=500").await;
    assert_eq!(va, vb);
    a.sb.shutdown().await;
}

#[tokio::test]
async fn ten_thousand_applications_page_through() {
    let s = Sb::start(unlimited(10_000, 60)).await;
    let tok = s.token().await;
    let (items, pages) = s.walk(&tok, "/v3/applications?per_page=500").await;
    assert_eq!(items.len(), 10_000);
    assert_eq!(pages, 20);
    // A spread of fits: candidates' skills vary across jobs.
    let cands = s.get_json(&tok, "/v3/candidates?per_page=500").await;
    assert_eq!(cands.as_array().unwrap().len(), 500);
}

/// `/v3/users` in the v3 shape (`primary_email`, `emails`, `deactivated`),
/// service accounts hidden unless `show_service_accounts=true`.
#[tokio::test]
async fn users_in_the_v3_shape() {
    let s = Sb::start(small()).await;
    let tok = s.token().await;
    let users = s.get_json(&tok, "/v3/users").await;
    let listed = ids(arr(&users));
    let integration = s.creds["integration_user_id"].as_u64().unwrap();
    let deactivated = s.creds["deactivated_user_id"].as_u64().unwrap();
    assert!(!listed.contains(&integration), "{users}");
    assert_eq!(listed.len(), 3);
    assert!(listed.windows(2).all(|w| w[0] > w[1]), "id descending");
    let admin = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == s.creds["site_admin_user_id"])
        .unwrap();
    assert_eq!(admin["primary_email"], "ada.admin@sandbox.example.com");
    assert_eq!(admin["emails"], json!(["ada.admin@sandbox.example.com"]));
    assert_eq!(admin["deactivated"], false);
    assert_eq!(admin["site_admin"], true);
    for k in [
        "name",
        "first_name",
        "last_name",
        "employee_id",
        "job_title",
        "department_ids",
        "office_ids",
        "linked_candidate_ids",
        "custom_fields",
        "created_at",
        "updated_at",
    ] {
        assert!(admin.get(k).is_some(), "{k}: {admin}");
    }
    // Not the v1 names.
    assert!(admin.get("primary_email_address").is_none());
    assert!(admin.get("disabled").is_none());

    let all = s
        .get_json(&tok, "/v3/users?show_service_accounts=true")
        .await;
    let isu = all
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == integration)
        .expect("service account listed when asked for");
    assert_eq!(isu["primary_email"], "");
    assert_eq!(isu["emails"], json!([]));
    assert_eq!(
        s.bearer(&tok, "/v3/users?show_service_accounts=yes")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let gone = s.get_json(&tok, "/v3/users?deactivated=true").await;
    assert_eq!(ids(arr(&gone)), vec![deactivated]);
    assert_eq!(gone[0]["deactivated"], true);
    let by_email = s
        .get_json(
            &tok,
            "/v3/users?primary_email=ADA.ADMIN@sandbox.example.com",
        )
        .await;
    assert_eq!(by_email.as_array().unwrap().len(), 1);
    assert_eq!(by_email[0]["id"], admin["id"]);
    let by_employee = s.get_json(&tok, "/v3/users?employee_ids=E-1002").await;
    assert_eq!(by_employee[0]["id"], s.creds["basic_user_id"]);
    let since = admin["updated_at"].as_str().unwrap();
    let later = s
        .get_json(&tok, &format!("/v3/users?updated_at=gt|{since}"))
        .await;
    assert!(!ids(arr(&later)).contains(&admin["id"].as_u64().unwrap()));

    // A deactivated user may not act.
    let r = s
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("sub", &deactivated.to_string()),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

/// The partner's side of the authorization code grant.
struct PartnerApp<'a> {
    s: &'a Sb,
    /// Does not follow redirects: the code is read from `Location`.
    http: reqwest::Client,
}

impl PartnerApp<'_> {
    fn new(s: &Sb) -> PartnerApp<'_> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        PartnerApp { s, http }
    }

    fn cred(&self, k: &str) -> &str {
        self.s.creds["partner"][k].as_str().unwrap()
    }

    async fn authorize(&self, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", self.cred("client_id")),
            ("redirect_uri", self.cred("redirect_uri")),
            ("state", "st-42"),
            ("scope", "harvest:applications:list harvest:jobs:list"),
        ];
        for (k, v) in extra {
            q.retain(|(qk, _)| qk != k);
            q.push((k, v));
        }
        self.http
            .get(self.cred("authorize_url"))
            .query(&q)
            .send()
            .await
            .unwrap()
    }

    /// The query of the redirect the authorization step answered.
    async fn redirect(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let r = self.authorize(extra).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let loc = header(&r, "location").to_string();
        assert!(loc.starts_with(self.cred("redirect_uri")), "{loc}");
        let u = reqwest::Url::parse(&loc).unwrap();
        u.query_pairs().into_owned().collect()
    }

    async fn code(&self, extra: &[(&str, &str)]) -> String {
        let q = self.redirect(extra).await;
        assert!(q.contains(&("state".into(), "st-42".into())), "{q:?}");
        q.into_iter().find(|(k, _)| k == "code").unwrap().1
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .s
            .http
            .post(self.cred("token_url"))
            .basic_auth(self.cred("client_id"), Some(self.cred("client_secret")))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        let redirect = self.cred("redirect_uri").to_string();
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect),
        ])
        .await
    }

    async fn refresh(&self, rt: &str) -> (StatusCode, Value) {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
            .await
    }
}

#[tokio::test]
async fn partner_authorization_code_with_rotating_refresh_tokens() {
    let s = Sb::start(small()).await;
    let p = PartnerApp::new(&s);

    // Authorize: a redirect to the registered URI with a code and the state.
    let code = p.code(&[]).await;
    // The custom integration's credentials may not redeem it.
    let r = s
        .token_response(&[("grant_type", "authorization_code"), ("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    let (st, t1) = p.exchange(&code).await;
    assert_eq!(st, StatusCode::OK, "{t1}");
    assert_eq!(t1["token_type"], "Bearer");
    assert_eq!(t1["expires_in"], 3600);
    assert!(chrono::DateTime::parse_from_rfc3339(t1["expires_at"].as_str().unwrap()).is_ok());
    assert_eq!(t1["scope"], "harvest:applications:list harvest:jobs:list");
    let at = t1["access_token"].as_str().unwrap();
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    // It acts as the Site Admin who consented.
    assert_eq!(
        s.bearer(at, "/v3/applications").await.status(),
        StatusCode::OK
    );

    // Every refresh answers a new refresh token; the one used is dead.
    let (st, t2) = p.refresh(&rt1).await;
    assert_eq!(st, StatusCode::OK, "{t2}");
    let rt2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt2, rt1);
    assert_ne!(t2["access_token"], t1["access_token"]);
    let (st, old) = p.refresh(&rt1).await;
    assert_eq!(
        (st, old["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (st, t3) = p.refresh(&rt2).await;
    assert_eq!(st, StatusCode::OK);
    let rt3 = t3["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        s.bearer(t3["access_token"].as_str().unwrap(), "/v3/jobs")
            .await
            .status(),
        StatusCode::OK
    );

    // Codes work once; one redeemed twice takes what it bought with it.
    let stolen = p.code(&[]).await;
    let (_, t) = p.exchange(&stolen).await;
    let bought = t["refresh_token"].as_str().unwrap().to_string();
    let (st, again) = p.exchange(&stolen).await;
    assert_eq!(
        (st, again["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(p.refresh(&bought).await.0, StatusCode::BAD_REQUEST);

    // The redirect URI must be repeated when the authorization named it.
    let code = p.code(&[]).await;
    let (st, v) = p
        .token(&[("grant_type", "authorization_code"), ("code", &code)])
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Partners may not use client credentials; the custom client may not refresh.
    let (st, v) = p.token(&[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
    let r = s
        .token_response(&[("grant_type", "refresh_token"), ("refresh_token", &rt3)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Problems with the client or redirect URI are shown, not redirected.
    let r = p.authorize(&[("client_id", "someone-else")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    let r = p
        .authorize(&[("redirect_uri", "https://elsewhere.example/cb")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Others are redirected as errors, with the state.
    let q = p.redirect(&[("response_type", "token")]).await;
    assert!(
        q.contains(&("error".into(), "unsupported_response_type".into())),
        "{q:?}"
    );
    assert!(q.contains(&("state".into(), "st-42".into())));
    let deactivated = s.creds["deactivated_user_id"].to_string();
    let q = p.redirect(&[("login_hint", &deactivated)]).await;
    assert!(
        q.contains(&("error".into(), "access_denied".into())),
        "{q:?}"
    );

    // Another user consents: the token acts as them (a basic user may not list).
    let basic = s.creds["basic_user_id"].to_string();
    let code = p.code(&[("login_hint", &basic)]).await;
    let (_, t) = p.exchange(&code).await;
    assert_eq!(
        s.bearer(t["access_token"].as_str().unwrap(), "/v3/jobs")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Following the redirect lands on the sandbox's callback, which shows the code.
    let shown: Value = s
        .http
        .get(p.cred("authorize_url"))
        .query(&[
            ("response_type", "code"),
            ("client_id", p.cred("client_id")),
            ("state", "followed"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["state"], "followed");
    // Without a redirect_uri in the request, none is needed at the exchange.
    let (st, _) = p
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", shown["code"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(st, StatusCode::OK);

    // Refresh tokens die (as after 24 idle hours): only a new authorization helps.
    let creds: Value = s.control_get("credentials").await;
    assert!(creds["partner"]["live_grants"].as_u64().unwrap() >= 3);
    s.control(reqwest::Method::POST, "refresh_tokens/expire", json!({}))
        .await;
    assert_eq!(p.refresh(&rt3).await.0, StatusCode::BAD_REQUEST);

    // Revoked credentials: the partner client is refused too.
    let code = p.code(&[]).await;
    s.control(reqwest::Method::POST, "credentials/revoke", json!({}))
        .await;
    let (st, v) = p.exchange(&code).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let q = p.redirect(&[]).await;
    assert!(
        q.contains(&("error".into(), "access_denied".into())),
        "{q:?}"
    );
}
