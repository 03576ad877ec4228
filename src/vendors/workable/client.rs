//! The Workable SPI v3 client: account token (Bearer), `paging.next` lists,
//! candidate details, and score write-back as a comment, a custom attribute
//! and a band tag. Transport concerns (rate limits, retries) live in
//! [`crate::vendors::http`]; Workable's `X-Rate-Limit-*` headers (10 requests
//! per 10 s for account tokens) are observed there, so requests wait for the
//! window to reset rather than spend retries on 429s.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::{Instrument, debug, info_span, warn};
use url::Url;

use super::mapping::{self, WkCandidate, WkCandidateEnvelope, WkCandidateItem, WkJob};
use crate::model::{Application, Candidate, ChangeSet, Readability};
use crate::vendors::http::paging::follow_next;
use crate::vendors::http::{
    RateLimiter, RetryPolicy, StaticAuth, Transport, VendorHttp, api_url, decode,
};
use crate::vendors::{
    AtsClient, ConnectionConfig, Known, PullScope, VendorError, WriteBackRequest, batches, given,
    notes, resume_file,
};

/// Workable's maximum page size.
const PAGE_SIZE: &str = "100";
/// Candidate details fetched at once; the limiter paces them.
const DETAILS_IN_FLIGHT: usize = 4;
/// Jobs in scope up to which candidates are listed per job (`shortcode=`)
/// rather than all at once and filtered here.
const PER_JOB_LISTING_MAX: usize = 3;

const FORBIDDEN_HINT: &str = "the Workable API token needs the r_jobs, r_candidates and \
w_candidates scopes (Settings > Integrations > API access token)";

/// What a pull will fetch.
struct PullPlan {
    jobs: Vec<crate::model::Job>,
    /// In id order, so a resumed pull skips what an earlier one did.
    wanted: Vec<WkCandidateItem>,
    /// Listed, and unchanged since processed: no detail fetched.
    unchanged: Vec<String>,
    anonymized: Vec<String>,
    listed_watermark: Option<DateTime<Utc>>,
}

/// One pulled candidate: mapped, or gone between the list and its detail.
enum Fetched {
    Found(Box<(Candidate, Application)>),
    Gone(String),
}

/// A Workable account. Jobs are keyed by their shortcode (what Workable shows
/// users, and what `scope.jobIds` lists); applications and candidates by the
/// per-job candidate id.
pub struct WorkableClient {
    pub(super) http: VendorHttp,
    /// `https://{subdomain}.workable.com/spi/v3`, or `{baseUrl}/spi/v3`.
    api: Url,
    /// The acting member: comments are posted as them.
    member_id: Option<String>,
}

impl std::fmt::Debug for WorkableClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkableClient")
            .field("api", &self.api.as_str())
            .finish_non_exhaustive()
    }
}

/// The API root for a connection: `{baseUrl}/spi/v3` when a server root is
/// given, else the account's `https://{subdomain}.workable.com/spi/v3`.
pub fn api_root(cfg: &ConnectionConfig) -> Result<Url, VendorError> {
    let root = match given(cfg.base_url.as_deref()) {
        Some(b) => {
            let b = b.trim_end_matches('/');
            let b = b.strip_suffix("/spi/v3").unwrap_or(b);
            format!("{b}/spi/v3")
        }
        None => {
            let sub = given(cfg.subdomain.as_deref()).ok_or_else(|| {
                VendorError::Config(
                    "spec.subdomain is required for Workable (the account's subdomain, \
                     as in https://<subdomain>.workable.com), unless spec.baseUrl is set"
                        .into(),
                )
            })?;
            let sub = sub.strip_suffix(".workable.com").unwrap_or(sub);
            let valid = !sub.is_empty()
                && sub.len() <= 63
                && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !sub.starts_with('-')
                && !sub.ends_with('-');
            if !valid {
                return Err(VendorError::Config(format!(
                    "spec.subdomain {sub:?} is not a Workable subdomain (letters, digits and \
                     hyphens, as in https://<subdomain>.workable.com)"
                )));
            }
            format!("https://{}.workable.com/spi/v3", sub.to_ascii_lowercase())
        }
    };
    let url = Url::parse(&root).map_err(|e| VendorError::Config(format!("spec.baseUrl: {e}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(VendorError::Config(
            "spec.baseUrl must be an http(s) URL".into(),
        ));
    }
    Ok(url)
}

