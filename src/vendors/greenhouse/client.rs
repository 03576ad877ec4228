//! The Greenhouse Harvest v3 client: OAuth client credentials, cursor paging,
//! incremental pulls and score write-back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::{Instrument, debug, info_span, warn};

use super::mapping::{self, GhApplication, GhAttachment, GhCandidate, GhJob, GhJobPost};
use crate::model::ChangeSet;
use crate::vendors::http::{self, ClientCredentials, HttpPolicy, VendorHttp};
use crate::vendors::{AtsClient, ConnectionConfig, PullScope, VendorError, WriteBackRequest};

pub const DEFAULT_BASE_URL: &str = "https://harvest.greenhouse.io";
pub const DEFAULT_TOKEN_URL: &str = "https://auth.greenhouse.io/token";
const PER_PAGE: &str = "500";
/// Greenhouse caps id-list filters at 50.
const ID_BATCH: usize = 50;
const DOWNLOADS_IN_FLIGHT: usize = 8;

const FORBIDDEN_HINT: &str = "the API credentials need the harvest:*:list scopes for jobs, job posts, \
candidates, applications, attachments and notes (plus note creation and application update), \
and the acting user (spec.auth.sub) must be a Site Admin";

pub struct GreenhouseClient {
    http: VendorHttp,
    /// Presigned attachment URLs need no auth and are not rate limited.
    files: reqwest::Client,
    base: String,
    user_id: Option<i64>,
}

