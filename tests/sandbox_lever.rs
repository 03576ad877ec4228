//! The Lever API v1 sandbox, exercised from outside with plain HTTP.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ats_operator::model::VendorKind;
use ats_operator::sandbox::SandboxOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::client::count;
use support::sandbox::{Harness as Sb, assert_counts, header, ok_json, rate_limited, unlimited};

mod support;

/// The usual size of this file's sandbox.
fn small() -> SandboxOptions {
    unlimited(300, 8)
}

impl Sb {
    async fn start(opts: SandboxOptions) -> Sb {
        Sb::launch(VendorKind::Lever, opts).await
    }

    fn key(&self) -> &str {
        self.secret("apiKey")
    }

    /// A credential of the sandbox's `secret` (`clientId`, `refreshToken`, ...).
    fn secret(&self, k: &str) -> &str {
        self.creds["secret"][k].as_str().unwrap()
    }

    /// `GET` with the API key (Basic, blank password).
    async fn get(&self, path: &str) -> reqwest::Response {
        let r = self.http.get(self.url(path));
        r.basic_auth(self.key(), Some("")).send().await.unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        ok_json(self.get(path).await, path).await
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .basic_auth(self.key(), Some(""))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.refresh_with(refresh_token, self.secret("clientSecret"))
            .await
    }

    async fn refresh_with(&self, refresh_token: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(self.creds["connection"]["tokenUrl"].as_str().unwrap())
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.secret("clientId")),
                ("client_secret", secret),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Refreshes with the current refresh token; returns the token response.
    async fn fresh_tokens(&self) -> Value {
        let rt = self.credentials().await["secret"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        let r = self.refresh(&rt).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// A control API `GET` (sent with an empty JSON body); its JSON.
    async fn control_value<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.control(Method::GET, path, json!({})).await;
        r.json().await.unwrap()
    }

    async fn stats(&self) -> Value {
        self.control_value("stats").await
    }

    /// What `GET /v1/users` answers with the API key, and with the access `token`.
    async fn users_status(&self, token: &str) -> (StatusCode, StatusCode) {
        let key = self.get("/v1/users").await.status();
        (key, self.bearer_status(token, "/v1/users").await)
    }

    /// The status of a `GET` of `path` with the access `token`.
    async fn bearer_status(&self, token: &str, path: &str) -> StatusCode {
        self.bearer(token, path).await.status()
    }

    /// Follows `next` through `offset` to the end; returns (items, pages).
    async fn walk(&self, path: &str) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut pages = 0;
        let mut offset: Option<String> = None;
        loop {
            let url = match &offset {
                Some(o) => format!("{path}{sep}offset={o}"),
                None => path.to_string(),
            };
            let v = self.get_json(&url).await;
            pages += 1;
            items.extend(v["data"].as_array().unwrap().iter().cloned());
            match v.get("next") {
                Some(n) => {
                    assert_eq!(v["hasNext"], true, "{v}");
                    offset = Some(n.as_str().unwrap().to_string());
                }
                None => {
                    assert_eq!(v["hasNext"], false);
                    return (items, pages);
                }
            }
        }
    }

