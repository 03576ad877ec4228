//! The Workable SPI v3 sandbox, exercised from outside with plain HTTP.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ats_operator::model::VendorKind;
use ats_operator::sandbox::SandboxOptions;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::client::count;
use support::sandbox::{Harness as Sb, assert_counts, ok_json, rate_limited, unlimited};

mod support;

/// The usual size of this file's sandbox.
fn small() -> SandboxOptions {
    unlimited(60, 6)
}

impl Sb {
    async fn start(opts: SandboxOptions) -> Sb {
        let t = Sb::launch(VendorKind::Workable, opts).await;
        assert!(!t.key().is_empty());
        t
    }

    /// The account token.
    fn key(&self) -> &str {
        self.creds["secret"]["apiKey"].as_str().unwrap()
    }

    /// An API URL: `path` under `/spi/v3`, or an absolute URL as given.
    fn api(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            self.url(&format!("/spi/v3{path}"))
        }
    }

    async fn get_raw(&self, path: &str) -> reqwest::Response {
        let r = self.http.get(self.api(path));
        r.bearer_auth(self.key()).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        ok_json(self.get_raw(path).await, &format!("GET {path}")).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let rb = self.http.request(method, self.api(path));
        let r = rb.bearer_auth(self.key()).json(&body).send().await.unwrap();
        status_and_json(r).await
    }

    /// A control API call; its status and JSON (null if none).
    async fn control_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        status_and_json(self.control(method, path, body).await).await
    }

    /// Every candidate, from one page of the list (the tests have fewer than 100).
    async fn candidates(&self) -> Vec<Value> {
        let page = self.get("/candidates?limit=100").await;
        page["candidates"].as_array().unwrap().clone()
    }

    /// The status of a `GET` of `path` with the token.
    async fn status(&self, path: &str) -> StatusCode {
        self.get_raw(path).await.status()
    }

    /// A control API `POST`; its status and JSON.
    async fn post_control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.control_json(reqwest::Method::POST, path, body).await
    }

    /// Every candidate id via the candidates list, following `paging.next`.
    async fn walk(&self, first: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut url = first.to_string();
        loop {
            let body = self.get(&url).await;
            pages += 1;
            let page = body["candidates"].as_array().unwrap().clone();
            let next = body
                .get("paging")
                .map(|p| p["next"].as_str().unwrap().to_string());
            items.extend(page);
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
        (items, pages)
    }
}

async fn status_and_json(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `v` has every one of `keys`.
fn assert_has(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
}

/// A `200 OK` answering `body`.
fn assert_ok(answer: (StatusCode, Value), body: Value) {
    assert_eq!(answer, (StatusCode::OK, body));
}

/// The list `key` of a response.
fn entries<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().unwrap()
}

