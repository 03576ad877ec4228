//! The Lever API v1 client: an API key (Basic) or OAuth with rotating refresh
//! tokens, `{data, next, hasNext}` paging, incremental pulls by `updatedAt`,
//! deletions, and score write-back as a note and a band tag. Transport
//! concerns (tokens, rate limits, retries) live in [`crate::vendors::http`].

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::{Instrument, debug, info_span, warn};
use url::Url;

use super::mapping::{
    self, LvArchiveReason, LvDeleted, LvNote, LvOpportunity, LvPage, LvPosting, LvResume,
};
use crate::model::{Application, Candidate, ChangeSet, Readability};
use crate::vendors::http::{
    Auth, RateLimiter, RefreshTokenAuth, RetryPolicy, StaticAuth, Transport, VendorHttp, api_url,
    decode,
};
use crate::vendors::{
    AtsClient, BandTag, ConnectionConfig, CredentialStore, Known, PullScope, VendorError,
    WriteBackRequest, batches, given, notes, resume_file,
};

pub const DEFAULT_BASE_URL: &str = "https://api.lever.co";
pub const DEFAULT_TOKEN_URL: &str = "https://auth.lever.co/oauth/token";
/// Lever's page size ceiling.
const LIMIT: &str = "100";
/// Lever's token bucket: 10 requests per second steady, bursts of 20.
const BUCKET: (f64, u32) = (10.0, 20);
/// Per-opportunity resume requests in flight; the limiter paces them.
const RESUMES_IN_FLIGHT: usize = 6;
/// Up to this many postings in scope, opportunities are filtered server-side.
const POSTING_FILTER_MAX: usize = 20;
const MAX_PAGES: usize = 100_000;

const FORBIDDEN_HINT: &str = "the API key needs access to postings, opportunities, resumes, notes, \
tags, archive reasons and users; with OAuth, the app needs the scopes postings:read:admin, \
opportunities:read:admin, opportunities:write:admin, resumes:read:admin, notes:read:admin, \
notes:write:admin, archive_reasons:read:admin, users:read:admin and offline_access";

pub struct LeverClient {
    pub(super) http: VendorHttp,
    /// The API root, `<baseUrl>/v1`.
    base: Url,
    /// The acting user for writes (`perform_as`).
    perform_as: Option<String>,
    /// The archive reasons, for webhook outcomes, and when they were read.
    reasons: std::sync::Mutex<Option<(std::time::Instant, Reasons)>>,
}

type Reasons = HashMap<String, crate::webhooks::parse::ReasonInfo>;

/// How long the archive reasons read for webhook outcomes are reused (an
/// account's reasons rarely change; a burst of archive events costs one read).
const REASONS_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// A contact in a pull: the opportunity whose data stands for them, and
/// their newest resume.
struct Contact<'a> {
    opportunity: &'a LvOpportunity,
    resume: Option<&'a LvResume>,
    updated_at: Option<i64>,
}

impl LeverClient {
    pub fn new(
        cfg: &ConnectionConfig,
        store: Arc<dyn CredentialStore>,
    ) -> Result<Self, VendorError> {
        Self::with_policy(cfg, store, RetryPolicy::default())
    }

