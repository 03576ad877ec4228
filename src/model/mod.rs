//! The common model: every vendor payload is mapped into these types before
//! anything else (scoring, ledger, status) reads it.
//!
//! Personal fields live in [`PersonalInfo`] and never reach the scorer: the
//! scorer takes a [`BlindCandidate`], which is built without them.

pub mod blind;
#[cfg(test)]
mod blind_tests;
pub mod readability;
pub mod redact;
pub mod resume;
pub mod text;

pub use blind::{BlindCandidate, BlindEducation, BlindPosition, BlindResume};
pub use readability::{DocumentFormat, Readability};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The ATS vendors the operator knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VendorKind {
    #[default]
    Greenhouse,
    Lever,
    Workable,
    Ashby,
    SmartRecruiters,
}

impl VendorKind {
    pub const ALL: [VendorKind; 5] = [
        VendorKind::Greenhouse,
        VendorKind::Lever,
        VendorKind::Workable,
        VendorKind::Ashby,
        VendorKind::SmartRecruiters,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VendorKind::Greenhouse => "greenhouse",
            VendorKind::Lever => "lever",
            VendorKind::Workable => "workable",
            VendorKind::Ashby => "ashby",
            VendorKind::SmartRecruiters => "smartrecruiters",
        }
    }
}