/// `updated_after`: ISO-8601, with fractions only when the watermark has them.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn hint(e: VendorError) -> VendorError {
    e.with_hint(FORBIDDEN_HINT)
}

impl WorkableClient {
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, VendorError> {
        Self::with_policy(cfg, RetryPolicy::default())
    }

    /// As [`new`](Self::new) with other retry settings (tests use short backoffs).
    pub fn with_policy(cfg: &ConnectionConfig, policy: RetryPolicy) -> Result<Self, VendorError> {
        let api = api_root(cfg)?;
        let auth = StaticAuth::bearer(cfg.credential("apiKey")?)?;
        let transport = Transport::guarded(policy, cfg.endpoints, cfg.download_policy())?
            .for_vendor(cfg.vendor);
        Ok(WorkableClient {
            http: VendorHttp::new(
                transport,
                RateLimiter::new(cfg.rate_limit, None),
                Box::new(auth),
            ),
            api,
            member_id: given(cfg.sub.as_deref()).map(str::to_string),
        })
    }

    /// `{api}/{segments...}?{params}`; segments are escaped (ids come from outside).
    pub(super) fn url(
        &self,
        segments: &[&str],
        params: &[(&str, &str)],
    ) -> Result<Url, VendorError> {
        api_url(&self.api, segments, params)
    }