    /// As [`new`](Self::new) with other retry settings (tests use short backoffs).
    pub fn with_policy(
        cfg: &ConnectionConfig,
        store: Arc<dyn CredentialStore>,
        policy: RetryPolicy,
    ) -> Result<Self, VendorError> {
        let root = given(cfg.base_url.as_deref())
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .to_string();
        let base = Url::parse(&format!("{root}/v1"))
            .map_err(|e| VendorError::Config(format!("spec.baseUrl: {e}")))?;
        if base.cannot_be_a_base() {
            return Err(VendorError::Config(
                "spec.baseUrl must be an http(s) URL".into(),
            ));
        }
        let transport = Transport::guarded(policy, cfg.endpoints, cfg.download_policy())?
            .for_vendor(cfg.vendor);
        let present = |k: &str| {
            cfg.credentials
                .get(k)
                .is_some_and(|v| !v.expose().trim().is_empty())
        };
        // As the credential spec: an API key wins when both are present.
        let auth: Box<dyn Auth> = if present("apiKey") {
            Box::new(StaticAuth::basic(cfg.credential("apiKey")?, None)?)
        } else if present("clientId") && present("clientSecret") && present("refreshToken") {
            let token_url = given(cfg.token_url.as_deref()).unwrap_or(DEFAULT_TOKEN_URL);
            Box::new(RefreshTokenAuth::new(
                transport.clone(),
                token_url,
                cfg.credential("clientId")?.clone(),
                cfg.credential("clientSecret")?.clone(),
                &cfg.credentials,
                store,
            )?)
        } else {
            return Err(VendorError::Config(
                "Lever needs apiKey, or clientId, clientSecret and refreshToken".into(),
            ));
        };
        Ok(LeverClient {
            http: VendorHttp::new(
                transport,
                RateLimiter::new(cfg.rate_limit, Some(BUCKET)),
                auth,
            ),
            base,
            perform_as: given(cfg.sub.as_deref()).map(str::to_string),
            reasons: std::sync::Mutex::new(None),
        })
    }

    /// `<base>/v1/<segments...>?<params>`; segments are escaped (ids come from data).
    pub(super) fn url(
        &self,
        segments: &[&str],
        params: &[(&str, String)],
    ) -> Result<Url, VendorError> {
        api_url(&self.base, segments, params)
    }

    /// `?perform_as=<sub>` when the acting user is set.
    fn acting(&self) -> Vec<(&'static str, String)> {
        self.perform_as
            .iter()
            .map(|s| ("perform_as", s.clone()))
            .collect()
    }

    fn hint(e: VendorError) -> VendorError {
        e.with_hint(FORBIDDEN_HINT)
    }

