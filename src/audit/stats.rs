//! The statistics of an audit, exact where the rules draw a line: the median
//! and "above the median" and the four-fifths test are compared in integers,
//! so 48/60 against 60/100 is 0.80 exactly (not adverse) on every platform.

/// The median of a sample, kept doubled so that the mean of the two middle
/// values of an even-sized sample stays an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Median {
    twice: u64,
}

impl Median {
    /// The median of `scores`; `None` for an empty sample.
    pub fn of(scores: &[u32]) -> Option<Median> {
        if scores.is_empty() {
            return None;
        }
        let mut s = scores.to_vec();
        s.sort_unstable();
        let mid = s.len() / 2;
        let twice = if s.len() % 2 == 1 {
            u64::from(s[mid]) * 2
        } else {
            u64::from(s[mid - 1]) + u64::from(s[mid])
        };
        Some(Median { twice })
    }

    /// Strictly above: a score equal to the median is not.
    pub fn below(&self, score: u32) -> bool {
        u64::from(score) * 2 > self.twice
    }

    pub fn value(&self) -> f64 {
        self.twice as f64 / 2.0
    }
}

/// `a/na < b/nb` in integers (an empty group has rate 0).
pub fn rate_less(a: u64, na: u64, b: u64, nb: u64) -> bool {
    let (a, na, b, nb) = (a as u128, na as u128, b as u128, nb as u128);
    match (na, nb) {
        (0, 0) => false,
        (0, _) => b > 0,
        (_, 0) => false,
        _ => a * nb < b * na,
    }
}

/// The four-fifths rule (29 CFR 1607.4(D)): group `a/na` shows adverse impact
/// against the highest-rate group `b/nb` when its rate is strictly below
/// four fifths of that rate: `a/na < 0.8 * b/nb`, i.e. `5*a*nb < 4*b*na`.
pub fn four_fifths_adverse(a: u64, na: u64, b: u64, nb: u64) -> bool {
    if na == 0 || nb == 0 {
        return false;
    }
    let (a, na, b, nb) = (a as u128, na as u128, b as u128, nb as u128);
    5 * a * nb < 4 * b * na
}

/// A two-proportion z-test with the pooled proportion (as audit-ai's
/// `ztest`): `z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZTest {
    pub z: f64,
    /// Two-sided.
    pub p_value: f64,
}

/// `None` when either group is empty or the pooled proportion is 0 or 1
/// (no variance: nothing to test).
pub fn two_proportion_z(a: u64, na: u64, b: u64, nb: u64) -> Option<ZTest> {
    if na == 0 || nb == 0 || a > na || b > nb {
        return None;
    }
    let (a, na, b, nb) = (a as f64, na as f64, b as f64, nb as f64);
    let pooled = (a + b) / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se <= 0.0 || !se.is_finite() {
        return None;
    }
    let z = (a / na - b / nb) / se;
    let p_value = libm::erfc(z.abs() / std::f64::consts::SQRT_2);
    Some(ZTest { z, p_value })
}

/// The standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's hand-made vector: M [90,80,70,60,50], F
    /// [85,60,55,40,30,20], one applicant of unknown sex with 10.
    #[test]
    fn median_and_ties_hand_vector() {
        let m = [90, 80, 70, 60, 50];
        let f = [85, 60, 55, 40, 30, 20];
        let known: Vec<u32> = m.iter().chain(f.iter()).copied().collect();
        let med = Median::of(&known).unwrap();
        assert_eq!(med.value(), 60.0);
        // Ties at the median are not above it.
        assert_eq!(m.iter().filter(|s| med.below(**s)).count(), 3);
        assert_eq!(f.iter().filter(|s| med.below(**s)).count(), 1);
        let mut all = known.clone();
        all.push(10);
        let med = Median::of(&all).unwrap();
        assert_eq!(med.value(), 57.5);
        assert_eq!(m.iter().filter(|s| med.below(**s)).count(), 4);
        assert_eq!(f.iter().filter(|s| med.below(**s)).count(), 2);
        assert_eq!(Median::of(&[]), None);
    }

    #[test]
    fn eeoc_example_is_adverse() {
        // 48 of 80 White applicants advance, 12 of 40 Black: 0.5 < 0.8.
        assert!(four_fifths_adverse(12, 40, 48, 80));
        assert!(!four_fifths_adverse(48, 80, 48, 80));
    }

    #[test]
    fn ugesp_example_exactly_four_fifths_is_not_adverse() {
        // White 60%, American Indian 45%, Hispanic 48%, Black 51% (per 100).
        assert!(four_fifths_adverse(45, 100, 60, 100)); // 0.75
        assert!(!four_fifths_adverse(48, 100, 60, 100)); // 0.80 exactly
        assert!(!four_fifths_adverse(51, 100, 60, 100)); // 0.85
        // Floats would call 4% against 5% adverse (0.7999999999999999).
        assert!(std::hint::black_box(0.04f64) / 0.05 < 0.8);
        assert!(!four_fifths_adverse(4, 100, 5, 100));
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the value as audit-ai's test prints it
    fn audit_ai_z_test() {
        // pymetrics/audit-ai test_stats.py: F 10/20, M 20/20.
        let t = two_proportion_z(10, 20, 20, 20).unwrap();
        assert!((t.z - -3.6514837167011072).abs() < 1e-12, "{}", t.z);
        assert!((t.p_value - 2.0 * normal_cdf(-3.6514837167011072)).abs() < 1e-12);
        assert!(t.p_value < 0.001);
        assert_eq!(two_proportion_z(0, 10, 0, 10), None);
        assert_eq!(two_proportion_z(1, 0, 0, 10), None);
        assert_eq!(two_proportion_z(11, 10, 0, 10), None);
    }

    #[test]
    fn normal_cdf_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-12);
    }

    #[test]
    fn rates_compare_in_integers() {
        assert!(rate_less(1, 3, 1, 2));
        assert!(!rate_less(2, 4, 1, 2));
        assert!(!rate_less(0, 0, 0, 5));
        assert!(rate_less(0, 0, 1, 5));
        assert!(!rate_less(u64::MAX, u64::MAX, u64::MAX, u64::MAX));
    }
}
