//! Group metrics with ground truth, as the fairness toolkits define them
//! (Fairlearn's demographic parity and equalized odds, Aequitas's
//! disparities against a reference group). An LL144 audit needs only
//! selection rates; these cross-check the arithmetic against the toolkits'
//! published numbers and serve audits that have hiring outcomes as truth.

use std::collections::BTreeMap;

/// A group's confusion counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Confusion {
    pub fn size(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    /// Predicted positive / group size (Fairlearn `selection_rate`, Aequitas `pprev`).
    pub fn selection_rate(&self) -> Option<f64> {
        ratio(self.tp + self.fp, self.size())
    }
    pub fn tpr(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }
    pub fn fnr(&self) -> Option<f64> {
        ratio(self.fn_, self.tp + self.fn_)
    }
    /// False discovery rate: fp / predicted positive.
    pub fn fdr(&self) -> Option<f64> {
        ratio(self.fp, self.tp + self.fp)
    }
    /// False omission rate: fn / predicted negative.
    pub fn for_(&self) -> Option<f64> {
        ratio(self.fn_, self.tn + self.fn_)
    }
}

/// Pure: confusion counts per group.
pub fn by_group<G: Ord + Clone>(
    y_true: &[bool],
    y_pred: &[bool],
    groups: &[G],
) -> BTreeMap<G, Confusion> {
    let mut out: BTreeMap<G, Confusion> = BTreeMap::new();
    for ((t, p), g) in y_true.iter().zip(y_pred).zip(groups) {
        let c = out.entry(g.clone()).or_default();
        match (t, p) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
            (true, false) => c.fn_ += 1,
        }
    }
    out
}

fn spread<G>(
    groups: &BTreeMap<G, Confusion>,
    metric: impl Fn(&Confusion) -> Option<f64>,
) -> Option<(f64, f64)> {
    let values: Vec<f64> = groups.values().filter_map(&metric).collect();
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// Fairlearn `demographic_parity_difference`: max - min selection rate.
pub fn demographic_parity_difference<G>(g: &BTreeMap<G, Confusion>) -> Option<f64> {
    spread(g, Confusion::selection_rate).map(|(lo, hi)| hi - lo)
}

/// Fairlearn `demographic_parity_ratio`: min / max selection rate.
pub fn demographic_parity_ratio<G>(g: &BTreeMap<G, Confusion>) -> Option<f64> {
    spread(g, Confusion::selection_rate).and_then(|(lo, hi)| (hi > 0.0).then(|| lo / hi))
}

/// Fairlearn `equalized_odds_difference`: the larger of the TPR and FPR gaps.
pub fn equalized_odds_difference<G>(g: &BTreeMap<G, Confusion>) -> Option<f64> {
    let (tl, th) = spread(g, Confusion::tpr)?;
    let (fl, fh) = spread(g, Confusion::fpr)?;
    Some((th - tl).max(fh - fl))
}

/// Fairlearn `equalized_odds_ratio`: the smaller of the TPR and FPR ratios
/// (a ratio with a zero maximum counts as 0, as Fairlearn's does).
pub fn equalized_odds_ratio<G>(g: &BTreeMap<G, Confusion>) -> Option<f64> {
    let r = |(lo, hi): (f64, f64)| if hi > 0.0 { lo / hi } else { 0.0 };
    Some(r(spread(g, Confusion::tpr)?).min(r(spread(g, Confusion::fpr)?)))
}

/// Aequitas-style disparity of `group` against `reference` for `metric`.
pub fn disparity(
    group: &Confusion,
    reference: &Confusion,
    metric: impl Fn(&Confusion) -> Option<f64>,
) -> Option<f64> {
    let (g, r) = (metric(group)?, metric(reference)?);
    (r > 0.0).then(|| g / r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-6)
    }

    /// fairlearn docs/user_guide/assessment/common_fairness_metrics.rst.
    #[test]
    fn fairlearn_doc_example() {
        let b = |v: &[u8]| v.iter().map(|x| *x == 1).collect::<Vec<_>>();
        let y_true = b(&[0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
        let y_pred = b(&[0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]);
        let sf: Vec<char> = "bbabbcccaacabccbcc".chars().collect();
        let g = by_group(&y_true, &y_pred, &sf);
        assert_eq!(
            g[&'a'],
            Confusion {
                tp: 1,
                fn_: 1,
                fp: 2,
                tn: 0
            }
        );
        assert_eq!(
            g[&'b'],
            Confusion {
                tp: 3,
                fn_: 2,
                fp: 0,
                tn: 1
            }
        );
        assert_eq!(
            g[&'c'],
            Confusion {
                tp: 2,
                fn_: 3,
                fp: 2,
                tn: 1
            }
        );
        assert!(close(g[&'a'].selection_rate(), 0.75));
        assert!(close(g[&'b'].selection_rate(), 0.5));
        assert!(close(g[&'c'].selection_rate(), 0.5));
        assert!(
            close(g[&'a'].tpr(), 0.5) && close(g[&'b'].tpr(), 0.6) && close(g[&'c'].tpr(), 0.4)
        );
        assert!(close(g[&'a'].fpr(), 1.0) && close(g[&'b'].fpr(), 0.0));
        assert!(close(demographic_parity_difference(&g), 0.25));
        assert!(close(demographic_parity_ratio(&g), 2.0 / 3.0));
        assert!(close(equalized_odds_difference(&g), 1.0));
        assert!(close(equalized_odds_ratio(&g), 0.0));
    }

    /// dssg/aequitas tests/test_artifacts/test_bias_report/test_1 (ref High).
    #[test]
    fn aequitas_test_1() {
        let mut t = Vec::new();
        let mut p = Vec::new();
        let mut g = Vec::new();
        // High: tp 2, fp 1, tn 1, fn 1; Low: tp 1, fp 2, tn 1, fn 1.
        for (grp, tp, fp, tn, fn_) in [("High", 2, 1, 1, 1), ("Low", 1, 2, 1, 1)] {
            for (n, truth, pred) in [
                (tp, true, true),
                (fp, false, true),
                (tn, false, false),
                (fn_, true, false),
            ] {
                for _ in 0..n {
                    t.push(truth);
                    p.push(pred);
                    g.push(grp);
                }
            }
        }
        let m = by_group(&t, &p, &g);
        let (hi, lo) = (m["High"], m["Low"]);
        assert!(close(hi.selection_rate(), 0.6) && close(lo.selection_rate(), 0.6));
        assert!(close(hi.fnr(), 1.0 / 3.0) && close(lo.fnr(), 0.5));
        assert!(close(disparity(&lo, &hi, Confusion::fnr), 1.5));
        assert!(close(disparity(&lo, &hi, Confusion::fpr), 4.0 / 3.0));
        assert!(close(disparity(&lo, &hi, Confusion::fdr), 2.0));
        assert!(close(disparity(&lo, &hi, Confusion::for_), 1.0));
        assert!(close(disparity(&lo, &hi, Confusion::selection_rate), 1.0));
    }
}