    /// Every page of a list. Lever's `offset` carries only the position, so
    /// each page repeats the filters.
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        filters: &[(&str, String)],
    ) -> Result<Vec<T>, VendorError> {
        let mut out = Vec::new();
        let mut offset: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut params = filters.to_vec();
            params.push(("limit", LIMIT.to_string()));
            if let Some(o) = &offset {
                params.push(("offset", o.clone()));
            }
            let url = self.url(segments, &params)?;
            let page: LvPage<T> = self.http.get_json(&url).await.map_err(Self::hint)?;
            let next = page.next_offset().map(str::to_string);
            out.extend(page.data);
            crate::vendors::http::paging::within_records(url.path(), out.len())?;
            match next {
                None => return Ok(out),
                Some(n) if !seen.insert(n.clone()) => {
                    return Err(VendorError::Decode(format!("{}: paging loops", url.path())));
                }
                Some(n) => offset = Some(n),
            }
        }
        Err(VendorError::Decode(format!(
            "/{}: more than {MAX_PAGES} pages",
            segments.join("/")
        )))
    }

    /// Ids of the archive reasons that mean hired (every account has one).
    /// Without access to them, hired candidates read as rejected.
    async fn hired_reasons(&self) -> Result<HashSet<String>, VendorError> {
        match self
            .list::<LvArchiveReason>(&["archive_reasons"], &[("type", "hired".to_string())])
            .await
        {
            Ok(reasons) => Ok(reasons
                .into_iter()
                .filter(|r| r.kind.as_deref() == Some("hired"))
                .map(|r| r.id)
                .collect()),
            Err(e @ VendorError::Forbidden(_)) => {
                warn!(error = %e, "archive reasons not readable; hired candidates will read as rejected");
                Ok(HashSet::new())
            }
            Err(e) => Err(e),
        }
    }

    /// An opportunity's resumes. One deleted since the listing has none.
    async fn resumes(&self, opportunity: &str) -> Result<Vec<LvResume>, VendorError> {
        match self
            .list::<LvResume>(&["opportunities", opportunity, "resumes"], &[])
            .await
        {
            Err(VendorError::Rejected { status: 404, .. }) => {
                debug!(opportunity, "opportunity gone while pulling");
                Ok(Vec::new())
            }
            other => other,
        }
    }

    /// A resume file's text, whatever its format. A file that is gone or
    /// refused is missing (the candidate is scored on `parsedData`); a flaky
    /// one fails the pull so the next one retries.
    async fn resume_file(
        &self,
        opportunity: &str,
        resume: &str,
    ) -> Result<(Option<String>, Readability), VendorError> {
        let url = self.url(
            &["opportunities", opportunity, "resumes", resume, "download"],
            &[],
        )?;
        let resp = match self.http.send(|| self.http.client().get(url.clone())).await {
            Ok(r) => r,
            Err(e @ (VendorError::Rejected { .. } | VendorError::Forbidden(_))) => {
                warn!(opportunity, error = %e, "resume file not available; using the parsed resume");
                return Ok((None, Readability::Missing));
            }
            Err(e) => return Err(e),
        };
        // Read through the cap as it arrives: an endless body stops there.
        let bytes = match crate::vendors::http::read_capped(
            resp,
            crate::documents::MAX_RESUME_BYTES,
            "resume file",
        )
        .await
        {
            Ok(b) => b,
            Err(VendorError::Decode(_)) => {
                warn!(
                    opportunity,
                    "resume file too large; using the parsed resume"
                );
                return Ok((None, resume_file::too_large()));
            }
            Err(e) => return Err(e),
        };
        Ok(resume_file::read(bytes, opportunity).await)
    }

    async fn candidate(&self, p: Contact<'_>) -> Result<Candidate, VendorError> {
        let (text, readability) = match p.resume {
            Some(r) if r.file.is_some() => self.resume_file(&p.opportunity.id, &r.id).await?,
            _ => (None, Readability::Missing),
        };
        let mut c = mapping::candidate(p.opportunity, p.resume, text);
        c.updated_at = mapping::ms(p.updated_at);
        c.resume.readability = readability;
        Ok(c)
    }

    /// Adds the band tag, then removes the operator's other band tags that
    /// the opportunity carries, so exactly one band shows.
    async fn set_band_tag(&self, id: &str, band: &BandTag) -> Result<(), VendorError> {
        let url = self.url(&["opportunities", id, "addTags"], &self.acting())?;
        let body = json!({ "tags": [band.tag] });
        // Tags are a set: resending is harmless, so the request is idempotent.
        let resp = self
            .http
            .send(|| self.http.client().post(url.clone()).json(&body))
            .await
            .map_err(Self::hint)?;
        // The answer is the opportunity: remove only what is there.
        let current: Option<Vec<String>> = decode::<Value>(resp).await.ok().and_then(|v| {
            v["data"]["tags"].as_array().map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
        });
        let stale: Vec<&String> = band
            .others
            .iter()
            .filter(|o| current.as_ref().is_none_or(|c| c.contains(o)))
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        let url = self.url(&["opportunities", id, "removeTags"], &self.acting())?;
        let body = json!({ "tags": stale });
        self.http
            .send(|| self.http.client().post(url.clone()).json(&body))
            .await
            .map_err(Self::hint)?;
        Ok(())
    }

    async fn post_note(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        let url = self.url(
            &["opportunities", &req.application.id, "notes"],
            &self.acting(),
        )?;
        let body = json!({
            "value": req.note_body(),
            "secret": false,
            "notifyFollowers": false,
        });
        notes::create_once(self, &self.http, req, &url, &body, "note", Self::hint).await
    }
}

