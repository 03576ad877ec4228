//! The audit report: JSON for machines and Markdown shaped as the summaries
//! employers publish under LL144 (6 RCNY 5-303): date of the audit, source
//! and explanation of the data, the unknown category's count, applicants,
//! rates and impact ratios for all categories, and the distribution date.

use serde::Serialize;

use super::rates::{AuditResult, Outcome};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `namespace/name` of the `BiasAudit`.
    pub audit: String,
    /// When the audit was computed (RFC 3339).
    pub audit_date: String,
    /// The period of decisions audited (RFC 3339, inclusive).
    pub period_from: String,
    pub period_to: String,
    /// The `AtsSync`s whose decisions were audited.
    pub syncs: Vec<String>,
    /// The scoring profiles audited.
    pub profiles: Vec<String>,
    /// Where the data comes from and how it was joined.
    pub data_source: String,
    /// When the employer began using the tool, if the audit names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_date: Option<String>,
    /// Decisions in the period without a self-identification record (not the
    /// same as a declined answer, which is in the unknown category).
    pub without_demographics: u64,
    /// Recruiter-selection audits: decisions in the period no recruiter had
    /// acted on yet (left out).
    #[serde(default)]
    pub undecided: u64,
    /// Recruiter-selection audits: applications the candidate withdrew (left out).
    #[serde(default)]
    pub withdrawn: u64,
    /// Anything that limits the audit (a vendor without an API for self-identification).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limitations: Vec<String>,
    pub result: AuditResult,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn ir(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"))
}