    async fn all_opportunities(&self) -> Vec<Value> {
        self.walk("/v1/opportunities").await.0
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

async fn error_code(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    (status, v["code"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn both_auth_styles_and_401s() {
    let s = Sb::start(small()).await;
    assert_eq!(s.get("/v1/users").await.status(), StatusCode::OK);

    let r = s.http.get(s.url("/v1/users")).send().await.unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "UnauthorizedError".into())
    );
    let r = s
        .http
        .get(s.url("/v1/users"))
        .basic_auth("not-the-key", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "UnauthorizedError".into())
    );

    let t = s.fresh_tokens().await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert!(
        t["scope"]
            .as_str()
            .unwrap()
            .contains("opportunities:read:admin")
    );
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(s.bearer_status(at, "/v1/users").await, StatusCode::OK);
    let r = s.bearer("garbage", "/v1/users").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The integration user the credentials name is a real user.
    let sub = s.creds["connection"]["sub"].as_str().unwrap();
    let users = s.get_json("/v1/users").await;
    assert!(ids(users["data"].as_array().unwrap()).contains(&sub.to_string()));
    assert_eq!(s.creds["connection"]["baseUrl"], s.sb.base_url.as_str());
    assert_eq!(s.sb.credentials.get("apiKey"), s.key());
    assert_eq!(s.sb.credentials.sub.as_deref(), Some(sub));

    // Revoked: the key, the access token and the refresh token all stop working.
    s.control(Method::POST, "credentials/revoke", json!({}))
        .await;
    let unauthorized = (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED);
    assert_eq!(s.users_status(at).await, unauthorized);
    let rt = t["refresh_token"].as_str().unwrap();
    let r = s.refresh(rt).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    s.control(Method::POST, "credentials/restore", json!({}))
        .await;
    // The key works again; tokens issued before the revocation stay void.
    let restored = (StatusCode::OK, StatusCode::UNAUTHORIZED);
    assert_eq!(s.users_status(at).await, restored);
    // The grant works again.
    let t2 = s.fresh_tokens().await;
    let at2 = t2["access_token"].as_str().unwrap();
    assert_eq!(s.bearer_status(at2, "/v1/users").await, StatusCode::OK);
}

#[tokio::test]
async fn paging_walks_with_next_only_and_rejects_forged_offsets() {
    let s = Sb::start(small()).await;
    let (items, pages) = s.walk("/v1/opportunities?limit=40").await;
    assert_eq!(pages, 8);
    assert_eq!(items.len(), 300);
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 300);
    // Stable order: creation time.
    let created: Vec<i64> = items
        .iter()
        .map(|o| o["createdAt"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]));
    // Every opportunity the control API knows, and nothing else.
    let ctl: Vec<Value> = s.control_value("applications").await;
    let ctl_ids: HashSet<String> = ids(&ctl).into_iter().collect();
    assert_eq!(ctl_ids, unique);
    for a in &ctl {
        assert!(["open", "closed", "draft"].contains(&a["job_status"].as_str().unwrap()));
        assert!(a["job_id"].is_string());
    }

    // An exactly full last page has no `next`.
    let v = s.get_json("/v1/opportunities?limit=100").await;
    let next = v["next"].as_str().unwrap().to_string();
    let v = s
        .get_json(&format!("/v1/opportunities?limit=100&offset={next}"))
        .await;
    let next = v["next"].as_str().unwrap().to_string();
    let v = s
        .get_json(&format!("/v1/opportunities?limit=100&offset={next}"))
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 100);
    assert_eq!(v["hasNext"], false);
    assert!(v.get("next").is_none());

    // Offsets: only tokens this sandbox issued, for this list.
    let flipped = if next.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &next[..next.len() - 1]);
    for bad in [
        "0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94",
        "garbage",
        &tampered,
    ] {
        let r = s.get(&format!("/v1/opportunities?offset={bad}")).await;
        assert_eq!(
            error_code(r).await,
            (StatusCode::BAD_REQUEST, "BadRequestError".into()),
            "{bad}"
        );
    }
    let postings = s.get_json("/v1/postings?limit=2").await;
    let posting_next = postings["next"].as_str().unwrap();
    let r = s
        .get(&format!("/v1/opportunities?offset={posting_next}"))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for limit in ["0", "101", "x"] {
        let r = s.get(&format!("/v1/opportunities?limit={limit}")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{limit}");
    }
}