    /// Every page of a list: `{key: [...], "paging": {"next": "<absolute URL>"}}`,
    /// the last page without `paging`. Next URLs are followed as given, but only
    /// on the origin of `first` (always the API's), so the token never goes to
    /// another host.
    async fn list<T: DeserializeOwned>(
        &self,
        first: Url,
        key: &str,
    ) -> Result<Vec<T>, VendorError> {
        follow_next(first, "paging.next", |url| async move {
            let resp = self
                .http
                .send(|| self.http.client().get(url.clone()))
                .await
                .map_err(hint)?;
            let mut page: Value = decode(resp).await?;
            let items = page
                .get_mut(key)
                .map(Value::take)
                .unwrap_or(Value::Array(Vec::new()));
            let items: Vec<T> = serde_json::from_value(items)
                .map_err(|e| VendorError::Decode(format!("{}: {key}: {e}", url.path())))?;
            let next = page
                .get("paging")
                .and_then(|p| p.get("next"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            Ok((items, next))
        })
        .await
    }

    async fn jobs(&self) -> Result<Vec<WkJob>, VendorError> {
        let url = self.url(
            &["jobs"],
            &[
                ("limit", PAGE_SIZE),
                ("include_fields", "description,requirements,benefits"),
            ],
        )?;
        self.list(url, "jobs").await
    }

    /// Candidates changed since `since`: all of the account's, or per job
    /// when the scope is a few of many jobs.
    async fn candidates(
        &self,
        since: Option<DateTime<Utc>>,
        per_job: Option<&BTreeSet<String>>,
    ) -> Result<Vec<WkCandidateItem>, VendorError> {
        let since = since.map(ts);
        let mut params: Vec<(&str, &str)> = vec![("limit", PAGE_SIZE)];
        if let Some(s) = &since {
            params.push(("updated_after", s));
        }
        match per_job {
            None => {
                self.list(self.url(&["candidates"], &params)?, "candidates")
                    .await
            }
            Some(codes) => {
                let mut out = Vec::new();
                for code in codes {
                    let mut p = params.clone();
                    p.push(("shortcode", code));
                    out.extend(
                        self.list::<WkCandidateItem>(self.url(&["candidates"], &p)?, "candidates")
                            .await?,
                    );
                }
                Ok(out)
            }
        }
    }

    /// The jobs in scope and the candidates to fetch, in id order.
    async fn plan(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
        known: &dyn Known,
    ) -> Result<PullPlan, VendorError> {
        let wk_jobs = self.jobs().await?;
        let total_jobs = wk_jobs.len();
        let jobs: Vec<_> = wk_jobs
            .iter()
            .map(mapping::job)
            .filter(|j| scope.includes_job(j))
            .collect();
        let in_scope: BTreeSet<String> = jobs.iter().map(|j| j.id.clone()).collect();
        if in_scope.is_empty() {
            debug!("no job in scope");
            return Ok(PullPlan {
                jobs,
                wanted: Vec::new(),
                unchanged: Vec::new(),
                anonymized: Vec::new(),
                listed_watermark: None,
            });
        }
        let per_job = (in_scope.len() <= PER_JOB_LISTING_MAX && in_scope.len() < total_jobs)
            .then_some(&in_scope);
        let items = self.candidates(since, per_job).await?;
        let listed_watermark = items.iter().filter_map(|c| c.updated_at).max();
        let mut seen = HashSet::new();
        let mut anonymized = Vec::new();
        let mut wanted = Vec::new();
        let mut unchanged = Vec::new();
        let job_of: std::collections::HashMap<&str, &crate::model::Job> =
            jobs.iter().map(|j| (j.id.as_str(), j)).collect();
        for c in items {
            let Some(job) = c.shortcode().and_then(|s| job_of.get(s)) else {
                continue;
            };
            if !seen.insert(c.id.clone()) {
                continue;
            }
            if c.anonymized.unwrap_or(false) {
                // GDPR erasure: forget it as the ATS did.
                anonymized.push(c.id);
            } else if known.unchanged(&c.id, job, c.updated_at) {
                unchanged.push(c.id);
            } else {
                wanted.push(c);
            }
        }
        wanted.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(PullPlan {
            jobs,
            wanted,
            unchanged,
            anonymized,
            listed_watermark,
        })
    }

    /// The details of some of a plan's candidates, mapped.
    async fn batch(
        &self,
        plan: &PullPlan,
        items: &[WkCandidateItem],
    ) -> Result<ChangeSet, VendorError> {
        let fetched: Vec<Fetched> = futures::stream::iter(items.iter().cloned())
            .map(|c| self.fetch(c))
            .buffered(DETAILS_IN_FLIGHT)
            .try_collect()
            .await?;
        let (candidates, applications, deleted) = split(fetched);
        // A detail can be newer than its list item.
        let high_watermark = applications
            .iter()
            .filter_map(|a| a.updated_at)
            .chain(plan.listed_watermark)
            .max();
        Ok(ChangeSet {
            jobs: plan.jobs.clone(),
            candidates,
            applications,
            deleted_application_ids: deleted,
            high_watermark,
            unchanged_application_ids: Vec::new(),
            out_of_scope_application_ids: Vec::new(),
            resume_after: items.last().map(|c| c.id.clone()),
        })
    }

    /// The full record; `None` when the candidate is gone (404).
    async fn detail(&self, id: &str) -> Result<Option<WkCandidate>, VendorError> {
        let url = self.url(&["candidates", id], &[])?;
        match self.http.send(|| self.http.client().get(url.clone())).await {
            Ok(resp) => Ok(Some(decode::<WkCandidateEnvelope>(resp).await?.candidate)),
            Err(VendorError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(hint(e)),
        }
    }

    /// A CV's text, downloaded from its presigned URL (no token sent) and
    /// read whatever its format. A file that is gone or refused is missing;
    /// a flaky one fails the pull so the next one retries.
    async fn download_cv(
        &self,
        url: &str,
        candidate: &str,
    ) -> Result<(Option<String>, Readability), VendorError> {
        match self.http.download(url).await {
            Ok(bytes) => Ok(resume_file::read(bytes, candidate).await),
            Err(e @ (VendorError::Rejected { .. } | VendorError::Forbidden(_))) => {
                warn!(candidate, error = %e, "CV not available; scoring without it");
                Ok((None, Readability::Missing))
            }
            Err(e) => Err(e),
        }
    }

    /// Detail, CV, and the mapping.
    async fn fetch(&self, item: WkCandidateItem) -> Result<Fetched, VendorError> {
        let Some(c) = self.detail(&item.id).await? else {
            debug!(candidate = %item.id, "candidate gone between list and detail");
            return Ok(Fetched::Gone(item.id));
        };
        self.complete(c, item.shortcode(), item.id.clone()).await
    }

    /// A detailed candidate's CV, and the mapping; `id` is what it was asked by.
    async fn complete(
        &self,
        c: WkCandidate,
        shortcode: Option<&str>,
        id: String,
    ) -> Result<Fetched, VendorError> {
        let (cv, readability) = match c.resume_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(u) => self.download_cv(u, &c.id).await?,
            None => (None, Readability::Missing),
        };
        let mut candidate = mapping::candidate(&c, cv.as_deref());
        candidate.resume.readability = readability;
        match mapping::application(&c, shortcode) {
            Some(app) => Ok(Fetched::Found(Box::new((candidate, app)))),
            // Moved to the talent pool since it was listed.
            None => Ok(Fetched::Gone(id)),
        }
    }

    /// A job by shortcode (`GET /jobs/:shortcode`, unwrapped); `None` when gone.
    async fn job(&self, shortcode: &str) -> Result<Option<WkJob>, VendorError> {
        let url = self.url(&["jobs", shortcode], &[])?;
        match self.http.send(|| self.http.client().get(url.clone())).await {
            Ok(resp) => Ok(Some(decode::<WkJob>(resp).await?)),
            Err(VendorError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(hint(e)),
        }
    }

    /// One chunk of a pull by id: each candidate's record, the jobs of those
    /// with one, and the CVs of those in scope, mapped as a pull maps them.
    async fn pull_by_id(
        &self,
        ids: Vec<String>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let details: Vec<_> = ids
            .iter()
            .map(|id| async move {
                match workable_id(id) {
                    true => self.detail(id).await,
                    false => Ok(None),
                }
            })
            .collect();
        let details: Vec<Option<WkCandidate>> = futures::stream::iter(details)
            .buffered(DETAILS_IN_FLIGHT)
            .try_collect()
            .await?;
        let (mut deleted, mut out_of_scope, mut records) = (Vec::new(), Vec::new(), Vec::new());
        for (id, c) in ids.into_iter().zip(details) {
            match c {
                None => deleted.push(id),
                // GDPR erasure: forget it as the ATS did.
                Some(c) if c.anonymized.unwrap_or(false) => deleted.push(id),
                Some(c) => match c.job.as_ref().and_then(|j| j.shortcode.clone()) {
                    Some(code) if !code.trim().is_empty() => records.push((id, code, c)),
                    // The talent pool: no job to score against.
                    _ => out_of_scope.push(id),
                },
            }
        }
        let codes: BTreeSet<&str> = records.iter().map(|(_, code, _)| code.as_str()).collect();
        let fetches: Vec<_> = codes
            .iter()
            .map(|code| async move { self.job(code).await })
            .collect();
        let jobs: Vec<Option<WkJob>> = futures::stream::iter(fetches)
            .buffered(DETAILS_IN_FLIGHT)
            .try_collect()
            .await?;
        let jobs: Vec<_> = jobs
            .iter()
            .flatten()
            .map(mapping::job)
            .filter(|j| scope.includes_job(j))
            .collect();
        let (kept, outside): (Vec<_>, Vec<_>) = records
            .into_iter()
            .partition(|(_, code, _)| jobs.iter().any(|j| &j.id == code));
        out_of_scope.extend(outside.into_iter().map(|(id, _, _)| id));
        let completions: Vec<_> = kept
            .into_iter()
            .map(|(id, code, c)| async move { self.complete(c, Some(&code), id).await })
            .collect();
        let fetched: Vec<Fetched> = futures::stream::iter(completions)
            .buffered(DETAILS_IN_FLIGHT)
            .try_collect()
            .await?;
        let (candidates, applications, gone) = split(fetched);
        deleted.extend(gone);
        Ok(ChangeSet {
            jobs,
            candidates,
            applications,
            deleted_application_ids: deleted,
            out_of_scope_application_ids: out_of_scope,
            ..ChangeSet::default()
        })
    }

    /// Tags: the candidate's own kept, ours replaced (PUT replaces the list).
    async fn set_band_tag(
        &self,
        id: &str,
        tag: &str,
        others: &[String],
    ) -> Result<(), VendorError> {
        let c = self
            .detail(id)
            .await?
            .ok_or_else(|| VendorError::Rejected {
                status: 404,
                message: format!("candidate {id} not found in Workable"),
            })?;
        let Some(tags) = mapping::band_tags(&c.tags, tag, others) else {
            debug!("band tag already set");
            return Ok(());
        };
        let url = self.url(&["candidates", id, "tags"], &[])?;
        let body = json!({ "tags": tags });
        self.http
            .send(|| self.http.client().put(url.clone()).json(&body))
            .await
            .map_err(hint)?;
        Ok(())
    }

    async fn set_custom_attribute(
        &self,
        id: &str,
        key: &str,
        score: u8,
    ) -> Result<(), VendorError> {
        let url = self.url(&["candidates", id, "update_custom_attribute_value"], &[])?;
        let body = json!({ "custom_attribute_key": key, "value": score });
        match self
            .http
            .send(|| self.http.client().patch(url.clone()).json(&body))
            .await
        {
            Ok(_) => Ok(()),
            // Workable answers 404 for a key the account has not defined.
            Err(VendorError::Rejected {
                status: 404,
                message,
            }) => Err(VendorError::Rejected {
                status: 404,
                message: format!(
                    "{message}; the custom attribute {key:?} must exist in Workable \
                     (Settings > Custom attributes, candidate attribute of type number or text)"
                ),
            }),
            Err(e) => Err(hint(e)),
        }
    }

    async fn post_comment(&self, req: &WriteBackRequest, id: &str) -> Result<(), VendorError> {
        let member = self.member_id.as_deref().ok_or_else(|| {
            VendorError::Config(
                "spec.auth.sub must name the Workable member (member id from GET /members) \
                 that comments are posted as"
                    .into(),
            )
        })?;
        let url = self.url(&["candidates", id, "comments"], &[])?;
        let body = json!({ "member_id": member, "comment": { "body": req.note_body() } });
        notes::create_once(self, &self.http, req, &url, &body, "comment", hint).await
    }
}

/// Fetched candidates as a change set's parts: candidates, applications,
/// and the ids of those gone.
fn split(fetched: Vec<Fetched>) -> (Vec<Candidate>, Vec<Application>, Vec<String>) {
    let mut candidates = Vec::with_capacity(fetched.len());
    let mut applications = Vec::with_capacity(fetched.len());
    let mut gone = Vec::new();
    for f in fetched {
        match f {
            Fetched::Found(b) => {
                let (c, a) = *b;
                candidates.push(c);
                applications.push(a);
            }
            Fetched::Gone(id) => gone.push(id),
        }
    }
    (candidates, applications, gone)
}

/// Whether `id` can be a Workable candidate id (lowercase hex): anything
/// else names no record of Workable's.
fn workable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

fn candidate_id(req: &WriteBackRequest) -> Result<&str, VendorError> {
    let id = req.application.id.trim();
    if id.is_empty() {
        return Err(VendorError::Config("application id is empty".into()));
    }
    Ok(id)
}

#[async_trait]
impl AtsClient for WorkableClient {
    /// Jobs (by shortcode) in scope, and the candidates of those jobs changed
    /// since `since`, each with its full record. Requests: jobs pages
    /// (`ceil(J/100)`), candidate pages (`ceil(N/100)`), one detail per
    /// candidate in scope (`N`), plus a CV download for those whose detail has
    /// no parsed profile (none for what `known` says is unchanged). Workable
    /// lists no deletions: a candidate gone between list and detail, or
    /// anonymised (GDPR erasure), is reported deleted; the rest is found by
    /// full syncs. In batches of [`batches::BATCH`] candidates in id order: a
    /// long pull (one detail request per candidate, at 10 requests per 10 s)
    /// is checkpointed per batch and resumes after the last candidate id done.
    fn pull_batches<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
        scope: &'a PullScope,
        resume_after: Option<String>,
        known: &'a dyn Known,
    ) -> crate::vendors::Batches<'a> {
        let plan = async move {
            let mut plan = self.plan(since, scope, known).await?;
            if let Some(after) = &resume_after {
                plan.wanted.retain(|c| c.id.as_str() > after.as_str());
            }
            Ok(plan)
        };
        batches::stream(
            plan,
            |p: &PullPlan| batches::bounds(&p.wanted, batches::BATCH, |c| c.id.clone()),
            |p, out| {
                out.deleted_application_ids.extend(p.anonymized.clone());
                out.unchanged_application_ids = p.unchanged.clone();
            },
            move |p: std::sync::Arc<PullPlan>, r| {
                Box::pin(async move { self.batch(&p, &p.wanted[r]).await })
            },
        )
    }

    /// `GET /candidates/{id}` each, then their jobs (`GET /jobs/{shortcode}`),
    /// and the CVs of those in scope as a pull reads them.
    async fn pull_applications(
        &self,
        ids: &[String],
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let span = info_span!("workable_pull_applications", applications = ids.len());
        batches::by_id(ids, |chunk| self.pull_by_id(chunk, scope))
            .instrument(span)
            .await
    }

    /// The custom attribute and the band tag first (idempotent), the comment
    /// last: a comment that exists then proves the whole write landed.
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        let span = info_span!("workable_write_back", application = %req.application.id);
        async move {
            let id = candidate_id(req)?;
            if req.note && self.member_id.is_none() {
                // Fail before writing anything.
                return Err(VendorError::Config(
                    "spec.auth.sub must name the Workable member (member id from GET /members) \
                     that comments are posted as"
                        .into(),
                ));
            }
            if let Some(key) = &req.custom_field {
                self.set_custom_attribute(id, key, req.score.score).await?;
            }
            if let Some(b) = &req.band_tag {
                self.set_band_tag(id, &b.tag, &b.others).await?;
            }
            if req.note {
                self.post_comment(req, id).await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn operator_notes(&self, application: &Application) -> Result<Vec<String>, VendorError> {
        let span = info_span!("workable_operator_notes", application = %application.id);
        async move {
            let id = application.id.as_str();
            let url = self.url(&["candidates", id, "activities"], &[("limit", PAGE_SIZE)])?;
            let activities: Vec<Value> = match self.list(url, "activities").await {
                Ok(a) => a,
                // No candidate, no comment.
                Err(VendorError::Rejected { status: 404, .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            Ok(notes::operator_bodies(
                activities.iter().filter_map(|a| a["body"].as_str()),
            ))
        }
        .instrument(span)
        .await
    }

    async fn register_webhooks_known(
        &self,
        url: &str,
        known: &[crate::vendors::webhooks::WebhookRegistration],
    ) -> Result<Vec<crate::vendors::webhooks::WebhookRegistration>, VendorError> {
        self.register(url, known).await
    }

    async fn unregister_webhooks(&self, ids: &[String]) -> Result<(), VendorError> {
        self.unsubscribe(ids).await
    }

    async fn list_webhooks(
        &self,
    ) -> Result<Vec<crate::vendors::webhooks::WebhookRegistration>, VendorError> {
        self.subscriptions().await
    }

    async fn verify(&self) -> Result<(), VendorError> {
        let span = info_span!("workable_verify");
        async move {
            // Needs the token and its r_jobs scope, which every sync needs too.
            let url = self.url(&["jobs"], &[("limit", "1")])?;
            self.http.probe(&url).await.map_err(hint)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::SecretValue;
    use std::collections::BTreeMap;

    fn cfg(base: Option<&str>, subdomain: Option<&str>) -> ConnectionConfig {
        ConnectionConfig {
            vendor: crate::model::VendorKind::Workable,
            base_url: base.map(str::to_string),
            token_url: None,
            subdomain: subdomain.map(str::to_string),
            credentials: BTreeMap::from([("apiKey".to_string(), SecretValue::new("tok-123"))]),
            sub: Some("1f395d".into()),
            rate_limit: None,
            endpoints: crate::vendors::guard::EndpointPolicy::AllowPrivate,
            download_hosts: Vec::new(),
        }
    }

    #[test]
    fn api_root_from_subdomain_or_base_url() {
        let root = |b, s| api_root(&cfg(b, s)).map(|u| u.to_string());
        assert_eq!(
            root(None, Some("nangodev")).unwrap(),
            "https://nangodev.workable.com/spi/v3"
        );
        assert_eq!(
            root(None, Some("NangoDev.workable.com")).unwrap(),
            "https://nangodev.workable.com/spi/v3"
        );
        for b in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/spi/v3",
            "http://127.0.0.1:8080/spi/v3/",
        ] {
            assert_eq!(
                root(Some(b), Some("ignored")).unwrap(),
                "http://127.0.0.1:8080/spi/v3"
            );
        }
        match api_root(&cfg(None, None)) {
            Err(VendorError::Config(m)) => assert!(m.contains("spec.subdomain"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            api_root(&cfg(None, Some("evil.com/x"))),
            Err(VendorError::Config(_))
        ));
    }

    #[test]
    fn urls_escape_ids() {
        let c = WorkableClient::new(&cfg(None, Some("acme"))).unwrap();
        let u = c
            .url(&["candidates", "ab/../x", "tags"], &[("limit", "100")])
            .unwrap();
        assert_eq!(
            u.as_str(),
            "https://acme.workable.com/spi/v3/candidates/ab%2F..%2Fx/tags?limit=100"
        );
        let u = c
            .url(&["jobs"], &[("include_fields", "description,requirements")])
            .unwrap();
        assert_eq!(u.path(), "/spi/v3/jobs");
    }

    #[test]
    fn missing_token_is_a_config_error() {
        let mut c = cfg(None, Some("acme"));
        c.credentials.clear();
        assert!(matches!(
            WorkableClient::new(&c),
            Err(VendorError::Config(_))
        ));
    }

    #[test]
    fn watermark_format() {
        let t = DateTime::parse_from_rfc3339("2026-07-23T18:58:15Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2026-07-23T18:58:15Z");
        assert_eq!(
            ts(t + chrono::Duration::milliseconds(1)),
            "2026-07-23T18:58:15.001Z"
        );
    }
}
