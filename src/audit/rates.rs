//! Rates and impact ratios as DCWP's rules for Local Law 144 define them
//! (6 RCNY 5-300, 5-301): per category of sex, race/ethnicity and their
//! intersections, with the unknown category counted apart, the optional
//! under-2% exclusion, the four-fifths flag and a two-proportion z-test.

use serde::Serialize;

use super::categories::{Demographics, Race, Sex};
use super::stats::{self, Median};

/// One audited person: the AEDT's output joined with their self-identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub score: u32,
    /// Selected to move forward (for a selection-rate audit: assigned a band
    /// at or above the cut-off; for a recruiter-selection audit: advanced or
    /// hired).
    pub selected: bool,
    pub demographics: Demographics,
}

/// What the audit measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Outcome {
    /// The share scoring strictly above the sample's median score.
    /// `unknown_in_median`: whether people of unknown sex or race enter the median.
    ScoringRate { unknown_in_median: bool },
    /// The share selected to move forward.
    SelectionRate,
    /// The share a recruiter advanced or hired, among those decided.
    RecruiterSelectionRate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditConfig {
    pub outcome: Outcome,
    /// Exclude categories under 2% of the data from the impact ratios, with
    /// this justification (recorded in the report). `None`: no exclusion.
    pub exclude_under_2_percent: Option<String>,
    /// Flag a category only when its shortfall is also statistically
    /// significant (two-sided p below this level). UGESP 1607.4(D): greater
    /// differences "may not constitute adverse impact where the differences
    /// are based on small numbers and are not statistically significant".
    /// `None`: the four-fifths rule alone.
    pub significance_level: Option<f64>,
}

/// One category's line of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRow {
    pub category: String,
    /// People assessed in this category.
    pub applicants: u64,
    /// Scored above the median, or selected.
    pub positive: u64,
    /// `positive / applicants`; `None` without applicants.
    pub rate: Option<f64>,
    /// `rate / highest rate` of the dimension; `None` ("n/a") when every rate
    /// is 0, the category has no applicants or is excluded.
    pub impact_ratio: Option<f64>,
    /// Excluded from the impact ratios under the 2% rule.
    pub excluded: bool,
    /// Impact ratio strictly below 0.8 (compared in integers).
    pub adverse_impact: bool,
    /// Adverse impact, and significant when the audit asks for significance.
    pub flagged: bool,
    /// Two-proportion z-test against the highest-rate category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}

/// Sex, race/ethnicity, or their intersection.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dimension {
    pub name: String,
    pub rows: Vec<CategoryRow>,
    /// People not included because they fall within an unknown category.
    pub unknown: u64,
    /// The unknown category's own count and rate, for the record.
    pub unknown_positive: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditResult {
    pub outcome: Outcome,
    /// Everyone audited, known or not.
    pub sample_size: u64,
    /// The median score (scoring rate only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// How many scores the median was taken over.
    pub median_sample_size: u64,
    pub dimensions: Vec<Dimension>,
    /// The 2% rule's justification when it excluded a category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusion_justification: Option<String>,
    /// Categories with adverse impact ("Dimension: Category").
    pub flagged: Vec<String>,
}

impl AuditResult {
    pub fn passed(&self) -> bool {
        self.flagged.is_empty()
    }
}

fn known(d: &Demographics) -> bool {
    d.sex.is_some() && d.race.is_some()
}

/// Whether a person is in a category; `None`: unknown in that dimension.
type Membership = Box<dyn Fn(&Demographics) -> Option<bool>>;
type Categories = Vec<(String, Membership)>;

