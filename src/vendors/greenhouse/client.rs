//! The Greenhouse Harvest v3 client: OAuth client credentials, cursor paging,
//! incremental pulls and score write-back. Transport concerns (tokens, rate
//! limits, retries) live in [`crate::vendors::http`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::{Instrument, debug, info_span, warn};
use url::Url;

use super::mapping::{self, GhApplication, GhAttachment, GhCandidate, GhJob, GhJobPost};
use crate::model::{Application, Candidate, ChangeSet, Readability};
use crate::vendors::http::{ClientCredentials, RateLimiter, RetryPolicy, Transport, VendorHttp};
use crate::vendors::{
    AtsClient, ConnectionConfig, Known, PullScope, VendorError, WriteBackRequest, batches, given,
    notes, resume_file,
};

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
    /// Scheme, host and port; paths are `/v3/...`.
    base: String,
    /// The acting user, named as a note's author.
    user_id: Option<i64>,
}

impl GreenhouseClient {
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, VendorError> {
        Self::with_policy(cfg, RetryPolicy::default())
    }

    /// As [`new`](Self::new) with other retry settings (tests use short backoffs).
    pub fn with_policy(cfg: &ConnectionConfig, policy: RetryPolicy) -> Result<Self, VendorError> {
        let base = given(cfg.base_url.as_deref())
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .trim_end_matches("/v3")
            .to_string();
        Url::parse(&base).map_err(|e| VendorError::Config(format!("spec.baseUrl: {e}")))?;
        let token_url = given(cfg.token_url.as_deref()).unwrap_or(DEFAULT_TOKEN_URL);
        let sub = given(cfg.sub.as_deref());
        let extra = sub
            .map(|s| vec![("sub".to_string(), s.to_string())])
            .unwrap_or_default();
        let transport = Transport::guarded(policy, cfg.endpoints, cfg.download_policy())?
            .for_vendor(cfg.vendor);
        let auth = ClientCredentials::new(
            transport.clone(),
            token_url,
            cfg.credential("clientId")?.clone(),
            cfg.credential("clientSecret")?.clone(),
            extra,
        )?;
        Ok(GreenhouseClient {
            http: VendorHttp::new(
                transport,
                RateLimiter::new(cfg.rate_limit, None),
                Box::new(auth),
            ),
            base,
            user_id: sub.and_then(|s| s.parse().ok()),
        })
    }

    fn url(&self, path: &str, params: &[(&str, String)]) -> Result<Url, VendorError> {
        Url::parse_with_params(&format!("{}/v3/{path}", self.base), params)
            .map_err(|e| VendorError::Config(format!("spec.baseUrl: {e}")))
    }

    fn hint(e: VendorError) -> VendorError {
        e.with_hint(FORBIDDEN_HINT)
    }