/// Groups opportunities by contact: the newest resume across a contact's
/// opportunities, with the opportunity it came from.
fn contacts<'a>(kept: &[&'a LvOpportunity], resumes: &'a [Vec<LvResume>]) -> Vec<Contact<'a>> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_contact: HashMap<&str, Contact<'a>> = HashMap::new();
    for (o, rs) in kept.iter().zip(resumes) {
        let resume = mapping::newest(rs);
        let key = o.contact_id();
        match by_contact.get_mut(key) {
            None => {
                order.push(key);
                by_contact.insert(
                    key,
                    Contact {
                        opportunity: o,
                        resume,
                        updated_at: o.updated_at,
                    },
                );
            }
            Some(p) => {
                p.updated_at = p.updated_at.max(o.updated_at);
                let newer = match (p.resume, resume) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(a), Some(b)) => b.recency() > a.recency(),
                };
                if newer {
                    p.opportunity = o;
                    p.resume = resume;
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| by_contact.remove(k))
        .collect()
}

/// Opportunities ordered by contact, then id: a batch holds all of a
/// contact's opportunities.
fn by_contact(a: &LvOpportunity, b: &LvOpportunity) -> std::cmp::Ordering {
    (a.contact_id(), a.id.as_str()).cmp(&(b.contact_id(), b.id.as_str()))
}

/// Whether `id` can be a Lever id (a UUID). Anything else names no record of
/// Lever's, and must not become another path (`/opportunities/deleted`).
fn lever_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// One object: `{"data": {...}}`.
#[derive(serde::Deserialize)]
struct LvOne<T> {
    data: T,
}

/// What a pull will fetch: the listings, read in full, and the changed
/// opportunities whose resumes are still to be fetched.
#[derive(Default)]
struct LvPlan {
    jobs: Vec<crate::model::Job>,
    hired: HashSet<String>,
    /// Ordered by contact (then id): a batch holds all of a contact's
    /// opportunities, whose resumes make one candidate.
    kept: Vec<LvOpportunity>,
    unchanged_application_ids: Vec<String>,
    deleted_application_ids: Vec<String>,
    high_watermark: Option<DateTime<Utc>>,
}

impl LeverClient {
    /// The listings of a pull; `known` spares the resume requests of
    /// opportunities that did not change since processed.
    async fn plan(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
        known: &dyn Known,
    ) -> Result<LvPlan, VendorError> {
        let since_ms = since.map(|t| t.timestamp_millis().to_string());
        let include = [("include", "content".to_string())];
        let (postings, hired) = futures::try_join!(
            self.list::<LvPosting>(&["postings"], &include),
            self.hired_reasons(),
        )?;
        let jobs: Vec<_> = postings
            .iter()
            .map(mapping::job)
            .filter(|j| scope.includes_job(j))
            .collect();
        let in_scope: HashSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();

        // Deletions carry no posting: all of them are reported.
        let mut deleted_application_ids: Vec<String> = match &since_ms {
            Some(ms) => self
                .list::<LvDeleted>(
                    &["opportunities", "deleted"],
                    &[("deleted_at_start", ms.clone())],
                )
                .await?
                .into_iter()
                .map(|d| d.id)
                .collect(),
            None => Vec::new(),
        };
        if in_scope.is_empty() {
            debug!("no posting in scope");
            return Ok(LvPlan {
                jobs,
                deleted_application_ids,
                ..LvPlan::default()
            });
        }

        let mut filters: Vec<(&str, String)> = vec![
            ("expand", "applications".to_string()),
            ("expand", "stage".to_string()),
        ];
        if let Some(ms) = &since_ms {
            // Opportunities with `updatedAt: null` never match; full syncs find them.
            filters.push(("updated_at_start", ms.clone()));
        }
        if in_scope.len() <= POSTING_FILTER_MAX && in_scope.len() < postings.len() {
            let mut ids: Vec<&str> = in_scope.iter().copied().collect();
            ids.sort_unstable();
            filters.extend(ids.into_iter().map(|p| ("posting_id", p.to_string())));
        }
        let opportunities: Vec<LvOpportunity> = self.list(&["opportunities"], &filters).await?;
        let high_watermark = mapping::ms(opportunities.iter().filter_map(|o| o.updated_at).max());

        let job_of: HashMap<&str, &crate::model::Job> =
            jobs.iter().map(|j| (j.id.as_str(), j)).collect();
        let mut unchanged_application_ids = Vec::new();
        let mut kept: Vec<LvOpportunity> = Vec::new();
        for o in opportunities {
            let Some(job) = o.posting_id().and_then(|p| job_of.get(p)) else {
                continue;
            };
            if o.is_anonymized == Some(true) {
                // Data protection erased the person: forget it as the ATS did.
                deleted_application_ids.push(o.id);
            } else if known.unchanged(&o.id, job, mapping::ms(o.updated_at)) {
                unchanged_application_ids.push(o.id);
            } else {
                kept.push(o);
            }
        }
        kept.sort_by(by_contact);
        Ok(LvPlan {
            jobs,
            hired,
            kept,
            unchanged_application_ids,
            deleted_application_ids,
            high_watermark,
        })
    }