impl GreenhouseClient {
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, VendorError> {
        let base = cfg
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .trim_end_matches("/v3")
            .to_string();
        let token_url = cfg
            .token_url
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_URL.to_string());
        let extra = cfg
            .sub
            .iter()
            .map(|s| ("sub".to_string(), s.clone()))
            .collect();
        let auth = ClientCredentials::new(
            token_url,
            cfg.credential("clientId")?.clone(),
            cfg.credential("clientSecret")?.clone(),
            extra,
            HttpPolicy::default(),
        );
        let files = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| VendorError::Config(format!("HTTP client: {e}")))?;
        Ok(GreenhouseClient {
            http: VendorHttp::new(Arc::new(auth), cfg.rate_limit, HttpPolicy::default())?,
            files,
            base,
            user_id: cfg.sub.as_deref().and_then(|s| s.parse().ok()),
        })
    }

    fn url(&self, path: &str, params: &[(&str, String)]) -> Result<url::Url, VendorError> {
        url::Url::parse_with_params(&format!("{}/v3/{path}", self.base), params)
            .map_err(|e| VendorError::Config(format!("spec.baseUrl: {e}")))
    }

    fn hint(e: VendorError) -> VendorError {
        match e {
            VendorError::Forbidden(m) => VendorError::Forbidden(format!("{m}; {FORBIDDEN_HINT}")),
            other => other,
        }
    }

    /// Every page of a list: filters on the first request, then `Link rel="next"`
    /// URLs exactly as given (the cursor must be their only parameter).
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        filters: &[(&str, String)],
    ) -> Result<Vec<T>, VendorError> {
        let mut params: Vec<(&str, String)> = filters.to_vec();
        params.push(("per_page", PER_PAGE.to_string()));
        let mut url = self.url(path, &params)?;
        let mut out = Vec::new();
        loop {
            let resp = self
                .http
                .send(|c| c.get(url.clone()))
                .await
                .map_err(Self::hint)?;
            let next = http::next_link(resp.headers());
            let page: Vec<T> = resp
                .json()
                .await
                .map_err(|e| VendorError::Decode(format!("GET /v3/{path}: {e}")))?;
            out.extend(page);
            match next {
                Some(n) => {
                    url = url::Url::parse(&n)
                        .map_err(|e| VendorError::Decode(format!("Link header: {e}")))?
                }
                None => return Ok(out),
            }
        }
    }

    /// `list` with an id-list filter, in batches of 50.
    async fn list_by_ids<T: DeserializeOwned>(
        &self,
        path: &str,
        filter: &str,
        ids: &BTreeSet<i64>,
    ) -> Result<Vec<T>, VendorError> {
        let ids: Vec<i64> = ids.iter().copied().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(ID_BATCH) {
            let joined = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.extend(self.list::<T>(path, &[(filter, joined)]).await?);
        }
        Ok(out)
    }

    async fn with_resume(
        &self,
        c: GhCandidate,
        url: Option<String>,
    ) -> Result<crate::model::Candidate, VendorError> {
        let text = match &url {
            Some(u) => Some(self.download(u).await?),
            None => None,
        };
        Ok(mapping::candidate(&c, url, text))
    }

    /// Downloads a resume; a gone file reads as empty, a flaky one is retried.
    async fn download(&self, url: &str) -> Result<String, VendorError> {
        let policy = self.http.policy();
        let mut attempt = 0;
        loop {
            let r = self.files.get(url).send().await;
            match r {
                Ok(r) if r.status().is_success() => {
                    return r
                        .text()
                        .await
                        .map_err(|e| VendorError::Decode(format!("attachment: {e}")));
                }
                Ok(r) if r.status().is_client_error() => {
                    warn!(status = %r.status(), "resume attachment not available; scoring without it");
                    return Ok(String::new());
                }
                _ => {}
            }
            attempt += 1;
            if attempt >= policy.max_attempts {
                return Err(VendorError::Unavailable(
                    "resume attachment download keeps failing".into(),
                ));
            }
            tokio::time::sleep(http::backoff(policy, attempt)).await;
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The newest resume of each candidate.
fn latest_resumes(atts: &[GhAttachment]) -> BTreeMap<i64, &GhAttachment> {
    let mut by_candidate: BTreeMap<i64, &GhAttachment> = BTreeMap::new();
    for a in atts.iter().filter(|a| a.is_resume()) {
        let Some(cid) = a.candidate_id else { continue };
        let newer = by_candidate
            .get(&cid)
            .is_none_or(|b| (a.updated_at, a.id) > (b.updated_at, b.id));
        if newer {
            by_candidate.insert(cid, a);
        }
    }
    by_candidate
}

#[async_trait]
impl AtsClient for GreenhouseClient {
    async fn pull(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let span = info_span!("greenhouse_pull", since = ?since);
        async move {
            let changed: Vec<(&str, String)> = since
                .map(|t| vec![("updated_at", format!("gte|{}", ts(t)))])
                .unwrap_or_default();

            let gh_jobs: Vec<GhJob> = self.list("jobs", &[]).await?;
            let posts: Vec<GhJobPost> = self.list("job_posts", &[]).await?;
            let mut post_of: HashMap<i64, &GhJobPost> = HashMap::new();
            for p in &posts {
                if let Some(jid) = p.job_id {
                    // Prefer the live external post: it carries the public description.
                    let better = post_of.get(&jid).is_none_or(|q| {
                        (p.live.unwrap_or(false), p.external.unwrap_or(false))
                            > (q.live.unwrap_or(false), q.external.unwrap_or(false))
                    });
                    if better {
                        post_of.insert(jid, p);
                    }
                }
            }
            let jobs: Vec<_> = gh_jobs
                .iter()
                .map(|j| mapping::job(j, post_of.get(&j.id).copied()))
                .filter(|j| scope.includes_job(j))
                .collect();
            let in_scope: BTreeSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();

            let mut apps: Vec<GhApplication> = self.list("applications", &changed).await?;
            let mut cands: Vec<GhCandidate> = self.list("candidates", &changed).await?;
            let mut atts: Vec<GhAttachment> = self.list("attachments", &changed).await?;
            let high_watermark = apps
                .iter()
                .map(|a| a.updated_at)
                .chain(cands.iter().map(|c| c.updated_at))
                .chain(atts.iter().map(|a| a.updated_at))
                .flatten()
                .max();

            if since.is_some() {
                // A new resume or candidate change re-scores the candidate's applications.
                let touched: BTreeSet<i64> = cands
                    .iter()
                    .map(|c| c.id)
                    .chain(atts.iter().filter_map(|a| a.candidate_id))
                    .collect();
                let have_apps: BTreeSet<i64> = apps.iter().map(|a| a.id).collect();
                let more: Vec<GhApplication> = self
                    .list_by_ids("applications", "candidate_ids", &touched)
                    .await?;
                apps.extend(more.into_iter().filter(|a| !have_apps.contains(&a.id)));

                // Changed applications need their candidate and resume even when those did not change.
                let have_cands: BTreeSet<i64> = cands.iter().map(|c| c.id).collect();
                let missing: BTreeSet<i64> = apps
                    .iter()
                    .filter(|a| {
                        a.job_id
                            .is_some_and(|j| in_scope.contains(j.to_string().as_str()))
                    })
                    .filter_map(|a| a.candidate_id)
                    .filter(|c| !have_cands.contains(c))
                    .collect();
                cands.extend(
                    self.list_by_ids::<GhCandidate>("candidates", "ids", &missing)
                        .await?,
                );
                let have_resume: BTreeSet<i64> =
                    atts.iter().filter_map(|a| a.candidate_id).collect();
                let need: BTreeSet<i64> = missing.difference(&have_resume).copied().collect();
                atts.extend(
                    self.list_by_ids::<GhAttachment>("attachments", "candidate_ids", &need)
                        .await?,
                );
            }

            let applications: Vec<_> = apps
                .iter()
                .filter_map(mapping::application)
                .filter(|a| in_scope.contains(a.job_id.as_str()))
                .collect();
            let needed: BTreeSet<&str> = applications
                .iter()
                .map(|a| a.candidate_id.as_str())
                .collect();
            let resumes = latest_resumes(&atts);
            let wanted: Vec<(GhCandidate, Option<String>)> = cands
                .into_iter()
                .filter(|c| needed.contains(c.id.to_string().as_str()))
                .map(|c| {
                    let url = resumes.get(&c.id).and_then(|a| a.url.clone());
                    (c, url)
                })
                .collect();
            let candidates = futures::stream::iter(wanted)
                .map(|(c, url)| self.with_resume(c, url))
                .buffer_unordered(DOWNLOADS_IN_FLIGHT)
                .try_collect::<Vec<_>>()
                .await?;
            debug!(
                jobs = jobs.len(),
                applications = applications.len(),
                candidates = candidates.len(),
                "greenhouse pull mapped"
            );
            Ok(ChangeSet {
                jobs,
                candidates,
                applications,
                deleted_application_ids: Vec::new(),
                high_watermark,
            })
        }
        .instrument(span)
        .await
    }

    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        let span = info_span!("greenhouse_write_back", application = %req.application.id);
        async move {
            let app_id: i64 = req.application.id.parse().map_err(|_| {
                VendorError::Decode(format!(
                    "application id {:?} is not numeric",
                    req.application.id
                ))
            })?;
            let candidate_id: i64 = req.application.candidate_id.parse().map_err(|_| {
                VendorError::Decode(format!(
                    "candidate id {:?} is not numeric",
                    req.application.candidate_id
                ))
            })?;
            // The custom field first: PATCH is idempotent, and a note that exists
            // then proves the whole write landed (see `note_exists`).
            if let Some(key) = &req.custom_field {
                let url = self.url(&format!("applications/{app_id}"), &[])?;
                let body = json!({"custom_fields": [{"name_key": key, "value": req.score.score}]});
                self.http
                    .send(|c| c.patch(url.clone()).json(&body))
                    .await
                    .map_err(Self::hint)?;
            }
            if req.note {
                let url = self.url("notes", &[])?;
                let mut body = json!({
                    "candidate_id": candidate_id,
                    "application_id": app_id,
                    "body": req.note_body(),
                    "visibility": "admin_only",
                    "note_type": "NOTE",
                });
                if let Some(u) = self.user_id {
                    body["user_id"] = json!(u);
                }
                self.http
                    .send_once(|c| c.post(url.clone()).json(&body))
                    .await
                    .map_err(Self::hint)?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn note_exists(&self, req: &WriteBackRequest) -> Result<bool, VendorError> {
        let notes: Vec<serde_json::Value> = self
            .list("notes", &[("application_ids", req.application.id.clone())])
            .await?;
        let marker = req.marker();
        Ok(notes
            .iter()
            .any(|n| n["body"].as_str().is_some_and(|b| b.contains(&marker))))
    }

    async fn verify(&self) -> Result<(), VendorError> {
        let url = self.url("jobs", &[("per_page", "1".to_string())])?;
        self.http
            .send(|c| c.get(url.clone()))
            .await
            .map_err(Self::hint)?;
        Ok(())
    }
}