    /// Every page of a list: filters and `per_page` on the first request, then
    /// `Link rel="next"` URLs exactly as given (the cursor must be their only parameter).
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        filters: &[(&str, String)],
    ) -> Result<Vec<T>, VendorError> {
        let mut params: Vec<(&str, String)> = filters.to_vec();
        params.push(("per_page", PER_PAGE.to_string()));
        let url = self.url(path, &params)?;
        self.http.get_link_paged(url).await.map_err(Self::hint)
    }

    /// `list` with an id-list filter, in batches of 50.
    pub(super) async fn list_by_ids<T: DeserializeOwned>(
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

    /// Maps a candidate with its resume, downloaded from the attachment URL.
    async fn with_resume(
        &self,
        c: GhCandidate,
        url: Option<String>,
    ) -> Result<Candidate, VendorError> {
        let (text, readability) = match &url {
            Some(u) => self.download(u, c.id).await?,
            None => (None, Readability::Missing),
        };
        let mut candidate = mapping::candidate(&c, url, text);
        candidate.resume.readability = readability;
        Ok(candidate)
    }

    /// A resume's text, read from whatever format the file is in. A file
    /// that is gone or refused is missing (the application is still scored,
    /// and re-scored when the resume changes); a flaky one fails the pull so
    /// the next one retries.
    async fn download(
        &self,
        url: &str,
        candidate: i64,
    ) -> Result<(Option<String>, Readability), VendorError> {
        match self.http.download(url).await {
            Ok(bytes) => Ok(resume_file::read(bytes, &candidate.to_string()).await),
            Err(e @ (VendorError::Rejected { .. } | VendorError::Forbidden(_))) => {
                warn!(candidate, error = %e, "resume attachment not available; scoring without it");
                Ok((None, Readability::Missing))
            }
            Err(e) => Err(e),
        }
    }

    /// Department names for jobs that carry only a `department_id`.
    async fn department_names(&self, jobs: &[GhJob]) -> Result<HashMap<i64, String>, VendorError> {
        if jobs
            .iter()
            .all(|j| j.department_name.is_some() || j.department_id.is_none())
        {
            return Ok(HashMap::new());
        }
        let deps: Vec<Value> = self.list("departments", &[]).await?;
        Ok(deps
            .iter()
            .filter_map(|d| Some((d["id"].as_i64()?, d["name"].as_str()?.to_string())))
            .collect())
    }

    async fn post_note(
        &self,
        req: &WriteBackRequest,
        app_id: i64,
        candidate_id: i64,
    ) -> Result<(), VendorError> {
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
        notes::create_once(self, &self.http, req, &url, &body, "note", Self::hint).await
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn numeric(what: &str, id: &str) -> Result<i64, VendorError> {
    id.trim()
        .parse()
        .map_err(|_| VendorError::Decode(format!("{what} id {id:?} is not numeric")))
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

/// The post whose text describes a job: live and external first.
fn posts_by_job(posts: &[GhJobPost]) -> HashMap<i64, &GhJobPost> {
    let mut post_of: HashMap<i64, &GhJobPost> = HashMap::new();
    for p in posts {
        let Some(jid) = p.job_id else { continue };
        let rank = |p: &GhJobPost| (p.live.unwrap_or(false), p.external.unwrap_or(false), p.id);
        if post_of.get(&jid).is_none_or(|q| rank(p) > rank(q)) {
            post_of.insert(jid, p);
        }
    }
    post_of
}

/// When candidates and their resumes last changed: an application changes
/// when it, its candidate or its resume does.
struct ChangeTimes {
    candidate: HashMap<i64, DateTime<Utc>>,
    resume: HashMap<i64, DateTime<Utc>>,
}

impl ChangeTimes {
    fn of(cands: &[GhCandidate], atts: &[GhAttachment]) -> Self {
        ChangeTimes {
            candidate: cands
                .iter()
                .filter_map(|c| Some((c.id, c.updated_at?)))
                .collect(),
            resume: latest_resumes(atts)
                .into_iter()
                .filter_map(|(c, a)| Some((c, a.updated_at?)))
                .collect(),
        }
    }

    /// Makes `a.updated_at` the newest of the three; false (and `a` as it
    /// was) when its candidate's time is unknown.
    fn take_in(&self, a: &mut Application) -> bool {
        let Ok(cid) = a.candidate_id.parse::<i64>() else {
            return false;
        };
        let Some(c) = self.candidate.get(&cid) else {
            return false;
        };
        a.updated_at = a
            .updated_at
            .max(Some(*c))
            .max(self.resume.get(&cid).copied());
        true
    }
}

/// An application as listed, mapped as its page arrives: a pull never holds
/// a whole tenant's raw application records.
#[derive(Deserialize)]
#[serde(from = "GhApplication")]
struct Listed {
    id: i64,
    /// The watermark counts every record, prospects too.
    updated_at: Option<DateTime<Utc>>,
    /// `None` for prospects and orphans.
    application: Option<Application>,
}

impl From<GhApplication> for Listed {
    fn from(a: GhApplication) -> Self {
        Listed {
            id: a.id,
            updated_at: a.updated_at,
            application: mapping::application(&a),
        }
    }
}

/// What a pull will fetch: the listings, read in full (they are cheap), and
/// the applications whose candidates' resumes are still to be downloaded.
#[derive(Default)]
struct GhPlan {
    jobs: Vec<crate::model::Job>,
    /// Changed applications, ordered by candidate (then id), so a batch holds
    /// all of a candidate's applications and downloads each resume once.
    applications: Vec<Application>,
    unchanged_application_ids: Vec<String>,
    candidates: HashMap<i64, GhCandidate>,
    resumes: HashMap<i64, String>,
    high_watermark: Option<DateTime<Utc>>,
}

impl GreenhouseClient {
    /// The listings of a pull, mapped; `known` spares the resume downloads of
    /// applications whose record, candidate and resume did not change.
    async fn plan(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
        known: &dyn Known,
    ) -> Result<GhPlan, VendorError> {
        let (gh_jobs, posts) = futures::try_join!(
            self.list::<GhJob>("jobs", &[]),
            self.list::<GhJobPost>("job_posts", &[]),
        )?;
        let jobs = self.jobs_in_scope(&gh_jobs, &posts, scope).await?;
        let in_scope: BTreeSet<i64> = jobs.iter().filter_map(|j| j.id.parse().ok()).collect();
        if in_scope.is_empty() {
            debug!("no job in scope");
            return Ok(GhPlan {
                jobs,
                ..GhPlan::default()
            });
        }

        // A full sync lists everything (fewer requests than batches); an
        // incremental one lists what changed and completes the set below.
        let filters: Vec<(&str, String)> = since
            .map(|t| vec![("updated_at", format!("gte|{}", ts(t)))])
            .unwrap_or_default();
        let app_filters = {
            let mut f = filters.clone();
            // Narrow server-side when the scope is a few of many jobs.
            if in_scope.len() <= ID_BATCH && in_scope.len() < gh_jobs.len() {
                f.push((
                    "job_ids",
                    in_scope
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ));
            }
            f
        };
        let (mut apps, mut cands, mut atts) = futures::try_join!(
            self.list::<Listed>("applications", &app_filters),
            self.list::<GhCandidate>("candidates", &filters),
            self.list::<GhAttachment>("attachments", &filters),
        )?;

        if since.is_some() {
            // A changed candidate or a new resume re-scores the candidate's applications.
            let touched: BTreeSet<i64> = cands
                .iter()
                .map(|c| c.id)
                .chain(
                    atts.iter()
                        .filter(|a| a.is_resume())
                        .filter_map(|a| a.candidate_id),
                )
                .collect();
            if !touched.is_empty() {
                let have: BTreeSet<i64> = apps.iter().map(|a| a.id).collect();
                let more: Vec<Listed> = self
                    .list_by_ids("applications", "candidate_ids", &touched)
                    .await?;
                apps.extend(more.into_iter().filter(|a| !have.contains(&a.id)));
            }
        }

        let listed_watermark = apps.iter().filter_map(|a| a.updated_at).max();
        let all_applications: Vec<_> = apps
            .into_iter()
            .filter_map(|l| l.application)
            .filter(|a| a.job_id.parse().is_ok_and(|j| in_scope.contains(&j)))
            .collect();
        let times = ChangeTimes::of(&cands, &atts);
        let job_of: HashMap<&str, &crate::model::Job> =
            jobs.iter().map(|j| (j.id.as_str(), j)).collect();
        let mut applications: Vec<Application> = Vec::with_capacity(all_applications.len());
        let mut unchanged_application_ids = Vec::new();
        for mut a in all_applications {
            // A candidate not listed here (an incremental pull) is unknown: fetched.
            if times.take_in(&mut a) {
                let job = job_of.get(a.job_id.as_str());
                if job.is_some_and(|j| known.unchanged(&a.id, j, a.updated_at)) {
                    unchanged_application_ids.push(a.id);
                    continue;
                }
            }
            applications.push(a);
        }
        let needed: BTreeSet<i64> = applications
            .iter()
            .filter_map(|a| a.candidate_id.parse().ok())
            .collect();

        // Every returned candidate comes with its resume: fetch candidates and
        // resumes the listings above did not bring.
        let have_cands: BTreeSet<i64> = cands.iter().map(|c| c.id).collect();
        let missing: BTreeSet<i64> = needed.difference(&have_cands).copied().collect();
        let have_resume: BTreeSet<i64> = atts
            .iter()
            .filter(|a| a.is_resume())
            .filter_map(|a| a.candidate_id)
            .collect();
        let no_resume: BTreeSet<i64> = if since.is_some() {
            needed.difference(&have_resume).copied().collect()
        } else {
            // A full listing saw every attachment; only late arrivals are missing.
            missing.difference(&have_resume).copied().collect()
        };
        let (more_cands, more_atts) = futures::try_join!(
            self.list_by_ids::<GhCandidate>("candidates", "ids", &missing),
            self.list_by_ids::<GhAttachment>("attachments", "candidate_ids", &no_resume),
        )?;
        cands.extend(more_cands);
        atts.extend(more_atts);

        let high_watermark = std::iter::once(listed_watermark)
            .chain(cands.iter().map(|c| c.updated_at))
            .chain(atts.iter().map(|a| a.updated_at))
            .flatten()
            .max();

        let resumes: HashMap<i64, String> = latest_resumes(&atts)
            .into_iter()
            .filter_map(|(c, a)| Some((c, a.url.clone()?)))
            .collect();
        let candidates: HashMap<i64, GhCandidate> = cands
            .into_iter()
            .filter(|c| needed.contains(&c.id))
            .map(|c| (c.id, c))
            .collect();
        applications.sort_by(|a, b| {
            (candidate_key(a), a.id.as_str()).cmp(&(candidate_key(b), b.id.as_str()))
        });
        Ok(GhPlan {
            jobs,
            applications,
            unchanged_application_ids,
            candidates,
            resumes,
            high_watermark,
        })
    }

    /// Jobs mapped with their posts' text and department names, those in `scope`.
    async fn jobs_in_scope(
        &self,
        gh_jobs: &[GhJob],
        posts: &[GhJobPost],
        scope: &PullScope,
    ) -> Result<Vec<crate::model::Job>, VendorError> {
        let departments = self.department_names(gh_jobs).await?;
        let post_of = posts_by_job(posts);
        Ok(gh_jobs
            .iter()
            .map(|j| {
                let mut m = mapping::job(j, post_of.get(&j.id).copied());
                if m.department.is_none() {
                    m.department = j.department_id.and_then(|d| departments.get(&d).cloned());
                }
                m
            })
            .filter(|j| scope.includes_job(j))
            .collect())
    }

    /// One chunk of a pull by id (at most [`ID_BATCH`] ids): the applications
    /// by `ids=`, then the jobs, candidates and resumes of those in scope,
    /// mapped as a batch of a pull maps them.
    async fn pull_by_id(
        &self,
        ids: Vec<String>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let mut deleted = Vec::new();
        let mut out_of_scope = Vec::new();
        let mut wanted = BTreeSet::new();
        for id in ids {
            match id.trim().parse::<i64>() {
                Ok(n) => {
                    wanted.insert(n);
                }
                // No Greenhouse application has it.
                Err(_) => deleted.push(id),
            }
        }
        let listed: Vec<Listed> = self.list_by_ids("applications", "ids", &wanted).await?;
        let found: BTreeSet<i64> = listed.iter().map(|l| l.id).collect();
        deleted.extend(wanted.difference(&found).map(i64::to_string));
        let mut apps = Vec::with_capacity(listed.len());
        for l in listed {
            match l.application {
                Some(a) => apps.push(a),
                // A prospect: no job to score against.
                None => out_of_scope.push(l.id.to_string()),
            }
        }
        let job_ids: BTreeSet<i64> = apps.iter().filter_map(|a| a.job_id.parse().ok()).collect();
        let (gh_jobs, posts) = futures::try_join!(
            self.list_by_ids::<GhJob>("jobs", "ids", &job_ids),
            self.list_by_ids::<GhJobPost>("job_posts", "job_ids", &job_ids),
        )?;
        let jobs = self.jobs_in_scope(&gh_jobs, &posts, scope).await?;
        let (mut applications, outside): (Vec<_>, Vec<_>) = apps
            .into_iter()
            .partition(|a| jobs.iter().any(|j| j.id == a.job_id));
        out_of_scope.extend(outside.into_iter().map(|a| a.id));

        let needed: BTreeSet<i64> = applications
            .iter()
            .filter_map(|a| a.candidate_id.parse().ok())
            .collect();
        let (cands, atts) = futures::try_join!(
            self.list_by_ids::<GhCandidate>("candidates", "ids", &needed),
            self.list_by_ids::<GhAttachment>("attachments", "candidate_ids", &needed),
        )?;
        let times = ChangeTimes::of(&cands, &atts);
        for a in &mut applications {
            times.take_in(a);
        }
        applications.sort_by(|a, b| {
            (candidate_key(a), a.id.as_str()).cmp(&(candidate_key(b), b.id.as_str()))
        });
        let plan = GhPlan {
            jobs,
            applications,
            resumes: latest_resumes(&atts)
                .into_iter()
                .filter_map(|(c, a)| Some((c, a.url.clone()?)))
                .collect(),
            candidates: cands
                .into_iter()
                .filter(|c| needed.contains(&c.id))
                .map(|c| (c.id, c))
                .collect(),
            ..GhPlan::default()
        };
        let mut out = self.batch(&plan, &plan.applications).await?;
        out.deleted_application_ids = deleted;
        out.out_of_scope_application_ids = out_of_scope;
        Ok(out)
    }

    /// One batch: its candidates with their resumes downloaded.
    async fn batch(&self, plan: &GhPlan, apps: &[Application]) -> Result<ChangeSet, VendorError> {
        let mut seen = BTreeSet::new();
        let wanted: Vec<(GhCandidate, Option<String>)> = apps
            .iter()
            .filter_map(|a| a.candidate_id.parse::<i64>().ok())
            .filter(|id| seen.insert(*id))
            .filter_map(|id| {
                let c = plan.candidates.get(&id)?.clone();
                Some((c, plan.resumes.get(&id).cloned()))
            })
            .collect();
        let candidates = futures::stream::iter(wanted)
            .map(|(c, url)| self.with_resume(c, url))
            .buffer_unordered(DOWNLOADS_IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await?;
        debug!(
            applications = apps.len(),
            candidates = candidates.len(),
            "greenhouse batch mapped"
        );
        Ok(ChangeSet {
            jobs: plan.jobs.clone(),
            candidates,
            applications: apps.to_vec(),
            // v3 lists do not report deletions (webhooks do).
            deleted_application_ids: Vec::new(),
            high_watermark: plan.high_watermark,
            unchanged_application_ids: Vec::new(),
            out_of_scope_application_ids: Vec::new(),
            resume_after: apps.last().map(|a| a.candidate_id.clone()),
        })
    }
}

/// Applications ordered by their candidate's numeric id.
fn candidate_key(a: &Application) -> i64 {
    a.candidate_id.parse().unwrap_or(i64::MAX)
}

#[async_trait]
impl AtsClient for GreenhouseClient {
    async fn demographics(
        &self,
        application_ids: &[String],
    ) -> Result<Option<HashMap<String, crate::audit::Demographics>>, VendorError> {
        self.eeoc(application_ids).await.map(Some)
    }

    /// Batches of about [`crate::vendors::batches::BATCH`] applications, by candidate: the listings
    /// once, then each batch's resumes, so a large tenant's resumes are never
    /// held at once. Resumes after the last candidate of a finished batch.
    fn pull_batches<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
        scope: &'a PullScope,
        resume_after: Option<String>,
        known: &'a dyn Known,
    ) -> crate::vendors::Batches<'a> {
        let plan = async move {
            let mut plan = self.plan(since, scope, known).await?;
            if let Some(after) = resume_after.as_deref().and_then(|a| a.parse::<i64>().ok()) {
                plan.applications.retain(|a| candidate_key(a) > after);
            }
            Ok(plan)
        };
        batches::stream(
            plan,
            |p: &GhPlan| {
                batches::bounds(&p.applications, batches::BATCH, |a| a.candidate_id.clone())
            },
            |p, out| out.unchanged_application_ids = p.unchanged_application_ids.clone(),
            move |p: std::sync::Arc<GhPlan>, r| {
                Box::pin(async move { self.batch(&p, &p.applications[r]).await })
            },
        )
    }

    /// `GET /v3/applications?ids=` (at most 50 a request), then the jobs,
    /// job posts, candidates (`ids=`) and resumes of those in scope.
    async fn pull_applications(
        &self,
        ids: &[String],
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let span = info_span!("greenhouse_pull_applications", applications = ids.len());
        batches::by_id(ids, |chunk| self.pull_by_id(chunk, scope))
            .instrument(span)
            .await
    }

    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError> {
        let span = info_span!("greenhouse_write_back", application = %req.application.id);
        async move {
            let app_id = numeric("application", &req.application.id)?;
            let candidate_id = numeric("candidate", &req.application.candidate_id)?;
            // The custom field first: PATCH is idempotent, and a note that exists
            // then proves the whole write landed (see `note_exists`).
            if let Some(key) = &req.custom_field {
                let url = self.url(&format!("applications/{app_id}"), &[])?;
                let body = json!({"custom_fields": [{"name_key": key, "value": req.score.score}]});
                self.http
                    .send(|| self.http.client().patch(url.clone()).json(&body))
                    .await
                    .map_err(Self::hint)?;
            }
            if req.note {
                self.post_note(req, app_id, candidate_id).await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn operator_notes(&self, application: &Application) -> Result<Vec<String>, VendorError> {
        let span = info_span!("greenhouse_operator_notes", application = %application.id);
        async move {
            let app_id = numeric("application", &application.id)?;
            let listed: Vec<Value> = self
                .list("notes", &[("application_ids", app_id.to_string())])
                .await?;
            Ok(notes::operator_bodies(
                listed.iter().filter_map(|n| n["body"].as_str()),
            ))
        }
        .instrument(span)
        .await
    }

    async fn verify(&self) -> Result<(), VendorError> {
        let span = info_span!("greenhouse_verify");
        async move {
            self.http.authenticate().await?;
            // Lists need a Site Admin: this surfaces a 403 now rather than mid-sync.
            let url = self.url("jobs", &[("per_page", "1".to_string())])?;
            self.http.probe(&url).await.map_err(Self::hint)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap as Map;

    fn cfg(base: Option<&str>) -> ConnectionConfig {
        ConnectionConfig {
            vendor: crate::model::VendorKind::Greenhouse,
            base_url: base.map(str::to_string),
            token_url: None,
            subdomain: None,
            credentials: Map::from([
                (
                    "clientId".to_string(),
                    crate::vendors::SecretValue::new("id"),
                ),
                (
                    "clientSecret".to_string(),
                    crate::vendors::SecretValue::new("secret"),
                ),
            ]),
            sub: Some("100".into()),
            rate_limit: None,
            endpoints: crate::vendors::guard::EndpointPolicy::AllowPrivate,
            download_hosts: Vec::new(),
        }
    }

    #[test]
    fn base_url_replaces_the_host() {
        for base in [
            None,
            Some("https://harvest.greenhouse.io"),
            Some("https://harvest.greenhouse.io/"),
            Some("https://harvest.greenhouse.io/v3/"),
        ] {
            let c = GreenhouseClient::new(&cfg(base)).unwrap();
            assert_eq!(
                c.url("jobs", &[("per_page", "500".into())])
                    .unwrap()
                    .as_str(),
                "https://harvest.greenhouse.io/v3/jobs?per_page=500"
            );
        }
        let c = GreenhouseClient::new(&cfg(Some("http://127.0.0.1:8080"))).unwrap();
        let u = c
            .url(
                "applications",
                &[("updated_at", "gte|2026-01-01T00:00:00.000Z".into())],
            )
            .unwrap();
        assert_eq!(u.path(), "/v3/applications");
        assert_eq!(
            u.query_pairs().next().unwrap().1,
            "gte|2026-01-01T00:00:00.000Z"
        );
        assert_eq!(c.user_id, Some(100));
    }

    #[test]
    fn missing_credentials_are_a_config_error() {
        let mut c = cfg(None);
        c.credentials.remove("clientSecret");
        assert!(matches!(
            GreenhouseClient::new(&c),
            Err(VendorError::Config(_))
        ));
    }

    #[test]
    fn watermark_timestamps_have_millis() {
        let t = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2026-03-02T10:00:00.000Z");
    }
}