    /// One object; `None` when Lever answers 404.
    async fn one<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        params: &[(&str, String)],
    ) -> Result<Option<T>, VendorError> {
        let url = self.url(segments, params)?;
        match self.http.get_json::<LvOne<T>>(&url).await {
            Ok(o) => Ok(Some(o.data)),
            Err(VendorError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(Self::hint(e)),
        }
    }

    /// One chunk of a pull by id: each opportunity (`GET /opportunities/{id}`),
    /// the postings of those with one, and the resumes of those in scope,
    /// mapped as a batch of a pull maps them.
    async fn pull_by_id(
        &self,
        ids: Vec<String>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let expand = [
            ("expand", "applications".to_string()),
            ("expand", "stage".to_string()),
        ];
        let fetches: Vec<_> = ids
            .iter()
            .map(|id| async {
                match lever_id(id) {
                    true => {
                        self.one::<LvOpportunity>(&["opportunities", id], &expand)
                            .await
                    }
                    false => Ok(None),
                }
            })
            .collect();
        let found: Vec<Option<LvOpportunity>> = futures::stream::iter(fetches)
            .buffered(RESUMES_IN_FLIGHT)
            .try_collect()
            .await?;
        let (mut deleted, mut out_of_scope, mut opportunities) =
            (Vec::new(), Vec::new(), Vec::new());
        for (id, o) in ids.iter().zip(found) {
            match o {
                None => deleted.push(id.clone()),
                // Data protection erased the person: forget it as the ATS did.
                Some(o) if o.is_anonymized == Some(true) => deleted.push(id.clone()),
                // A lead: no posting to score against.
                Some(o) if o.posting_id().is_none() => out_of_scope.push(id.clone()),
                Some(o) => opportunities.push(o),
            }
        }
        let posting_ids: BTreeSet<&str> = opportunities
            .iter()
            .filter_map(LvOpportunity::posting_id)
            .collect();
        let fetches: Vec<_> = posting_ids
            .iter()
            .map(|p| async move { self.one::<LvPosting>(&["postings", p], &[]).await })
            .collect();
        let postings: Vec<Option<LvPosting>> = futures::stream::iter(fetches)
            .buffered(RESUMES_IN_FLIGHT)
            .try_collect()
            .await?;
        let jobs: Vec<_> = postings
            .iter()
            .flatten()
            .map(mapping::job)
            .filter(|j| scope.includes_job(j))
            .collect();
        let (mut kept, outside): (Vec<_>, Vec<_>) = opportunities.into_iter().partition(|o| {
            o.posting_id()
                .is_some_and(|p| jobs.iter().any(|j| j.id == p))
        });
        out_of_scope.extend(outside.into_iter().map(|o| o.id));
        // Archive reasons tell hired from rejected: needed for archived ones only.
        let hired = match kept.iter().any(LvOpportunity::is_archived) {
            true => self.hired_reasons().await?,
            false => HashSet::new(),
        };
        kept.sort_by(by_contact);
        let plan = LvPlan {
            jobs,
            hired,
            kept,
            ..LvPlan::default()
        };
        let mut out = self.batch(&plan, &plan.kept).await?;
        out.deleted_application_ids = deleted;
        out.out_of_scope_application_ids = out_of_scope;
        Ok(out)
    }

    /// One batch: its opportunities' resumes, merged per contact.
    async fn batch(&self, plan: &LvPlan, kept: &[LvOpportunity]) -> Result<ChangeSet, VendorError> {
        let kept: Vec<&LvOpportunity> = kept.iter().collect();
        let applications: Vec<_> = kept
            .iter()
            .filter_map(|o| mapping::application(o, &plan.hired))
            .collect();
        // Futures built up front: closures over borrowed items trip the
        // Send check of `async_trait` futures.
        let fetches: Vec<_> = kept.iter().map(|o| self.resumes(&o.id)).collect();
        let resumes: Vec<Vec<LvResume>> = futures::stream::iter(fetches)
            .buffered(RESUMES_IN_FLIGHT)
            .try_collect()
            .await?;
        let mapped: Vec<_> = contacts(&kept, &resumes)
            .into_iter()
            .map(|p| self.candidate(p))
            .collect();
        let candidates = futures::stream::iter(mapped)
            .buffer_unordered(RESUMES_IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await?;
        debug!(
            applications = applications.len(),
            candidates = candidates.len(),
            "lever batch mapped"
        );
        Ok(ChangeSet {
            jobs: plan.jobs.clone(),
            candidates,
            applications,
            deleted_application_ids: Vec::new(),
            high_watermark: plan.high_watermark,
            unchanged_application_ids: Vec::new(),
            out_of_scope_application_ids: Vec::new(),
            resume_after: kept.last().map(|o| o.contact_id().to_string()),
        })
    }
}

#[async_trait]
impl AtsClient for LeverClient {
    async fn rejection_reasons(
        &self,
    ) -> Result<Option<HashMap<String, crate::webhooks::parse::ReasonInfo>>, VendorError> {
        let cached = |g: &Option<(std::time::Instant, Reasons)>| {
            g.as_ref()
                .filter(|(at, _)| at.elapsed() < REASONS_TTL)
                .map(|(_, r)| r.clone())
        };
        if let Some(r) = self.reasons.lock().ok().and_then(|g| cached(&g)) {
            return Ok(Some(r));
        }
        let reasons: Reasons = self
            .list::<LvArchiveReason>(&["archive_reasons"], &[])
            .await?
            .into_iter()
            .map(|r| {
                let info = crate::webhooks::parse::ReasonInfo {
                    text: r.text,
                    kind: r.kind,
                };
                (r.id, info)
            })
            .collect();
        if let Ok(mut g) = self.reasons.lock() {
            *g = Some((std::time::Instant::now(), reasons.clone()));
        }
        Ok(Some(reasons))
    }

    async fn demographics(
        &self,
        application_ids: &[String],
    ) -> Result<Option<HashMap<String, crate::audit::Demographics>>, VendorError> {
        self.eeo(application_ids).await.map(Some)
    }

    /// Batches of about [`crate::vendors::batches::BATCH`] opportunities, by contact: the listings
    /// once, then each batch's resumes. Resumes after the last contact of a
    /// finished batch.
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
                plan.kept.retain(|o| o.contact_id() > after.as_str());
            }
            Ok(plan)
        };
        batches::stream(
            plan,
            |p: &LvPlan| batches::bounds(&p.kept, batches::BATCH, |o| o.contact_id().to_string()),
            |p, out| {
                out.unchanged_application_ids = p.unchanged_application_ids.clone();
                out.deleted_application_ids = p.deleted_application_ids.clone();
            },
            move |p: std::sync::Arc<LvPlan>, r| {
                Box::pin(async move { self.batch(&p, &p.kept[r]).await })
            },
        )
    }

    /// `GET /opportunities/{id}` each, then their postings, and the resumes
    /// of those in scope as a pull reads them.
    async fn pull_applications(
        &self,
        ids: &[String],
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let span = info_span!("lever_pull_applications", applications = ids.len());
        batches::by_id(ids, |chunk| self.pull_by_id(chunk, scope))
            .instrument(span)
            .await
    }

    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        let span = info_span!("lever_write_back", application = %req.application.id);
        async move {
            if req.custom_field.is_some() {
                debug!("Lever has no custom fields on opportunities; skipped");
            }
            // The tag first (idempotent): a note that exists then proves the
            // whole write landed (see `note_exists`).
            if let Some(band) = &req.band_tag {
                self.set_band_tag(&req.application.id, band).await?;
            }
            if req.note {
                self.post_note(req).await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn operator_notes(&self, application: &Application) -> Result<Vec<String>, VendorError> {
        let span = info_span!("lever_operator_notes", application = %application.id);
        async move {
            let notes: Vec<LvNote> = self
                .list(&["opportunities", &application.id, "notes"], &[])
                .await?;
            Ok(notes.iter().filter_map(LvNote::operator_body).collect())
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
        self.delete_webhooks(ids).await
    }

    async fn list_webhooks(
        &self,
    ) -> Result<Vec<crate::vendors::webhooks::WebhookRegistration>, VendorError> {
        self.webhooks().await
    }

    async fn verify(&self) -> Result<(), VendorError> {
        let span = info_span!("lever_verify");
        async move {
            self.http.authenticate().await?;
            let url = self.url(&["users"], &[("limit", "1".to_string())])?;
            self.http.probe(&url).await.map_err(Self::hint)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::{MemoryStore, SecretValue};
    use std::collections::BTreeMap;

    fn cfg(base: Option<&str>, creds: &[(&str, &str)]) -> ConnectionConfig {
        ConnectionConfig {
            vendor: crate::model::VendorKind::Lever,
            base_url: base.map(str::to_string),
            token_url: None,
            subdomain: None,
            credentials: creds
                .iter()
                .map(|(k, v)| (k.to_string(), SecretValue::new(*v)))
                .collect(),
            sub: Some("user-1".into()),
            rate_limit: None,
            endpoints: crate::vendors::guard::EndpointPolicy::AllowPrivate,
            download_hosts: Vec::new(),
        }
    }

    fn client(c: &ConnectionConfig) -> Result<LeverClient, VendorError> {
        LeverClient::new(c, Arc::new(MemoryStore::new(BTreeMap::new())))
    }

    #[test]
    fn base_url_and_paths() {
        for base in [
            None,
            Some("https://api.lever.co"),
            Some("https://api.lever.co/"),
            Some("https://api.lever.co/v1/"),
        ] {
            let c = client(&cfg(base, &[("apiKey", "k")])).unwrap();
            assert_eq!(
                c.url(&["postings"], &[("include", "content".into())])
                    .unwrap()
                    .as_str(),
                "https://api.lever.co/v1/postings?include=content"
            );
        }
        let c = client(&cfg(Some("http://127.0.0.1:8080"), &[("apiKey", "k")])).unwrap();
        let u = c
            .url(&["opportunities", "a/b c", "notes"], &c.acting())
            .unwrap();
        assert_eq!(u.path(), "/v1/opportunities/a%2Fb%20c/notes");
        assert_eq!(u.query(), Some("perform_as=user-1"));
    }

    #[test]
    fn credentials_choose_the_auth() {
        assert!(client(&cfg(None, &[("apiKey", "k")])).is_ok());
        assert!(
            client(&cfg(
                None,
                &[
                    ("clientId", "id"),
                    ("clientSecret", "s"),
                    ("refreshToken", "r")
                ]
            ))
            .is_ok()
        );
        for partial in [
            &[("clientId", "id"), ("clientSecret", "s")][..],
            &[("apiKey", " ")][..],
            &[][..],
        ] {
            assert!(matches!(
                client(&cfg(None, partial)),
                Err(VendorError::Config(_))
            ));
        }
    }
}