/// Pure: the audit of `samples` under `cfg`.
pub fn audit(samples: &[Sample], cfg: &AuditConfig) -> AuditResult {
    let (median, median_n) = match cfg.outcome {
        Outcome::ScoringRate { unknown_in_median } => {
            let scores: Vec<u32> = samples
                .iter()
                .filter(|s| unknown_in_median || known(&s.demographics))
                .map(|s| s.score)
                .collect();
            (Median::of(&scores), scores.len() as u64)
        }
        Outcome::SelectionRate | Outcome::RecruiterSelectionRate => (None, 0),
    };
    let positive = |s: &Sample| match cfg.outcome {
        Outcome::ScoringRate { .. } => median.is_some_and(|m| m.below(s.score)),
        Outcome::SelectionRate | Outcome::RecruiterSelectionRate => s.selected,
    };
    let total = samples.len() as u64;
    let sex_cats: Categories = Sex::ALL
        .iter()
        .map(|&x| {
            (
                x.label().to_string(),
                Box::new(move |d: &Demographics| d.sex.map(|s| s == x)) as Membership,
            )
        })
        .collect();
    let race_cats: Categories = Race::ALL
        .iter()
        .map(|&x| {
            (
                x.label().to_string(),
                Box::new(move |d: &Demographics| d.race.map(|r| r == x)) as Membership,
            )
        })
        .collect();
    let mut inter_cats: Categories = Vec::new();
    for &r in &Race::ALL {
        for &s in &Sex::ALL {
            inter_cats.push((
                format!("{} {}", r.label(), s.label()),
                Box::new(move |d: &Demographics| match (d.sex, d.race) {
                    (Some(ds), Some(dr)) => Some(ds == s && dr == r),
                    _ => None,
                }),
            ));
        }
    }
    let mut flagged = Vec::new();
    let mut any_excluded = false;
    let dimensions: Vec<Dimension> = [
        ("Sex", sex_cats),
        ("Race/Ethnicity", race_cats),
        ("Intersectional", inter_cats),
    ]
    .into_iter()
    .map(|(name, cats)| {
        let counts: Vec<(String, u64, u64)> = cats
            .iter()
            .map(|(label, is)| {
                let (n, p) = samples
                    .iter()
                    .filter(|s| is(&s.demographics) == Some(true))
                    .fold((0u64, 0u64), |(n, p), s| {
                        (
                            n.saturating_add(1),
                            p.saturating_add(u64::from(positive(s))),
                        )
                    });
                (label.clone(), n, p)
            })
            .collect();
        // Any category's membership is unknown exactly when the dimension's is.
        let unknown_rows = samples.iter().filter(|s| {
            cats.first()
                .is_none_or(|(_, is)| is(&s.demographics).is_none())
        });
        let (unknown, unknown_positive) = unknown_rows.fold((0u64, 0u64), |(n, p), s| {
            (
                n.saturating_add(1),
                p.saturating_add(u64::from(positive(s))),
            )
        });
        let dim = dimension(
            name,
            &counts,
            total,
            cfg.exclude_under_2_percent.is_some(),
            cfg.significance_level,
        );
        any_excluded |= dim.rows.iter().any(|r| r.excluded);
        flagged.extend(
            dim.rows
                .iter()
                .filter(|r| r.flagged)
                .map(|r| format!("{name}: {}", r.category)),
        );
        Dimension {
            unknown,
            unknown_positive,
            ..dim
        }
    })
    .collect();
    AuditResult {
        outcome: cfg.outcome,
        sample_size: total,
        median: median.map(|m| m.value()),
        median_sample_size: median_n,
        dimensions,
        exclusion_justification: cfg.exclude_under_2_percent.clone().filter(|_| any_excluded),
        flagged,
    }
}