#[tokio::test]
async fn same_seed_same_ids() {
    let a = Sb::start(small()).await;
    let b = Sb::start(small()).await;
    let pa = a.get_json("/v1/opportunities?limit=20").await;
    let pb = b.get_json("/v1/opportunities?limit=20").await;
    assert_eq!(
        ids(pa["data"].as_array().unwrap()),
        ids(pb["data"].as_array().unwrap())
    );
    let o = &pa["data"][0];
    assert_eq!(o["id"].as_str().unwrap().len(), 36);
    assert_eq!(o["contact"].as_str().unwrap().len(), 36);
    assert_eq!(o["applications"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn millisecond_filters_and_null_updated_at() {
    let s = Sb::start(small()).await;
    let all = s.all_opportunities().await;
    let legacy: Vec<&Value> = all.iter().filter(|o| o["updatedAt"].is_null()).collect();
    assert!(!legacy.is_empty(), "some opportunities predate updatedAt");
    assert!(legacy.len() < all.len() / 10);

    // updated_at_start=0 returns everything that has an updatedAt.
    let (since0, _) = s.walk("/v1/opportunities?updated_at_start=0").await;
    assert_eq!(since0.len(), all.len() - legacy.len());
    assert!(since0.iter().all(|o| !o["updatedAt"].is_null()));

    // Inclusive bounds.
    let o = &all[all.len() / 2];
    let c = o["createdAt"].as_i64().unwrap();
    let v = s
        .get_json(&format!(
            "/v1/opportunities?created_at_start={c}&created_at_end={c}"
        ))
        .await;
    assert!(ids(v["data"].as_array().unwrap()).contains(&o["id"].as_str().unwrap().to_string()));
    let with_updated = since0[since0.len() / 3].clone();
    let u = with_updated["updatedAt"].as_i64().unwrap();
    let (hits, _) = s
        .walk(&format!(
            "/v1/opportunities?updated_at_start={u}&updated_at_end={u}"
        ))
        .await;
    assert!(hits.iter().any(|h| h["id"] == with_updated["id"]));
    assert!(hits.iter().all(|h| h["updatedAt"] == u));
    let r = s.get("/v1/opportunities?updated_at_start=yesterday").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Touching a legacy opportunity gives it a real updatedAt.
    let id = legacy[0]["id"].as_str().unwrap();
    let before = chrono::Utc::now().timestamp_millis();
    let r = s
        .control(Method::POST, "touch", json!({"application_ids": [id]}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (changed, _) = s
        .walk(&format!("/v1/opportunities?updated_at_start={before}"))
        .await;
    assert_eq!(ids(&changed), vec![id.to_string()]);
    assert!(changed[0]["updatedAt"].as_i64().unwrap() >= before);

    // New applications show up as changed too.
    let added: Value = s
        .control(Method::POST, "applications", json!({"count": 3}))
        .await
        .json()
        .await
        .unwrap();
    let (changed, _) = s
        .walk(&format!("/v1/opportunities?updated_at_start={before}"))
        .await;
    assert_eq!(changed.len(), 4);
    for a in added["application_ids"].as_array().unwrap() {
        assert!(changed.iter().any(|c| c["id"] == *a));
    }

    // Other filters and expansions.
    let (archived, _) = s.walk("/v1/opportunities?archived=true").await;
    assert!(!archived.is_empty());
    assert!(
        archived
            .iter()
            .all(|o| o["archived"]["archivedAt"].is_i64())
    );
    let (active, _) = s.walk("/v1/opportunities?archived=false").await;
    assert_eq!(archived.len() + active.len(), all.len() + 3);
    let v = s
        .get_json("/v1/opportunities?limit=5&expand=applications&expand=stage")
        .await;
    let first = &v["data"][0];
    assert!(first["stage"]["text"].is_string());
    let posting = first["applications"][0]["posting"].as_str().unwrap();
    let (same_posting, _) = s
        .walk(&format!(
            "/v1/opportunities?posting_id={posting}&expand=applications"
        ))
        .await;
    assert!(
        same_posting
            .iter()
            .all(|o| o["applications"][0]["posting"] == posting)
    );
    let tag = first["tags"][0].as_str().unwrap();
    let (tagged, _) = s
        .walk(&format!(
            "/v1/opportunities?tag={}",
            url::form_urlencoded::byte_serialize(tag.as_bytes()).collect::<String>()
        ))
        .await;
    assert!(!tagged.is_empty());
    assert!(
        tagged
            .iter()
            .all(|o| o["tags"].as_array().unwrap().iter().any(|t| t == tag))
    );
    // A UUID that is no posting here matches nothing; a non-UUID is a 400.
    let v = s
        .get_json("/v1/opportunities?posting_id=90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017")
        .await;
    assert_eq!(v["data"], json!([]));
    for bad in [
        "/v1/opportunities?posting_id=42",
        "/v1/opportunities?expand=everything",
    ] {
        assert_eq!(s.get(bad).await.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn postings_with_content() {
    let s = Sb::start(small()).await;
    let v = s.get_json("/v1/postings").await;
    let list = v["data"].as_array().unwrap();
    assert_eq!(list.len(), 8);
    assert!(list.iter().all(|p| p.get("content").is_none()));
    let v = s.get_json("/v1/postings?include=content").await;
    let p = &v["data"][0];
    assert!(p["text"].is_string());
    assert!(p["categories"]["department"].is_string());
    let lists = p["content"]["lists"].as_array().unwrap();
    let req = lists.iter().find(|l| l["text"] == "Requirements").unwrap();
    assert!(req["content"].as_str().unwrap().starts_with("<li>"));
    assert!(lists.iter().any(|l| l["text"] == "Nice to have"));
    assert!(p["content"]["descriptionHtml"].is_string());

    let (published, _) = s.walk("/v1/postings?state=published").await;
    let ctl: Vec<Value> = s.control_value("applications").await;
    assert!(published.iter().all(|p| p["state"] == "published"));
    // Postings with applications on them are open or closed jobs.
    for a in &ctl {
        let job = a["job_id"].as_str().unwrap();
        let is_published = published.iter().any(|p| p["id"] == job);
        assert_eq!(is_published, a["job_status"] == "open");
    }
    let r = s.get("/v1/postings?state=open").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let id = p["id"].as_str().unwrap();
    let one = s.get_json(&format!("/v1/postings/{id}")).await;
    assert_eq!(one["data"]["id"], id);
    assert!(one["data"]["content"]["lists"].is_array());
    let r = s
        .get("/v1/postings/90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017")
        .await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::NOT_FOUND, "ResourceNotFound".into())
    );
    let updated = p["updatedAt"].as_i64().unwrap();
    let (since, _) = s
        .walk(&format!("/v1/postings?updated_at_start={updated}"))
        .await;
    assert!(since.iter().any(|x| x["id"] == id));
}

#[tokio::test]
async fn resumes_with_parsed_data_and_download() {
    let s = Sb::start(small()).await;
    let all = s.all_opportunities().await;
    let mut checked = 0;
    for o in all.iter().take(40) {
        let id = o["id"].as_str().unwrap();
        let v = s.get_json(&format!("/v1/opportunities/{id}/resumes")).await;
        let r = &v["data"][0];
        assert_eq!(v["hasNext"], false);
        let parsed = &r["parsedData"];
        let schools = parsed["schools"].as_array().unwrap();
        assert!(!schools.is_empty());
        assert!(schools[0]["start"]["year"].is_i64());
        let positions = parsed["positions"].as_array().unwrap();
        if positions.is_empty() {
            continue;
        }
        let p0 = &positions[0];
        assert!(p0["org"].is_string() && p0["title"].is_string());
        assert!(p0["start"]["month"].is_u64());
        assert!(p0["end"].is_null(), "the latest position is current");
        let url = r["file"]["downloadUrl"].as_str().unwrap();
        assert!(url.starts_with(&s.sb.base_url));
        let bytes = s
            .http
            .get(url)
            .basic_auth(s.key(), Some(""))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(r["file"]["size"], bytes.len());
        // The file is in the format its extension names, and reads as the resume.
        let read = ats_operator::documents::read(&bytes, &Default::default()).expect("readable");
        let ext = r["file"]["ext"].as_str().unwrap();
        assert_eq!(
            ext,
            match read.format.as_str() {
                "text" => "txt",
                other => other,
            }
        );
        let text = read.text;
        assert!(text.starts_with(o["name"].as_str().unwrap()), "{text}");
        assert!(text.contains(p0["org"].as_str().unwrap()));
        let anon = s.http.get(url).send().await.unwrap();
        assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
        checked += 1;
    }
    assert!(checked > 10);

    // Touching uploads a new resume: new id, new text; the old one is gone.
    let id = all[0]["id"].as_str().unwrap();
    let before = s.get_json(&format!("/v1/opportunities/{id}/resumes")).await;
    let old_url = before["data"][0]["file"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_string();
    s.control(Method::POST, "touch", json!({"application_ids": [id]}))
        .await;
    let after = s.get_json(&format!("/v1/opportunities/{id}/resumes")).await;
    assert_ne!(after["data"][0]["id"], before["data"][0]["id"]);
    let r = s
        .http
        .get(&old_url)
        .basic_auth(s.key(), Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notes_and_tags_round_trip() {
    let s = Sb::start(small()).await;
    let all = s.all_opportunities().await;
    let o = &all[5];
    let id = o["id"].as_str().unwrap();
    let sub = s.creds["connection"]["sub"].as_str().unwrap();

    let body = "AI match score: 87/100 (strong match)\n[ats-operator:k1]";
    let r = s
        .post(
            &format!("/v1/opportunities/{id}/notes?perform_as={sub}"),
            json!({"value": body, "secret": true, "notifyFollowers": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let note_id = v["data"]["noteId"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["id"], note_id.as_str());
    assert_eq!(v["data"]["fields"][0]["value"], body);
    assert_eq!(v["data"]["user"], sub);

    let r = s
        .post(
            &format!("/v1/opportunities/{id}/notes"),
            json!({"secret": true}),
        )
        .await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::BAD_REQUEST, "BadRequestError".into())
    );
    let r = s
        .post(
            &format!(
                "/v1/opportunities/{id}/notes?perform_as=90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017"
            ),
            json!({"value": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .post(
            "/v1/opportunities/90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017/notes",
            json!({"value": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let notes = s.get_json(&format!("/v1/opportunities/{id}/notes")).await;
    let list = notes["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], note_id.as_str());
    assert_eq!(list[0]["fields"][0]["type"], "note");
    assert_eq!(list[0]["fields"][0]["value"], body);
    assert_eq!(notes["hasNext"], false);

    // Tags: a set on the opportunity; adding bumps updatedAt.
    let before = chrono::Utc::now().timestamp_millis();
    let r = s
        .post(
            &format!("/v1/opportunities/{id}/addTags?perform_as={sub}"),
            json!({"tags": ["ai-band-strong", "ai-reviewed", "ai-band-strong"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let tags: Vec<&str> = v["data"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags.iter().filter(|t| **t == "ai-band-strong").count(), 1);
    assert!(tags.contains(&"ai-reviewed"));
    assert!(v["data"]["updatedAt"].as_i64().unwrap() >= before);
    let r = s
        .post(
            &format!("/v1/opportunities/{id}/removeTags"),
            json!({"tags": ["ai-reviewed"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .post(&format!("/v1/opportunities/{id}/addTags"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let w: Value = s.control_value(&format!("applications/{id}/writes")).await;
    assert_eq!(w["notes"], json!([body]));
    assert_eq!(w["tags"], json!(["ai-band-strong"]));
    assert_eq!(w["custom_fields"], json!({}));
    let (tagged, _) = s.walk("/v1/opportunities?tag=ai-band-strong").await;
    assert_eq!(ids(&tagged), vec![id.to_string()]);
    let tag_list = s.get_json("/v1/tags").await;
    assert!(
        tag_list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["text"] == "ai-band-strong" && t["count"] == 1)
    );

    let st = s.stats().await;
    assert_counts(&st, json!({"notes_created": 1, "tags_applied": 2}));
    assert!(count(&st, "POST /v1/opportunities/{id}/notes") >= 3);
}

#[tokio::test]
async fn deleted_opportunities_are_listed() {
    let s = Sb::start(small()).await;
    let all = s.all_opportunities().await;
    let gone = all[7]["id"].as_str().unwrap().to_string();
    let before = chrono::Utc::now().timestamp_millis();
    let r = s
        .control(Method::POST, "delete", json!({"application_ids": [gone]}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = chrono::Utc::now().timestamp_millis();

    let r = s.get(&format!("/v1/opportunities/{gone}")).await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::NOT_FOUND, "ResourceNotFound".into())
    );
    let now_all = s.all_opportunities().await;
    assert_eq!(now_all.len(), all.len() - 1);
    assert!(!ids(&now_all).contains(&gone));

    let v = s
        .get_json(&format!(
            "/v1/opportunities/deleted?deleted_at_start={before}"
        ))
        .await;
    assert_eq!(v["hasNext"], false);
    let d = &v["data"][0];
    assert_eq!(d["id"], gone.as_str());
    let at = d["deletedAt"].as_i64().unwrap();
    assert!(before <= at && at <= after);
    let v = s
        .get_json(&format!(
            "/v1/opportunities/deleted?deleted_at_start={}",
            after + 1
        ))
        .await;
    assert_eq!(v["data"], json!([]));

    // Paging through deletions.
    let more: Vec<String> = ids(&all[10..15]);
    s.control(Method::POST, "delete", json!({"application_ids": more}))
        .await;
    let (deleted, pages) = s.walk("/v1/opportunities/deleted?limit=2").await;
    assert_eq!(deleted.len(), 6);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_expire() {
    let s = Sb::start(small()).await;
    let rt0 = s.creds["secret"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.sb.credentials.get("refreshToken"), rt0);
    let r = s.refresh(&rt0).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t1: Value = r.json().await.unwrap();
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt0);
    // The control API reports the current one.
    assert_eq!(
        s.credentials().await["secret"]["refreshToken"],
        rt1.as_str()
    );

    // The old one is dead at once.
    let r = s.refresh(&rt0).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    );
    // A wrong client secret is the client's fault, not the grant's.
    let r = s.refresh_with(&rt1, "wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "access_denied");
    // Other grants are not for this client.
    let r = s
        .http
        .post(s.sb.token_url.as_str())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.secret("clientId")),
            ("client_secret", s.secret("clientSecret")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Client secret by HTTP Basic works as well.
    let r = s
        .http
        .post(s.sb.token_url.as_str())
        .basic_auth(
            s.secret("clientId"),
            s.creds["secret"]["clientSecret"].as_str(),
        )
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rt2 = r.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // Expired by the control API: restore does not revive it, reissue does.
    s.control(Method::POST, "refresh_tokens/expire", json!({}))
        .await;
    assert_eq!(s.refresh(&rt2).await.status(), StatusCode::FORBIDDEN);
    s.control(Method::POST, "credentials/restore", json!({}))
        .await;
    assert_eq!(s.refresh(&rt2).await.status(), StatusCode::FORBIDDEN);
    let c = s.credentials().await;
    assert_eq!(c["refresh_token_valid"], false);
    s.control(Method::POST, "refresh_tokens/reissue", json!({}))
        .await;
    let rt3 = s.credentials().await["secret"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rt3, rt2);
    assert_eq!(s.refresh(&rt3).await.status(), StatusCode::OK);
    assert_eq!(s.stats().await["token_requests"], 8);
}

#[tokio::test]
async fn idle_refresh_tokens_die() {
    let s = Sb::start(SandboxOptions {
        refresh_token_idle_ttl: Duration::from_millis(2000),
        ..unlimited(10, 3)
    })
    .await;
    // Used within the idle time: fine, and the clock restarts.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let t = s.fresh_tokens().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let t = {
        let r = s.refresh(t["refresh_token"].as_str().unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = s.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(s.credentials().await["refresh_token_valid"], false);
}

#[tokio::test]
async fn access_tokens_expire() {
    let s = Sb::start(small()).await;
    let t = s.fresh_tokens().await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(s.bearer_status(at, "/v1/tags").await, StatusCode::OK);
    s.control(Method::POST, "tokens/expire", json!({})).await;
    let r = s.bearer(at, "/v1/tags").await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::UNAUTHORIZED, "UnauthorizedError".into())
    );
    // The API key is unaffected; refreshing gives a working token.
    assert_eq!(s.get("/v1/tags").await.status(), StatusCode::OK);

    let r = s
        .control(Method::PUT, "token_ttl", json!({"seconds": 2}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = s.fresh_tokens().await;
    assert_eq!(t["expires_in"], 2);
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(s.bearer_status(at, "/v1/tags").await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        s.bearer_status(at, "/v1/tags").await,
        StatusCode::UNAUTHORIZED
    );
}

/// Sends `n` requests; returns how many passed, and how many tokens may have
/// trickled in at 10/s while they ran.
async fn count_ok(s: &Sb, n: usize) -> (usize, usize) {
    let started = Instant::now();
    let mut ok = 0;
    for _ in 0..n {
        if s.get("/v1/stages").await.status() == StatusCode::OK {
            ok += 1;
        }
    }
    (
        ok,
        (started.elapsed().as_secs_f64() * 10.0).ceil() as usize + 1,
    )
}

#[tokio::test]
async fn rate_limit_is_a_token_bucket_without_headers() {
    let s = Sb::start(rate_limited(10, 3, 5, Duration::from_secs(60))).await;
    let rl: Value = s.control_value("rate_limit").await;
    assert_eq!(rl["burst"], 10);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = s.get("/v1/stages").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            for h in r.headers().keys() {
                let h = h.as_str();
                assert!(
                    !h.starts_with("x-ratelimit") && h != "retry-after",
                    "no rate-limit headers: {h}"
                );
            }
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], "TooManyRequests");
            statuses.push(429);
        } else {
            assert!(!r.headers().contains_key("x-ratelimit-remaining"));
            statuses.push(r.status().as_u16());
        }
    }
    // A burst of 10, then empty (one token per 12 s is too slow to matter).
    assert_eq!(&statuses[..10], &[200; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    assert_eq!(s.stats().await["rate_limited"], 2);

    let r = s
        .control(Method::PUT, "rate_limit", json!({"disabled": true}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"disabled": true}));
    for _ in 0..30 {
        assert_eq!(s.get("/v1/stages").await.status(), StatusCode::OK);
    }
    // Lever's documented limit, steady 10/s: the burst refills at that rate.
    s.control(
        Method::PUT,
        "rate_limit",
        json!({"requests": 10, "window_seconds": 1}),
    )
    .await;
    // Bounds allow for the tokens that trickle in while the requests run.
    let (ok, trickle) = count_ok(&s, 25).await;
    assert!(ok >= 20 && ok <= 20 + trickle, "{ok} (+{trickle})");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (ok, trickle) = count_ok(&s, 15).await;
    assert!(ok >= 10 && ok <= 10 + trickle + 1, "{ok} (+{trickle})");
}

#[tokio::test]
async fn faults_are_injected_in_lever_format() {
    let s = Sb::start(small()).await;
    let r = s
        .control(Method::POST, "faults", json!({"status": 503, "count": 2}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..2 {
        let r = s.get("/v1/opportunities?limit=1").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.json::<Value>().await.unwrap()["code"].is_string());
    }
    assert_eq!(
        s.get("/v1/opportunities?limit=1").await.status(),
        StatusCode::OK
    );

    s.control(
        Method::POST,
        "faults",
        json!({"status": 429, "count": 1, "path_prefix": "/v1/postings"}),
    )
    .await;
    assert_eq!(s.get("/v1/users").await.status(), StatusCode::OK);
    let r = s.get("/v1/postings").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.headers().contains_key("retry-after"));

    s.control(
        Method::POST,
        "faults",
        json!({"status": 500, "count": 1, "path_prefix": "/oauth/token"}),
    )
    .await;
    let rt = s.creds["secret"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.refresh(&rt).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    // The failed attempt did not rotate anything.
    assert_eq!(s.refresh(&rt).await.status(), StatusCode::OK);

    s.control(Method::POST, "faults", json!({"status": 500, "count": 5}))
        .await;
    s.control(Method::DELETE, "faults", json!({})).await;
    assert_eq!(s.get("/v1/users").await.status(), StatusCode::OK);
    let r = s
        .control(Method::POST, "faults", json!({"status": 404, "count": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.stats().await["faults_injected"], 4);
}

#[tokio::test]
async fn ten_thousand_opportunities_page_quickly() {
    let s = Sb::start(unlimited(10_000, 20)).await;
    let started = Instant::now();
    let (items, pages) = s.walk("/v1/opportunities").await;
    assert_eq!((items.len(), pages), (10_000, 100));
    // Incremental: a narrow window far into the list.
    let u = items[9_000]["createdAt"].as_i64().unwrap();
    let (recent, _) = s
        .walk(&format!("/v1/opportunities?created_at_start={u}"))
        .await;
    assert_eq!(recent.len(), 1_000);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// The stage index an opportunity is at.
fn stage_index(o: &Value) -> usize {
    o["stageChanges"].as_array().unwrap().last().unwrap()["toStageIndex"]
        .as_u64()
        .unwrap() as usize
}

/// `/opportunities/:id/interviews`, `/feedback` and `/offers`: Lever's shapes
/// and paging, derived from each opportunity's pipeline.
#[tokio::test]
async fn interviews_feedback_and_offers() {
    let s = Sb::start(small()).await;
    let opps = s.all_opportunities().await;
    let active = opps
        .iter()
        .find(|o| o["archived"].is_null() && stage_index(o) == 3)
        .expect("an active opportunity at the onsite");
    let oid = active["id"].as_str().unwrap();

    // One interview per interview stage reached; one page; Lever's fields.
    let v = s
        .get_json(&format!("/v1/opportunities/{oid}/interviews"))
        .await;
    assert_eq!(v["hasNext"], false);
    assert!(v.get("next").is_none());
    let interviews = v["data"].as_array().unwrap().clone();
    assert_eq!(interviews.len(), 3);
    for iv in &interviews {
        for k in [
            "id",
            "panel",
            "subject",
            "note",
            "timezone",
            "createdAt",
            "date",
            "duration",
            "location",
            "feedbackTemplate",
            "feedbackReminder",
            "user",
            "stage",
        ] {
            assert!(!iv[k].is_null(), "{k}: {iv}");
        }
        assert!(iv["canceledAt"].is_null());
        assert_eq!(iv["interviewers"].as_array().unwrap().len(), 1);
        assert!(iv["interviewers"][0]["email"].is_string());
        assert_eq!(iv["feedbackForms"].as_array().unwrap().len(), 1);
    }
    let dates: Vec<i64> = interviews
        .iter()
        .map(|iv| iv["date"].as_i64().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    let app = s
        .get_json(&format!("/v1/opportunities/{oid}/applications"))
        .await;
    let posting = app["data"][0]["posting"].clone();
    assert!(
        interviews
            .iter()
            .all(|iv| iv["postings"] == json!([posting]))
    );

    // Paging with limit: the same interviews, one per page.
    let (paged, pages) = s
        .walk(&format!("/v1/opportunities/{oid}/interviews?limit=1"))
        .await;
    assert_eq!((ids(&paged), pages), (ids(&interviews), 3));

    // Retrieve one; ids of other opportunities or kinds are 404s.
    let first = interviews[0]["id"].as_str().unwrap();
    let one = s
        .get_json(&format!("/v1/opportunities/{oid}/interviews/{first}"))
        .await;
    assert_eq!(one["data"], interviews[0]);
    let other = opps.iter().find(|o| o["id"] != active["id"]).unwrap()["id"]
        .as_str()
        .unwrap();
    let r = s
        .get(&format!("/v1/opportunities/{other}/interviews/{first}"))
        .await;
    assert_eq!(
        error_code(r).await,
        (StatusCode::NOT_FOUND, "ResourceNotFound".into())
    );

    // A feedback form per interview; the one for the onsite ahead is not filled in.
    let feedback = s
        .get_json(&format!("/v1/opportunities/{oid}/feedback"))
        .await["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(feedback.len(), 3);
    for (f, iv) in feedback.iter().zip(&interviews) {
        assert_eq!(f["interview"], iv["id"]);
        assert_eq!(iv["feedbackForms"], json!([f["id"]]));
        assert_eq!(f["type"], "interview");
        assert_eq!(f["baseTemplateId"], iv["feedbackTemplate"]);
        assert_eq!(f["fields"][0]["type"], "score-system");
    }
    for f in &feedback[..2] {
        let score = f["fields"][0]["value"].as_u64().unwrap();
        assert!((3..=4).contains(&score), "passed, so rated well: {f}");
        assert!(f["completedAt"].as_i64().unwrap() >= f["createdAt"].as_i64().unwrap());
    }
    assert!(feedback[2]["completedAt"].is_null());
    assert!(feedback[2]["fields"][0]["value"].is_null());
    let fid = feedback[1]["id"].as_str().unwrap();
    let one = s
        .get_json(&format!("/v1/opportunities/{oid}/feedback/{fid}"))
        .await;
    assert_eq!(one["data"], feedback[1]);
    let r = s
        .get(&format!("/v1/opportunities/{oid}/feedback/{first}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // No offer yet for an active opportunity.
    let v = s.get_json(&format!("/v1/opportunities/{oid}/offers")).await;
    assert_eq!(v, json!({"data": [], "hasNext": false}));

    // Hired: a signed offer, its letter downloadable.
    let reasons = s.get_json("/v1/archive_reasons").await;
    let hired_reason = reasons["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "hired")
        .unwrap()["id"]
        .clone();
    let hired = opps
        .iter()
        .find(|o| o["archiveReason"] == hired_reason)
        .expect("a hired opportunity");
    let hid = hired["id"].as_str().unwrap();
    let offers = s.get_json(&format!("/v1/opportunities/{hid}/offers")).await;
    assert_eq!(offers["hasNext"], false);
    let offer = &offers["data"][0];
    assert_eq!(offers["data"].as_array().unwrap().len(), 1);
    assert_eq!(offer["status"], "signed");
    for k in [
        "id",
        "posting",
        "createdAt",
        "creator",
        "approvedAt",
        "sentAt",
        "sentDocument",
        "signedDocument",
    ] {
        assert!(!offer[k].is_null(), "{k}: {offer}");
    }
    assert_eq!(offer["signatures"]["candidate"]["signed"], true);
    let salary = offer["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["identifier"] == "salary_amount")
        .unwrap();
    assert!(salary["value"].as_u64().unwrap() >= 90_000);
    let created = offer["createdAt"].as_i64().unwrap();
    let sent = offer["sentAt"].as_i64().unwrap();
    assert!(created <= sent && sent <= hired["updatedAt"].as_i64().unwrap());
    let letter = s
        .http
        .get(offer["signedDocument"]["downloadUrl"].as_str().unwrap())
        .basic_auth(s.key(), Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(letter.status(), StatusCode::OK);
    assert!(header(&letter, "content-disposition").contains("Offer Letter"));
    assert!(letter.text().await.unwrap().contains("pleased to offer"));
    // Every hired opportunity's interviews were all completed.
    let hf = s
        .get_json(&format!("/v1/opportunities/{hid}/feedback"))
        .await;
    assert!(
        hf["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["completedAt"].is_i64())
    );

    // Unknown opportunities are 404s; forged offsets 400s.
    let nobody = "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017";
    for list in ["interviews", "feedback", "offers"] {
        let r = s.get(&format!("/v1/opportunities/{nobody}/{list}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{list}");
        let r = s
            .get(&format!(
                "/v1/opportunities/{oid}/{list}?offset=0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94"
            ))
            .await;
        assert_eq!(
            error_code(r).await,
            (StatusCode::BAD_REQUEST, "BadRequestError".into())
        );
    }

    // The same seed gives the same interviews.
    let twin = Sb::start(small()).await;
    let again = twin
        .get_json(&format!("/v1/opportunities/{oid}/interviews"))
        .await;
    assert_eq!(again["data"], json!(interviews));
}