/// The body at `url`, fetched without credentials (resume URLs are presigned).
async fn text_at(url: impl reqwest::IntoUrl) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// Workable's 404: `{"error": "Not found"}`.
async fn assert_not_found(r: reqwest::Response) {
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "Not found"})
    );
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn auth_is_the_account_token() {
    let t = Sb::start(small()).await;
    let r = t.http.get(t.api("/jobs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "Not authorized"})
    );
    let candidates = || t.http.get(t.api("/candidates"));
    let refused = [
        (candidates().bearer_auth("not-the-token"), "a wrong token"),
        (
            candidates().basic_auth(t.key(), Some("")),
            "Basic is not accepted",
        ),
    ];
    for (rb, why) in refused {
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{why}");
    }
    assert_eq!(t.status("/jobs").await, StatusCode::OK);
    // No limit configured: no rate-limit headers.
    assert!(
        t.get_raw("/jobs")
            .await
            .headers()
            .get("x-rate-limit-limit")
            .is_none()
    );

    let (st, _) = t.post_control("credentials/revoke", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let r = t.get_raw("/jobs").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "Not authorized");
    t.post_control("credentials/restore", json!({})).await;
    assert_eq!(t.status("/jobs").await, StatusCode::OK);
    // Unknown API paths answer Workable's 404 shape (after auth).
    let r = t.get_raw("/nope").await;
    assert_not_found(r).await;
}

#[tokio::test]
async fn candidates_page_through_paging_next() {
    let t = Sb::start(small()).await;
    let (items, pages) = t.walk("/candidates?limit=7").await;
    assert_eq!(items.len(), 60);
    assert_eq!(pages, 9);
    let all = ids(&items);
    assert!(all.iter().all(|i| is_hex_id(i)), "{all:?}");
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "ids ascend without duplicates");

    // paging.next is absolute and carries since_id = the next page's first id.
    let first = t.get("/candidates?limit=7").await;
    let next = first["paging"]["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/spi/v3/candidates?", t.sb.base_url)),
        "{next}"
    );
    assert_eq!(query_param(next, "limit").as_deref(), Some("7"));
    assert_eq!(
        query_param(next, "since_id").as_deref(),
        Some(all[7].as_str())
    );
    // The last page has no `paging` key at all (not null).
    let last = t
        .get(&format!("/candidates?limit=7&since_id={}", all[56]))
        .await;
    assert_eq!(last["candidates"].as_array().unwrap().len(), 4);
    assert!(last.as_object().unwrap().get("paging").is_none(), "{last}");
    // A page that ends exactly at the end has none either.
    let exact = t
        .get(&format!("/candidates?limit=4&since_id={}", all[56]))
        .await;
    assert!(exact.get("paging").is_none());

    // since_id is inclusive; max_id bounds from above.
    let p = t
        .get(&format!("/candidates?limit=3&since_id={}", all[10]))
        .await;
    assert_eq!(
        ids(p["candidates"].as_array().unwrap()),
        all[10..13].to_vec()
    );
    let p = t.get(&format!("/candidates?max_id={}", all[5])).await;
    assert_eq!(ids(p["candidates"].as_array().unwrap()), all[..6].to_vec());
    // Default limit 50; above 100 means 100.
    let p = t.get("/candidates").await;
    assert_eq!(p["candidates"].as_array().unwrap().len(), 50);
    assert_eq!(
        query_param(p["paging"]["next"].as_str().unwrap(), "limit").as_deref(),
        Some("50")
    );
    let p = t.get("/candidates?limit=500").await;
    assert_eq!(p["candidates"].as_array().unwrap().len(), 60);
    assert_eq!(
        t.status("/candidates?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        t.status("/candidates?since_id=xyz").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // List items carry what the reference example shows.
    let c = &items[0];
    assert_has(
        c,
        &[
            "id",
            "name",
            "firstname",
            "lastname",
            "headline",
            "account",
            "job",
            "stage",
            "stage_kind",
            "disqualified",
            "created_at",
            "updated_at",
            "resume_metadata",
            "email",
            "phone",
            "address",
        ],
    );
    assert!(
        c.get("education_entries").is_none(),
        "detail-only field in a list item"
    );
    assert_eq!(c["job"]["shortcode"].as_str().unwrap().len(), 10);
}

#[tokio::test]
async fn job_filter_pages_through_the_nested_route() {
    let t = Sb::start(small()).await;
    let all = t.candidates().await;
    // The job with the most candidates.
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for c in &all {
        *counts
            .entry(c["job"]["shortcode"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let (sc, n) = counts.into_iter().max_by_key(|(_, n)| *n).unwrap();
    assert!(n > 3);
    let first = t
        .get(&format!("/candidates?shortcode={sc}&limit=2&stage="))
        .await;
    let next = first["paging"]["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!(
            "{}/spi/v3/jobs/{sc}/candidates?limit=2&since_id=",
            t.sb.base_url
        )),
        "{next}"
    );
    assert!(query_param(next, "shortcode").is_none());
    let (items, _) = t.walk(&format!("/candidates?shortcode={sc}&limit=2")).await;
    assert_eq!(items.len(), n);
    assert!(items.iter().all(|c| c["job"]["shortcode"] == sc.as_str()));
    let (nested, _) = t.walk(&format!("/jobs/{sc}/candidates?limit=3")).await;
    assert_eq!(ids(&nested), ids(&items));

    // Stage slug and email filters.
    let stage = all[0]["stage_kind"].as_str().unwrap();
    let by_stage = t.get(&format!("/candidates?stage={stage}&limit=100")).await;
    let by_stage = by_stage["candidates"].as_array().unwrap();
    assert!(!by_stage.is_empty() && by_stage.iter().all(|c| c["stage_kind"] == stage));
    let email = all[3]["email"].as_str().unwrap().to_uppercase();
    let by_email = t.get(&format!("/candidates?email={email}")).await;
    assert!(
        entries(&by_email, "candidates")
            .iter()
            .any(|c| c["id"] == all[3]["id"])
    );

    for unknown in [
        "/jobs/0000000000/candidates",
        "/candidates?shortcode=0000000000",
    ] {
        assert_eq!(t.status(unknown).await, StatusCode::NOT_FOUND, "{unknown}");
    }
}

#[tokio::test]
async fn updated_after_takes_three_formats() {
    let t = Sb::start(small()).await;
    let all = t.candidates().await;
    let mut stamps: Vec<String> = all
        .iter()
        .map(|c| c["updated_at"].as_str().unwrap().to_string())
        .collect();
    stamps.sort();
    let mid = stamps[stamps.len() / 2].clone();
    // Workable renders seconds: "2025-06-12T10:10:10Z".
    assert_eq!(mid.len(), 20, "{mid}");
    let expected: Vec<String> = all
        .iter()
        .filter(|c| c["updated_at"].as_str().unwrap() >= mid.as_str())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    let basic = mid.replace(['-', ':'], "");
    let unix = mid
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp()
        .to_string();
    for form in [mid.as_str(), basic.as_str(), unix.as_str()] {
        let q: String = url::form_urlencoded::byte_serialize(form.as_bytes()).collect();
        let got = t
            .get(&format!("/candidates?limit=100&updated_after={q}"))
            .await;
        assert_eq!(
            ids(got["candidates"].as_array().unwrap()),
            expected,
            "{form}"
        );
    }
    // Carried over to the next page.
    let got = t
        .get(&format!("/candidates?limit=2&updated_after={basic}"))
        .await;
    let next = got["paging"]["next"].as_str().unwrap();
    assert_eq!(
        query_param(next, "updated_after").as_deref(),
        Some(basic.as_str())
    );

    let created: Vec<String> = all
        .iter()
        .map(|c| c["created_at"].as_str().unwrap().to_string())
        .collect();
    let got = t
        .get(&format!(
            "/candidates?limit=100&created_after={}",
            created[40].replace(['-', ':'], "")
        ))
        .await;
    assert_eq!(got["candidates"].as_array().unwrap().len(), 20);
    let r = t.get_raw("/candidates?updated_after=yesterday").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn jobs_list_include_fields_and_unwrapped_detail() {
    let t = Sb::start(small()).await;
    let list = t.get("/jobs").await;
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 6);
    assert!(list.get("paging").is_none());
    let job_ids: Vec<&str> = jobs.iter().map(|j| j["id"].as_str().unwrap()).collect();
    let mut sorted = job_ids.clone();
    sorted.sort();
    assert_eq!(sorted, job_ids, "jobs ascend by id");
    let created: Vec<&str> = jobs
        .iter()
        .map(|j| j["created_at"].as_str().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] <= w[1]),
        "ids follow creation"
    );
    for j in jobs {
        let sc = j["shortcode"].as_str().unwrap();
        assert!(
            sc.len() == 10
                && sc
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert!(["published", "closed", "draft"].contains(&j["state"].as_str().unwrap()));
        for k in [
            "description",
            "full_description",
            "requirements",
            "benefits",
        ] {
            assert!(j.get(k).is_none(), "{k} is heavy and omitted by default");
        }
    }
    let with = t.get("/jobs?include_fields=description,requirements").await;
    let j0 = &with["jobs"][0];
    assert!(j0["description"].as_str().unwrap().contains("<p>"));
    assert!(j0["requirements"].as_str().unwrap().contains("<li>"));
    assert!(j0.get("full_description").is_none() && j0.get("benefits").is_none());
    assert_eq!(
        t.status("/jobs?include_fields=salary").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Paging over jobs.
    let p = t.get("/jobs?limit=4").await;
    let next = p["paging"]["next"].as_str().unwrap();
    assert_eq!(query_param(next, "since_id").as_deref(), Some(job_ids[4]));
    let p2 = t.get(next).await;
    assert_eq!(p2["jobs"].as_array().unwrap().len(), 2);
    assert!(p2.get("paging").is_none());

    let published = t.get("/jobs?state=published").await;
    assert!(
        entries(&published, "jobs")
            .iter()
            .all(|j| j["state"] == "published")
    );
    assert_eq!(t.get("/jobs?state=archived").await["jobs"], json!([]));
    assert_eq!(
        t.status("/jobs?state=open").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The detail is the job itself, with its text.
    let sc = jobs[0]["shortcode"].as_str().unwrap();
    let d = t.get(&format!("/jobs/{sc}")).await;
    assert!(d.get("job").is_none(), "unwrapped");
    assert_eq!(d["shortcode"], sc);
    assert_eq!(d["id"], jobs[0]["id"]);
    for k in [
        "full_description",
        "description",
        "requirements",
        "benefits",
        "employment_type",
        "experience",
        "education",
    ] {
        assert!(d[k].is_string(), "{k} missing in detail");
    }
    let full = d["full_description"].as_str().unwrap();
    assert!(
        full.contains("Requirements") && full.contains("years of experience"),
        "{full}"
    );
    assert!(full.contains("Nice to have"), "{full}");
    let r = t.get_raw("/jobs/ZZZZZZZZZZ").await;
    assert_not_found(r).await;
}

#[tokio::test]
async fn candidate_detail_is_wrapped_with_profile_and_resume() {
    let t = Sb::start(small()).await;
    let all = t.candidates().await;
    let id = all[4]["id"].as_str().unwrap();
    let d = t.get(&format!("/candidates/{id}")).await;
    let c = &d["candidate"];
    assert_eq!(c["id"], id);
    assert_eq!(c["email"], all[4]["email"]);
    let edu = c["education_entries"].as_array().unwrap();
    assert!(!edu.is_empty());
    assert_has(
        &edu[0],
        &[
            "school",
            "degree",
            "field_of_study",
            "start_date",
            "end_date",
        ],
    );
    assert!(edu[0]["start_date"].as_str().unwrap().ends_with("-01-01"));
    for e in c["experience_entries"].as_array().unwrap() {
        assert_has(
            e,
            &[
                "title",
                "company",
                "summary",
                "start_date",
                "end_date",
                "current",
            ],
        );
        assert_eq!(e["current"].as_bool().unwrap(), e["end_date"].is_null());
    }
    let skills = c["skills"].as_array().unwrap();
    assert!(!skills.is_empty() && skills.iter().all(|s| s["name"].is_string()));
    assert!(c["summary"].is_string());
    assert_eq!(c["tags"], json!([]));
    assert_has(
        c,
        &[
            "cover_letter",
            "disqualified",
            "stage",
            "originating_candidate_id",
        ],
    );
    // The resume URL works without credentials (presigned style).
    let url = c["resume_url"].as_str().unwrap();
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    // The CV as uploaded (PDF, Word, HTML or text): it reads as the resume.
    let text = ats_operator::documents::read(&bytes, &Default::default())
        .expect("readable CV")
        .text;
    assert!(text.starts_with(c["name"].as_str().unwrap()), "{text}");
    assert!(text.contains("EXPERIENCE") && text.contains("SKILLS"));

    assert_not_found(t.get_raw("/candidates/ffffffff").await).await;
    assert_eq!(
        t.status("/candidates/not-an-id").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn writes_comments_tags_and_custom_attribute() {
    let t = Sb::start(small()).await;
    let all = t.candidates().await;
    let id = all[2]["id"].as_str().unwrap().to_string();
    let before = all[2]["updated_at"].as_str().unwrap().to_string();
    let member = t.sb.credentials.sub.clone().unwrap();
    let members = t.get("/members").await;
    assert!(
        entries(&members, "members")
            .iter()
            .any(|m| m["id"] == member.as_str())
    );
    let post = reqwest::Method::POST;
    let comments = format!("/candidates/{id}/comments");

    let (st, body) = t
        .send(post.clone(), &comments, json!({"comment": {"body": "x"}}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].is_string());
    let rejected = [
        (
            json!({"member_id": "000000", "comment": {"body": "x"}}),
            "unknown member",
        ),
        (json!({"member_id": member, "comment": {}}), "missing body"),
        (
            json!({"member_id": member, "comment": {"body": "x", "policy": ["boss"]}}),
            "unknown policy role",
        ),
    ];
    for (body, why) in rejected {
        let (st, _) = t.send(post.clone(), &comments, body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    let note = json!({"member_id": member, "comment": {"body": "AI fit score: 82/100", "policy": ["recruiter"]}});
    let (st, body) = t.send(post.clone(), &comments, note).await;
    assert_eq!(st, StatusCode::CREATED);
    let comment_id = body["id"].as_str().unwrap().to_string();
    let (st, _) = t
        .send(
            post.clone(),
            "/candidates/ffffffff/comments",
            json!({"member_id": member, "comment": {"body": "x"}}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let acts = t.get(&format!("/candidates/{id}/activities")).await;
    let acts = acts["activities"].as_array().unwrap();
    assert_eq!(acts[0]["action"], "applied");
    let c = acts.iter().find(|a| a["action"] == "comment").unwrap();
    assert_eq!(c["id"], comment_id.as_str());
    assert_eq!(c["body"], "AI fit score: 82/100");
    assert_eq!(c["member"]["id"], member.as_str());
    assert!(c.get("stage_name").is_some() && c["created_at"].is_string());

    let put = reqwest::Method::PUT;
    let tags = format!("/candidates/{id}/tags");
    // Each PUT replaces the tags and answers them.
    for set in [
        json!(["referral", "ai-medium"]),
        json!(["referral", "ai-strong"]),
    ] {
        let (st, body) = t.send(put.clone(), &tags, json!({"tags": set})).await;
        assert_eq!((st, body), (StatusCode::OK, json!({"tags": set})));
    }
    let (st, _) = t
        .send(put.clone(), &tags, json!({"tags": "ai-strong"}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    let patch = reqwest::Method::PATCH;
    let attr = format!("/candidates/{id}/update_custom_attribute_value");
    let (st, body) = t
        .send(
            patch.clone(),
            &attr,
            json!({"custom_attribute_key": "seed_attr", "value": "hello"}),
        )
        .await;
    assert_eq!(
        (st, body),
        (StatusCode::NOT_FOUND, json!({"error": "Not found"}))
    );
    let rejected = [
        (
            json!({"custom_attribute_key": "ai_score", "value": "high"}),
            "numeric attribute",
        ),
        (json!({"value": 1}), "missing key"),
    ];
    for (body, why) in rejected {
        let (st, _) = t.send(patch.clone(), &attr, body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    let score = json!({"custom_attribute_key": "ai_score", "value": 82});
    let (st, _) = t.send(patch.clone(), &attr, score).await;
    assert_eq!(st, StatusCode::OK);
    let defs = t.get("/custom_attributes").await;
    assert!(
        entries(&defs, "custom_attributes")
            .iter()
            .any(|a| a["id"] == "ai_score" && a["type"] == "numeric")
    );

    let d = t.get(&format!("/candidates/{id}")).await;
    assert_eq!(d["candidate"]["tags"], json!(["referral", "ai-strong"]));
    assert!(
        d["candidate"]["updated_at"].as_str().unwrap() > before.as_str(),
        "writes bump updated_at"
    );

    let w = t.control_get(&format!("applications/{id}/writes")).await;
    assert_eq!(
        w,
        json!({"notes": ["AI fit score: 82/100"], "tags": ["referral", "ai-strong"], "custom_fields": {"ai_score": 82}})
    );
    let stats = t.control_get("stats").await;
    let writes = json!({"notes_created": 1, "tags_applied": 2, "application_patches": 1});
    assert_counts(&stats, writes);
    assert!(count(&stats, "POST /spi/v3/candidates/{id}/comments") >= 6);
}

#[tokio::test]
async fn rate_limit_is_ten_per_ten_seconds() {
    let t = Sb::start(rate_limited(20, 3, 10, Duration::from_secs(10))).await;
    let now = Utc::now().timestamp();
    for i in 0..10u32 {
        // An unauthenticated request counts and carries the headers too.
        let r = if i == 0 {
            t.http.get(t.api("/jobs")).send().await.unwrap()
        } else {
            t.get_raw("/jobs").await
        };
        assert_eq!(
            r.status(),
            if i == 0 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::OK
            }
        );
        let h = r.headers();
        assert_eq!(h["x-rate-limit-limit"], "10");
        assert_eq!(
            h["x-rate-limit-remaining"].to_str().unwrap(),
            (9 - i).to_string()
        );
        let reset: i64 = h["x-rate-limit-reset"].to_str().unwrap().parse().unwrap();
        assert!(
            reset > now && reset <= now + 12,
            "reset {reset} vs now {now}"
        );
        assert!(
            h.get("x-ratelimit-limit").is_none(),
            "Workable's spelling only"
        );
    }
    let r = t.get_raw("/jobs").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
    assert!(r.headers().get("x-rate-limit-reset").is_some());
    assert!(r.headers().get("retry-after").is_none());
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(t.control_get("stats").await["rate_limited"], 1);
    // The control API is outside the limit.
    assert_eq!(
        t.control_get("rate_limit").await,
        json!({"requests": 10, "window_seconds": 10.0, "disabled": false})
    );
    let (st, _) = t
        .control_json(
            reqwest::Method::PUT,
            "rate_limit",
            json!({"requests": 2, "window_seconds": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        t.status("/jobs").await,
        StatusCode::OK,
        "a new limit starts afresh"
    );
    t.control_json(
        reqwest::Method::PUT,
        "rate_limit",
        json!({"disabled": true}),
    )
    .await;
    for _ in 0..12 {
        let r = t.get_raw("/stages").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("x-rate-limit-limit").is_none());
    }
}

#[tokio::test]
async fn faults_are_injected_in_workable_shape() {
    let t = Sb::start(small()).await;
    let (st, _) = t
        .post_control("faults", json!({"status": 503, "count": 2}))
        .await;
    assert_eq!(st, StatusCode::OK);
    for _ in 0..2 {
        let r = t.get_raw("/jobs").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(t.status("/jobs").await, StatusCode::OK);
    t.post_control(
        "faults",
        json!({"status": 500, "count": 1, "path_prefix": "/spi/v3/candidates"}),
    )
    .await;
    assert_eq!(t.status("/jobs").await, StatusCode::OK);
    assert_eq!(
        t.status("/candidates").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    t.post_control("faults", json!({"status": 429, "count": 5}))
        .await;
    let r = t.get_raw("/stages").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none());
    let (st, _) = t
        .control_json(reqwest::Method::DELETE, "faults", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t.status("/stages").await, StatusCode::OK);
    let (st, _) = t.post_control("faults", json!({"status": 404})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let stats = t.control_get("stats").await;
    assert_eq!(stats["faults_injected"], 4);
}

#[tokio::test]
async fn deleted_candidates_vanish() {
    let t = Sb::start(small()).await;
    let all = ids(&t.candidates().await);
    let gone = all[3].clone();
    assert_ok(
        t.post_control("delete", json!({"application_ids": [gone]}))
            .await,
        json!({"application_ids": [gone]}),
    );
    assert_eq!(
        t.status(&format!("/candidates/{gone}")).await,
        StatusCode::NOT_FOUND
    );
    let left = ids(&t.candidates().await);
    assert_eq!(left.len(), 59);
    assert!(!left.contains(&gone));
    // A since_id naming the deleted candidate still works.
    let p = t.get(&format!("/candidates?limit=1&since_id={gone}")).await;
    assert_eq!(p["candidates"][0]["id"], all[4].as_str());
    let (st, _) = t
        .post_control("delete", json!({"application_ids": [gone]}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let writes = t
        .control_get_raw(&format!("applications/{gone}/writes"))
        .await;
    assert_eq!(writes.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn control_api_contract() {
    let t = Sb::start(small()).await;
    let creds = t.control_get("credentials").await;
    assert_eq!(creds["secret"], json!({"apiKey": t.key()}));
    let conn = &creds["connection"];
    assert_eq!(conn["baseUrl"], t.sb.base_url.as_str());
    assert!(conn["tokenUrl"].is_null());
    assert_eq!(conn["subdomain"], "sandbox-tenant");
    assert_eq!(conn, &t.sb.credentials.connection_json());
    let (st, body) = t.post_control("tokens/expire", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["expired"], false);
    assert_eq!(
        t.status("/jobs").await,
        StatusCode::OK,
        "account tokens survive"
    );

    let apps = t.control_get("applications").await;
    let apps = apps.as_array().unwrap();
    assert_eq!(apps.len(), 60);
    let jobs = t.get("/jobs").await;
    for a in apps {
        let job = entries(&jobs, "jobs")
            .iter()
            .find(|j| j["shortcode"] == a["job_id"])
            .expect("job_id is a job shortcode");
        let want = match job["state"].as_str().unwrap() {
            "published" => "open",
            other => other,
        };
        assert_eq!(a["job_status"], want);
        assert!(is_hex_id(a["id"].as_str().unwrap()));
    }

    // Touch: new resume, bumped updated_at.
    let id = apps[7]["id"].as_str().unwrap().to_string();
    let before = t.get(&format!("/candidates/{id}")).await["candidate"].clone();
    let old_resume = text_at(before["resume_url"].as_str().unwrap()).await;
    assert_ok(
        t.post_control("touch", json!({"application_ids": [id]}))
            .await,
        json!({"application_ids": [id]}),
    );
    let after = t.get(&format!("/candidates/{id}")).await["candidate"].clone();
    assert!(after["updated_at"].as_str().unwrap() > before["updated_at"].as_str().unwrap());
    let new_resume = text_at(after["resume_url"].as_str().unwrap()).await;
    assert_ne!(old_resume, new_resume);
    let (_, body) = t.post_control("touch", json!({"count": 3})).await;
    assert_eq!(body["application_ids"].as_array().unwrap().len(), 3);
    let (st, _) = t
        .post_control("touch", json!({"application_ids": ["ffffffff"]}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // New applications: later ids, open jobs, listed last.
    let (st, body) = t.post_control("applications", json!({"count": 3})).await;
    assert_eq!(st, StatusCode::OK);
    let new: Vec<String> = body["application_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new.len(), 3);
    let last_old = apps.last().unwrap()["id"].as_str().unwrap().to_string();
    assert!(new.iter().all(|n| *n > last_old));
    let listed = ids(&t.candidates().await);
    assert_eq!(listed[60..].to_vec(), new);
    let one = t.control_get(&format!("applications/{}", new[0])).await;
    assert_eq!(one["job_status"], "open");
}

#[tokio::test]
async fn same_seed_same_ids() {
    let opts = unlimited(30, 5);
    let a = Sb::start(opts.clone()).await;
    let b = Sb::start(opts).await;
    assert_eq!(a.key(), b.key());
    let ja = a.get("/jobs").await["jobs"].clone();
    let jb = b.get("/jobs").await["jobs"].clone();
    let strip = |mut v: Value| {
        // URLs name the (different) ports.
        for j in v.as_array_mut().unwrap() {
            let o = j.as_object_mut().unwrap();
            o.retain(|k, _| !["url", "application_url", "shortlink"].contains(&k.as_str()));
        }
        v
    };
    assert_eq!(strip(ja), strip(jb));
    let ca = ids(&a.candidates().await);
    let cb = ids(&b.candidates().await);
    assert_eq!(ca, cb);
}

#[tokio::test]
async fn ten_thousand_candidates_page_quickly() {
    let t = Sb::start(unlimited(10_000, 30)).await;
    let started = Instant::now();
    let (items, pages) = t.walk("/candidates?limit=100").await;
    let took = started.elapsed();
    assert_eq!((items.len(), pages), (10_000, 100));
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 10_000);
    assert!(took < Duration::from_secs(20), "walk took {took:?}");
    // The job filter pages quickly too.
    let sc = items[0]["job"]["shortcode"].as_str().unwrap();
    let started = Instant::now();
    let (job_items, _) = t.walk(&format!("/jobs/{sc}/candidates?limit=100")).await;
    assert!(!job_items.is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn touching_one_copy_leaves_the_other_copies() {
    let t = Sb::start(small()).await;
    let all = t.candidates().await;
    // The same person applied twice: two candidates with one email.
    let (a, b) = all
        .iter()
        .enumerate()
        .find_map(|(i, x)| {
            all[i + 1..]
                .iter()
                .find(|y| y["email"] == x["email"])
                .map(|y| (x.clone(), y.clone()))
        })
        .expect("a returning applicant");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let detail = |id: &str| {
        let path = format!("/candidates/{id}");
        let t = &t;
        async move { t.get(&path).await }
    };
    let b_before = detail(b_id).await["candidate"].clone();
    assert_eq!(b_before["originating_candidate_id"], a_id);
    let resume = |v: &Value| {
        let url = v["resume_url"].as_str().unwrap().to_string();
        async move { text_at(url).await }
    };
    let b_resume = resume(&b_before).await;
    let a_before = detail(a_id).await["candidate"].clone();
    let a_resume = resume(&a_before).await;
    t.post_control("touch", json!({"application_ids": [a_id]}))
        .await;
    let a_after = detail(a_id).await["candidate"].clone();
    assert_ne!(resume(&a_after).await, a_resume);
    assert!(a_after["updated_at"].as_str() > a_before["updated_at"].as_str());
    let b_after = detail(b_id).await["candidate"].clone();
    assert_eq!(b_after, b_before, "the other copy did not change");
    assert_eq!(resume(&b_after).await, b_resume);
    let listed = t
        .candidates()
        .await
        .iter()
        .find(|c| c["id"] == b_id)
        .cloned()
        .unwrap();
    assert_eq!(listed["resume_metadata"], b["resume_metadata"]);
    // Touching the other copy later changes it in turn.
    t.post_control("touch", json!({"application_ids": [b_id]}))
        .await;
    assert_ne!(resume(&detail(b_id).await["candidate"]).await, b_resume);
}

/// `GET /spi/v3/recruiters` (scope `r_jobs`): the account's external
/// recruiters as `{"recruiters": [{"id", "name", "email"}]}`, behind the token.
#[tokio::test]
async fn recruiters_listed() {
    let t = Sb::start(small()).await;
    let v = t.get("/recruiters").await;
    let recs = v["recruiters"].as_array().unwrap();
    assert!(!recs.is_empty());
    for r in recs {
        assert!(
            r["id"].is_string() && r["name"].is_string() && r["email"].is_string(),
            "{r}"
        );
    }
    let r = t.http.get(t.api("/recruiters")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