/// Pure: one dimension's rows from (category, applicants, positive) counts.
/// `total` is the size of the data used for the audit (the 2% rule's base).
pub fn dimension(
    name: &str,
    counts: &[(String, u64, u64)],
    total: u64,
    exclude: bool,
    significance_level: Option<f64>,
) -> Dimension {
    // Under 2% of the data: n/total < 2/100.
    let excluded = |n: u64| exclude && n > 0 && (n as u128) * 100 < (total as u128) * 2;
    let best = counts
        .iter()
        .filter(|(_, n, _)| *n > 0 && !excluded(*n))
        .fold(None::<(u64, u64)>, |best, (_, n, p)| match best {
            Some((bp, bn)) if !stats::rate_less(bp, bn, *p, *n) => Some((bp, bn)),
            _ => Some((*p, *n)),
        });
    let rows = counts
        .iter()
        .map(|(label, n, p)| {
            let (n, p) = (*n, *p);
            let rate = (n > 0).then(|| p as f64 / n as f64);
            let ex = excluded(n);
            let in_ratio = n > 0 && !ex;
            let (impact_ratio, adverse, z) = match best {
                Some((bp, bn)) if in_ratio && bp > 0 => {
                    let ir = (p as f64 / n as f64) / (bp as f64 / bn as f64);
                    let is_best = (p as u128) * (bn as u128) == (bp as u128) * (n as u128);
                    let z = (!is_best)
                        .then(|| stats::two_proportion_z(p, n, bp, bn))
                        .flatten();
                    (Some(ir), stats::four_fifths_adverse(p, n, bp, bn), z)
                }
                _ => (None, false, None),
            };
            CategoryRow {
                category: label.clone(),
                applicants: n,
                positive: p,
                rate,
                impact_ratio,
                excluded: ex,
                adverse_impact: adverse,
                flagged: adverse
                    && significance_level.is_none_or(|l| z.is_some_and(|t| t.p_value < l)),
                z: z.map(|t| t.z),
                p_value: z.map(|t| t.p_value),
            }
        })
        .collect();
    Dimension {
        name: name.to_string(),
        rows,
        unknown: 0,
        unknown_positive: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(score: u32, sex: Option<Sex>, race: Option<Race>) -> Sample {
        Sample {
            score,
            selected: false,
            demographics: Demographics { sex, race },
        }
    }

    fn row<'a>(r: &'a AuditResult, dim: &str, cat: &str) -> &'a CategoryRow {
        r.dimensions
            .iter()
            .find(|d| d.name == dim)
            .and_then(|d| d.rows.iter().find(|x| x.category == cat))
            .unwrap()
    }

    /// The reference's hand-made vector, both median variants.
    #[test]
    fn scoring_rate_hand_vector_both_medians() {
        let w = Some(Race::White);
        let mut s: Vec<Sample> = [90, 80, 70, 60, 50]
            .iter()
            .map(|&x| sample(x, Some(Sex::Male), w))
            .collect();
        s.extend(
            [85, 60, 55, 40, 30, 20]
                .iter()
                .map(|&x| sample(x, Some(Sex::Female), w)),
        );
        s.push(sample(10, None, None));
        let cfg = |unknown_in_median| AuditConfig {
            outcome: Outcome::ScoringRate { unknown_in_median },
            exclude_under_2_percent: None,
            significance_level: None,
        };
        let known = audit(&s, &cfg(false));
        assert_eq!(known.median, Some(60.0));
        assert_eq!(known.median_sample_size, 11);
        assert_eq!(known.sample_size, 12);
        let (m, f) = (row(&known, "Sex", "Male"), row(&known, "Sex", "Female"));
        assert_eq!(
            (m.positive, m.applicants, f.positive, f.applicants),
            (3, 5, 1, 6)
        );
        assert_eq!(m.impact_ratio, Some(1.0));
        assert!((f.impact_ratio.unwrap() - 0.2778).abs() < 1e-4);
        assert!(f.adverse_impact && !m.adverse_impact);
        assert_eq!(known.dimensions[0].unknown, 1);

        let full = audit(&s, &cfg(true));
        assert_eq!(full.median, Some(57.5));
        assert_eq!(full.median_sample_size, 12);
        let (m, f) = (row(&full, "Sex", "Male"), row(&full, "Sex", "Female"));
        assert_eq!((m.positive, f.positive), (4, 2));
        assert!((f.rate.unwrap() - 0.3333).abs() < 1e-4);
        assert!((f.impact_ratio.unwrap() - 0.4167).abs() < 1e-4);
        assert_eq!(full.dimensions[0].unknown, 1);
        assert_eq!(full.dimensions[0].unknown_positive, 0);
        assert!(full.flagged.contains(&"Sex: Female".to_string()));
        assert!(!full.passed());
    }

    /// DCWP's scoring example: the impact ratios from the printed rates.
    #[test]
    fn dcwp_scoring_example_impact_ratios() {
        // Rates in tenths of a percent as printed, over 1000 "applicants".
        let sex = [
            ("Male".to_string(), 1000, 543),
            ("Female".to_string(), 1000, 447),
        ];
        let d = dimension("Sex", &sex, 2000, false, None);
        let ir: Vec<String> = d
            .rows
            .iter()
            .map(|r| format!("{:.2}", r.impact_ratio.unwrap()))
            .collect();
        assert_eq!(ir, ["1.00", "0.82"]);
        let race = [
            ("Hispanic or Latino".to_string(), 1000, 642),
            ("White".to_string(), 1000, 375),
            ("Black or African American".to_string(), 1000, 500),
            ("Native Hawaiian or Pacific Islander".to_string(), 1000, 625),
            ("Asian".to_string(), 1000, 417),
        ];
        let d = dimension("Race/Ethnicity", &race, 5000, false, None);
        let ir: Vec<String> = d
            .rows
            .iter()
            .map(|r| format!("{:.2}", r.impact_ratio.unwrap()))
            .collect();
        assert_eq!(ir, ["1.00", "0.58", "0.78", "0.97", "0.65"]);
        let flagged: Vec<&str> = d
            .rows
            .iter()
            .filter(|r| r.adverse_impact)
            .map(|r| r.category.as_str())
            .collect();
        assert_eq!(flagged, ["White", "Black or African American", "Asian"]);
    }

    #[test]
    fn eeoc_selection_example() {
        let mut s = Vec::new();
        for i in 0..80 {
            s.push(Sample {
                score: 0,
                selected: i < 48,
                demographics: Demographics {
                    sex: Some(Sex::Male),
                    race: Some(Race::White),
                },
            });
        }
        for i in 0..40 {
            s.push(Sample {
                score: 0,
                selected: i < 12,
                demographics: Demographics {
                    sex: Some(Sex::Male),
                    race: Some(Race::BlackOrAfricanAmerican),
                },
            });
        }
        let r = audit(
            &s,
            &AuditConfig {
                outcome: Outcome::SelectionRate,
                exclude_under_2_percent: None,
                significance_level: None,
            },
        );
        let b = row(&r, "Race/Ethnicity", "Black or African American");
        assert_eq!(b.impact_ratio, Some(0.5));
        assert!(b.adverse_impact);
        assert!(b.z.is_some_and(|z| z < 0.0) && b.p_value.is_some_and(|p| p < 0.01));
        let w = row(&r, "Race/Ethnicity", "White");
        assert_eq!(
            (w.impact_ratio, w.adverse_impact, w.z),
            (Some(1.0), false, None)
        );
        // Categories without applicants are reported, with no rate.
        let a = row(&r, "Race/Ethnicity", "Asian");
        assert_eq!((a.applicants, a.rate, a.impact_ratio), (0, None, None));
        assert_eq!(
            r.flagged,
            [
                "Race/Ethnicity: Black or African American",
                "Intersectional: Black or African American Male"
            ]
        );
    }

    #[test]
    fn ugesp_four_fifths_boundary() {
        let c = |l: &str, p| (l.to_string(), 100u64, p);
        let d = dimension(
            "Race/Ethnicity",
            &[
                c("White", 60),
                c("American Indian", 45),
                c("Hispanic", 48),
                c("Black", 51),
            ],
            400,
            false,
            None,
        );
        let adverse: Vec<bool> = d.rows.iter().map(|r| r.adverse_impact).collect();
        assert_eq!(adverse, [false, true, false, false]);
    }

    #[test]
    fn a_significance_level_spares_small_numbers() {
        // 0 of 3 against 50 of 97: below 0.8, but p is about 0.08.
        let counts = [
            ("A".to_string(), 97u64, 50u64),
            ("B".to_string(), 3u64, 0u64),
        ];
        let d = dimension("Sex", &counts, 100, false, Some(0.05));
        assert!(d.rows[1].adverse_impact && !d.rows[1].flagged);
        assert!(d.rows[1].p_value.is_some_and(|p| p > 0.05));
        let d = dimension("Sex", &counts, 100, false, None);
        assert!(d.rows[1].flagged);
        // The EEOC example is significant: flagged either way.
        let eeoc = [
            ("W".to_string(), 80u64, 48u64),
            ("B".to_string(), 40u64, 12u64),
        ];
        let d = dimension("Race", &eeoc, 120, false, Some(0.05));
        assert!(d.rows[1].flagged && d.rows[1].p_value.is_some_and(|p| p < 0.01));
    }

    #[test]
    fn all_rates_zero_is_not_applicable() {
        let c = |l: &str| (l.to_string(), 10u64, 0u64);
        let d = dimension("Sex", &[c("Male"), c("Female")], 20, false, None);
        assert!(
            d.rows
                .iter()
                .all(|r| r.impact_ratio.is_none() && !r.adverse_impact)
        );
        assert!(d.rows.iter().all(|r| r.rate == Some(0.0)));
    }

    #[test]
    fn under_two_percent_is_excluded_only_with_a_justification() {
        // 1 of 100 is under 2%; with a 0/1 rate it would otherwise be flagged.
        let counts = [
            ("White".to_string(), 99u64, 50u64),
            ("Asian".to_string(), 1u64, 0u64),
        ];
        let d = dimension("Race/Ethnicity", &counts, 100, true, None);
        assert!(d.rows[1].excluded && !d.rows[1].adverse_impact);
        assert_eq!(d.rows[1].impact_ratio, None);
        // Its n and rate are still reported.
        assert_eq!((d.rows[1].applicants, d.rows[1].rate), (1, Some(0.0)));
        let d = dimension("Race/Ethnicity", &counts, 100, false, None);
        assert!(!d.rows[1].excluded && d.rows[1].adverse_impact);
        // Exactly 2% is not under 2%.
        let d = dimension(
            "Race/Ethnicity",
            &[("A".into(), 98, 50), ("B".into(), 2, 0)],
            100,
            true,
            None,
        );
        assert!(!d.rows[1].excluded);
    }

    #[test]
    fn exclusion_justification_is_recorded_when_it_excluded() {
        let mut s: Vec<Sample> = (0..99)
            .map(|i| Sample {
                score: i,
                selected: i % 2 == 0,
                demographics: Demographics {
                    sex: Some(if i % 2 == 0 { Sex::Male } else { Sex::Female }),
                    race: Some(Race::White),
                },
            })
            .collect();
        s.push(Sample {
            score: 0,
            selected: false,
            demographics: Demographics {
                sex: Some(Sex::Male),
                race: Some(Race::Asian),
            },
        });
        let r = audit(
            &s,
            &AuditConfig {
                outcome: Outcome::SelectionRate,
                exclude_under_2_percent: Some("too few to be meaningful".into()),
                significance_level: None,
            },
        );
        assert_eq!(
            r.exclusion_justification.as_deref(),
            Some("too few to be meaningful")
        );
        assert!(row(&r, "Race/Ethnicity", "Asian").excluded);
    }
}