impl std::fmt::Display for VendorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    FullTime,
    PartTime,
    Contract,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Draft,
    Open,
    Closed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Draft => "draft",
            JobStatus::Open => "open",
            JobStatus::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub title: String,
    /// Plain text, HTML stripped.
    pub description: String,
    pub requirements: Vec<String>,
    pub nice_to_have: Vec<String>,
    pub location: Option<String>,
    pub employment_type: Option<EmploymentType>,
    pub department: Option<String>,
    pub hiring_manager: Option<Person>,
    pub status: JobStatus,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Job {
    /// An open job known only by its title and plain text: what the scorer
    /// reads; the other fields stay unknown.
    pub fn from_text(
        id: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Job {
        Job {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            requirements: vec![],
            nice_to_have: vec![],
            location: None,
            employment_type: None,
            department: None,
            hiring_manager: None,
            status: JobStatus::Open,
            created_at: None,
            updated_at: None,
        }
    }
}

/// Fields that identify a person. Kept apart from everything scoring reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonalInfo {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkExperience {
    pub title: String,
    pub company: Option<String>,
    pub start_year: Option<i32>,
    /// `None` means the position is current.
    pub end_year: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationLevel {
    HighSchool,
    Associate,
    Bachelor,
    Master,
    Doctorate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Education {
    pub school: Option<String>,
    pub degree: Option<String>,
    pub discipline: Option<String>,
    pub level: Option<EducationLevel>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StructuredResume {
    pub work_experience: Vec<WorkExperience>,
    pub education: Vec<Education>,
    pub skills: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub url: Option<String>,
    pub parsed_text: String,
    pub structured: StructuredResume,
    /// Whether the resume file could be read (older data: missing).
    #[serde(default)]
    pub readability: Readability,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub personal: PersonalInfo,
    /// The candidate's current title, as the ATS holds it.
    pub title: Option<String>,
    pub resume: Resume,
    pub source: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    New,
    Reviewed,
    Shortlisted,
    Rejected,
    Hired,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub status: ApplicationStatus,
    pub stage: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Numeric custom field values as the vendor reported them (Greenhouse
    /// application custom fields): where only the score field is written, its
    /// value tells a ledger that lost track whether the write is already there.
    pub number_fields: std::collections::BTreeMap<String, i64>,
}

/// Recommendation band, from strongest to weakest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    StrongFit,
    GoodFit,
    ModerateFit,
    WeakFit,
}

impl Band {
    pub const ALL: [Band; 4] = [
        Band::StrongFit,
        Band::GoodFit,
        Band::ModerateFit,
        Band::WeakFit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::StrongFit => "strong_fit",
            Band::GoodFit => "good_fit",
            Band::ModerateFit => "moderate_fit",
            Band::WeakFit => "weak_fit",
        }
    }
}

/// Component scores, each 0-100. A component the profile does not weigh is absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentScores {
    pub skills: Option<u8>,
    pub experience: Option<u8>,
    pub title: Option<u8>,
    pub education: Option<u8>,
    /// Only when the profile asks for it and the model is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<u8>,
}

impl ComponentScores {
    /// "skills 80, experience 100, ...": the components present, in order.
    pub fn listed(&self) -> String {
        [
            ("skills", self.skills),
            ("experience", self.experience),
            ("title", self.title),
            ("education", self.education),
            ("semantic", self.semantic),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The scorer's explainable result for one application.
///
/// Fields after `band` were added with scorer version 2; they default when an
/// older ledger row is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub score: u8,
    pub components: ComponentScores,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
    pub band: Band,
    /// One entry per requirement the job states, matched or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Whether skill or certification requirements were found in the job;
    /// when not, the skills component is absent. Old rows: assumed found.
    #[serde(default = "yes")]
    pub requirements_found: bool,
    /// Plain-language summary for the recruiter.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// Plain-language notice fit to give the candidate (NYC LL144 notice
    /// elements, EU AI Act Art. 86 explanation).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub candidate_summary: String,
    /// The model behind `components.semantic` (`all-MiniLM-L6-v2@sha256:...`):
    /// recorded with the decision next to the scorer version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic_model: Option<String>,
}

fn yes() -> bool {
    true
}

impl Score {
    /// A score with no explanation beyond its numbers (tests, benches).
    pub fn bare(score: u8, components: ComponentScores, band: Band) -> Score {
        Score {
            score,
            components,
            strengths: Vec::new(),
            gaps: Vec::new(),
            band,
            evidence: Vec::new(),
            requirements_found: true,
            summary: String::new(),
            candidate_summary: String::new(),
            semantic_model: None,
        }
    }
}

/// What a requirement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A required skill.
    Must,
    /// A preferred skill.
    Nice,
    /// Years of experience.
    Years,
    /// A certification.
    Cert,
    /// An education level.
    Education,
}

/// One requirement of the job and what the resume shows for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The requirement as the explanation names it ("Kubernetes", "5+ years of experience").
    pub requirement: String,
    pub kind: EvidenceKind,
    pub matched: bool,
    /// 0-100: how fully it counts (context, recency, share of years).
    pub strength: u8,
    /// The resume sentence that matched, trimmed and bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentence: Option<String>,
    /// Why it counts less than fully, in plain words ("familiar with", "last used over 5 years ago").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One page-independent batch of what changed in a tenant since a watermark.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    pub jobs: Vec<Job>,
    pub candidates: Vec<Candidate>,
    pub applications: Vec<Application>,
    /// Applications the vendor reports deleted.
    pub deleted_application_ids: Vec<String>,
    /// The highest vendor `updated_at` seen; the next watermark.
    pub high_watermark: Option<DateTime<Utc>>,
    /// In a batched pull: the client's token for resuming after this batch.
    pub resume_after: Option<String>,
    /// Applications listed but not fetched, as [`crate::vendors::Known`] said
    /// they did not change since they were last processed.
    pub unchanged_application_ids: Vec<String>,
    /// In a pull by id ([`crate::vendors::AtsClient::pull_applications`]):
    /// applications the vendor has whose job is outside the sync's scope (or
    /// that have no job: prospects, leads, the talent pool); not scored.
    pub out_of_scope_application_ids: Vec<String>,
}

impl ChangeSet {
    /// Takes in a later batch of the same pull (whose jobs are the same).
    pub fn absorb(&mut self, later: ChangeSet) {
        self.candidates.extend(later.candidates);
        self.applications.extend(later.applications);
        self.deleted_application_ids
            .extend(later.deleted_application_ids);
        self.unchanged_application_ids
            .extend(later.unchanged_application_ids);
        self.out_of_scope_application_ids
            .extend(later.out_of_scope_application_ids);
        self.high_watermark = self.high_watermark.max(later.high_watermark);
        self.resume_after = later.resume_after;
    }
}