/// Escapes what would break a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Pure: the Markdown summary.
pub fn markdown(r: &Report) -> String {
    let res = &r.result;
    let rate_name = match res.outcome {
        Outcome::ScoringRate { .. } => "Scoring rate",
        Outcome::SelectionRate => "Selection rate",
        Outcome::RecruiterSelectionRate => "Selection rate (recruiters' decisions)",
    };
    let mut out = String::new();
    out.push_str(&format!("# Bias audit summary: {}\n\n", cell(&r.audit)));
    out.push_str(&format!("- **Date of audit:** {}\n", r.audit_date));
    out.push_str(&format!(
        "- **Distribution date of the tool:** {}\n",
        r.distribution_date
            .as_deref()
            .map_or("not stated".into(), cell)
    ));
    out.push_str(&format!(
        "- **Data:** historical data, decisions from {} to {}; {}\n",
        r.period_from,
        r.period_to,
        cell(&r.data_source)
    ));
    out.push_str(&format!("- **Syncs:** {}\n", cell(&r.syncs.join(", "))));
    out.push_str(&format!(
        "- **Scoring profiles:** {}\n",
        cell(&r.profiles.join(", "))
    ));
    match res.outcome {
        Outcome::ScoringRate { unknown_in_median } => out.push_str(&format!(
            "- **Outcome:** scoring rate, the share scoring above the median score of {} \
             (taken over {} of {} applicants; unknown category {} the median)\n",
            res.median.map_or("n/a".into(), |m| format!("{m}")),
            res.median_sample_size,
            res.sample_size,
            if unknown_in_median {
                "included in"
            } else {
                "left out of"
            }
        )),
        Outcome::SelectionRate => out.push_str(
            "- **Outcome:** selection rate, the share assigned a band at or above the cut-off\n",
        ),
        Outcome::RecruiterSelectionRate => out.push_str(&format!(
            "- **Outcome:** selection rate from recruiters' decisions, the share advanced or hired \
             among applications a recruiter decided (rejections by the company count as not \
             selected); left out: {} without a decision yet, {} withdrawn by the candidate\n",
            r.undecided, r.withdrawn
        )),
    }
    out.push_str(&format!(
        "- **Applicants assessed:** {}; without a self-identification record: {}\n",
        res.sample_size, r.without_demographics
    ));
    for d in &res.dimensions {
        out.push_str(&format!(
            "- **Number of individuals in the unknown category ({}):** {}\n",
            d.name, d.unknown
        ));
    }
    for l in &r.limitations {
        out.push_str(&format!("- **Limitation:** {}\n", cell(l)));
    }
    for d in &res.dimensions {
        out.push_str(&format!(
            "\n## {}\n\n| Category | Number of applicants | {rate_name} | Impact ratio |\n|---|---:|---:|---:|\n",
            d.name
        ));
        for row in &d.rows {
            let mut name = cell(&row.category);
            if row.excluded {
                name.push_str(" (excluded, <2%)");
            }
            if row.flagged {
                name.push_str(" **(below 0.80)**");
            } else if row.adverse_impact {
                name.push_str(" (below 0.80, not significant)");
            }
            out.push_str(&format!(
                "| {name} | {} | {} | {} |\n",
                row.applicants,
                pct(row.rate),
                ir(row.impact_ratio)
            ));
        }
        out.push_str(&format!(
            "| Unknown (not included) | {} | {} | n/a |\n",
            d.unknown,
            pct((d.unknown > 0).then(|| d.unknown_positive as f64 / d.unknown as f64))
        ));
    }
    if let Some(j) = &res.exclusion_justification {
        out.push_str(&format!(
            "\nCategories under 2% of the data were excluded from the impact ratios: {}\n",
            cell(j)
        ));
    }
    out.push_str(&format!(
        "\n**Result:** {}\n",
        if res.flagged.is_empty() {
            "no category has an impact ratio below 0.80.".to_string()
        } else {
            format!(
                "impact ratio below 0.80 for {}.",
                cell(&res.flagged.join("; "))
            )
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditConfig, Demographics, Race, Sample, Sex, audit};

    #[test]
    fn markdown_has_what_a_published_summary_needs() {
        let mut s = Vec::new();
        for i in 0..20u32 {
            s.push(Sample {
                score: i,
                selected: false,
                demographics: Demographics {
                    sex: Some(if i < 10 { Sex::Female } else { Sex::Male }),
                    race: (i % 5 != 0).then_some(Race::Asian),
                },
            });
        }
        let result = audit(
            &s,
            &AuditConfig {
                outcome: Outcome::ScoringRate {
                    unknown_in_median: true,
                },
                exclude_under_2_percent: None,
                significance_level: None,
            },
        );
        let r = Report {
            audit: "ns/a|b".into(),
            audit_date: "2026-12-05T00:00:00Z".into(),
            period_from: "2026-01-01T00:00:00Z".into(),
            period_to: "2026-12-05T00:00:00Z".into(),
            syncs: vec!["gh".into()],
            profiles: vec!["default".into()],
            data_source: "Greenhouse EEOC responses".into(),
            distribution_date: Some("2026-01-01".into()),
            without_demographics: 2,
            undecided: 0,
            withdrawn: 0,
            limitations: vec![],
            result,
        };
        let md = markdown(&r);
        for needle in [
            "Date of audit:** 2026-12-05",
            "Distribution date of the tool:** 2026-01-01",
            "Greenhouse EEOC responses",
            "unknown category (Race/Ethnicity):** 4",
            "| Female **(below 0.80)** | 10 | 0.0% | 0.00 |",
            "| Male | 10 | 100.0% | 1.00 |",
            "| Asian Female **(below 0.80)** | 8 | 0.0% | 0.00 |",
            "| Hispanic or Latino | 0 | n/a | n/a |",
            "ns/a\\|b",
            "below 0.80 for Sex: Female",
        ] {
            assert!(md.contains(needle), "{needle} missing from\n{md}");
        }
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["result"]["outcome"]["kind"], "scoringRate");
        assert_eq!(
            json["result"]["dimensions"][0]["rows"][1]["impactRatio"],
            0.0
        );
    }

    #[test]
    fn recruiter_selection_names_what_was_left_out() {
        // EEOC's example: 48 of 80 against 12 of 40 selected (0.30 / 0.60 = 0.50).
        let mut s = Vec::new();
        for (sex, n, selected) in [(Sex::Male, 80u32, 48u32), (Sex::Female, 40, 12)] {
            for i in 0..n {
                s.push(Sample {
                    score: 50,
                    selected: i < selected,
                    demographics: Demographics {
                        sex: Some(sex),
                        race: Some(Race::White),
                    },
                });
            }
        }
        let result = audit(
            &s,
            &AuditConfig {
                outcome: Outcome::RecruiterSelectionRate,
                exclude_under_2_percent: None,
                significance_level: None,
            },
        );
        assert_eq!(
            result.flagged.first().map(String::as_str),
            Some("Sex: Female")
        );
        let r = Report {
            audit: "ns/decisions".into(),
            audit_date: "2026-12-05T00:00:00Z".into(),
            period_from: "2026-01-01T00:00:00Z".into(),
            period_to: "2026-12-05T00:00:00Z".into(),
            syncs: vec!["gh".into()],
            profiles: vec!["default".into()],
            data_source: "ledger".into(),
            distribution_date: None,
            without_demographics: 0,
            undecided: 7,
            withdrawn: 3,
            limitations: vec![],
            result,
        };
        let md = markdown(&r);
        for needle in [
            "Selection rate (recruiters' decisions)",
            "left out: 7 without a decision yet, 3 withdrawn by the candidate",
            "| Female **(below 0.80)** | 40 | 30.0% | 0.50 |",
            "| Male | 80 | 60.0% | 1.00 |",
        ] {
            assert!(md.contains(needle), "{needle} missing from\n{md}");
        }
    }
}
