//! The `BiasAudit` custom resource: an LL144 bias audit of the scores (or
//! bands) some syncs wrote in a period, by the categories candidates
//! self-identified in with the vendor.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Condition;

/// The condition saying whether the last audit found no adverse impact.
pub const PASSED: &str = "Passed";

/// Reasons of a `BiasAudit`'s conditions.
pub mod reason {
    pub const AUDITED: &str = "Audited";
    pub const NO_ADVERSE_IMPACT: &str = "NoAdverseImpact";
    pub const ADVERSE_IMPACT: &str = "AdverseImpact";
    pub const NO_DATA: &str = "NoData";
    pub const DEMOGRAPHICS_UNAVAILABLE: &str = "DemographicsUnavailable";
}

/// An audit of how a scoring profile's outputs fall across sex, race/ethnicity
/// and their intersections (NYC Local Law 144, DCWP rules 6 RCNY 5-300..5-304).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "ats.dev",
    version = "v1alpha1",
    kind = "BiasAudit",
    namespaced,
    status = "BiasAuditStatus",
    shortname = "atsaudit",
    category = "ats",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Passed","type":"string","jsonPath":".status.conditions[?(@.type==\"Passed\")].status"}"#,
    printcolumn = r#"{"name":"Sample","type":"integer","jsonPath":".status.sampleSize"}"#,
    printcolumn = r#"{"name":"Last Audit","type":"date","jsonPath":".status.lastAuditTime"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BiasAuditSpec {
    /// The `AtsSync`s whose decisions are audited, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syncs: Vec<String>,
    /// Also every `AtsSync` of the namespace carrying all these labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sync_selector: BTreeMap<String, String>,
    /// The scoring profiles audited; their decisions in the syncs above are
    /// pooled. Empty: the profiles the syncs use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(default)]
    pub period: AuditPeriod,
    #[serde(default)]
    pub outcome: AuditOutcome,
    /// For `selectionRate`: the lowest band that counts as selected.
    #[serde(default)]
    pub band_cutoff: BandCutoff,
    /// Whether people in an unknown category (declined or no answer) enter the
    /// median score. The rule says "full sample"; auditors differ.
    #[serde(default = "default_true")]
    pub unknown_in_median: bool,
    /// Exclude categories under 2% of the data from the impact ratios (they
    /// are still reported with their counts and rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_under2_percent: Option<Exclusion>,
    /// Flag a category below four fifths only when the two-proportion test
    /// also finds the difference significant at this level (e.g. `0.05`):
    /// UGESP 1607.4(D) on small numbers. Unset: the four-fifths rule alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub significance_level: Option<f64>,
    /// When the employer began using the tool (for the published summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_date: Option<String>,
    /// How often the audit is computed again (an interval such as `24h`).
    #[serde(default = "default_every")]
    pub every: String,
}

fn default_true() -> bool {
    true
}

fn default_every() -> String {
    "24h".to_string()
}

/// Which decisions: `from`/`to` (RFC 3339), or the last `lastDays` days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPeriod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The last N days up to the audit (default 365 when nothing is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3660))]
    pub last_days: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AuditOutcome {
    /// The share of each category scoring above the full sample's median score.
    #[default]
    ScoringRate,
    /// The share of each category assigned a band at or above `bandCutoff`.
    SelectionRate,
    /// The share of each category a recruiter advanced or hired, as the
    /// vendor's webhooks reported (stage changes, rejections, hires): what
    /// people decided, beside the scores. Rejections by the company count as
    /// not selected; withdrawals and applications without a decision yet are
    /// left out and counted in the report.
    RecruiterSelectionRate,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BandCutoff {
    StrongFit,
    #[default]
    GoodFit,
    ModerateFit,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exclusion {
    /// The independent auditor's justification, printed in the summary.
    #[schemars(length(min = 1, max = 2000))]
    pub justification: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BiasAuditStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the last audit was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_audit_time: Option<String>,
    /// The profiles the last audit covered (label gating reads this).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Categories whose impact ratio is below 0.8 ("Sex: Female").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flagged_categories: Vec<String>,
    /// People assessed (decisions joined with a self-identification record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_size: Option<u64>,
    /// The ConfigMap holding `report.json` and `report.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

impl BiasAuditStatus {
    /// Whether the last audit passed: computed, and no category flagged.
    pub fn passed(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.type_ == PASSED && c.is_true())
    }
}
