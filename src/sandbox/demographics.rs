//! Voluntary self-identification (EEO) answers for the sandboxes' applications:
//! deterministic, with a realistic share of people who decline, and a
//! built-in disparity an audit can find: at `disparity` percent, women are
//! that much rarer among the strong fits and that much commoner among the
//! poor fits (at 0 sex is independent of fit).
//!
//! Answers are drawn from the application's id and fit, never from the
//! tenant's random stream, so adding them changed no generated data.

use super::data::{Fit, GenApplication};

/// The disparity a sandbox starts with (percentage points).
pub const DEFAULT_DISPARITY: u8 = 30;

/// EEO-1 race answers with their share out of 100 (the last is "declined").
const RACES: [(&str, u32); 8] = [
    ("White", 35),
    ("Hispanic or Latino", 18),
    ("Black or African American", 13),
    ("Asian", 14),
    ("Two or More Races", 6),
    ("Native Hawaiian or Other Pacific Islander", 1),
    ("American Indian or Alaskan Native", 1),
    (DECLINE, 12),
];

pub const DECLINE: &str = "Decline To Self Identify";

/// One application's answers, in the words of a US EEO form; `None`: skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelfId {
    pub gender: Option<&'static str>,
    pub race: Option<&'static str>,
}

/// SplitMix64: a stateless, well-mixed hash of the id.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Pure: the answers of `app` at `disparity` percentage points.
pub fn self_identification(app: &GenApplication, disparity: u8) -> SelfId {
    let h = mix(app.id);
    let roll = |shift: u32| ((h >> shift) % 1000) as u32;
    // About 4% skip the form; 8% decline the gender question.
    if roll(0) < 40 {
        return SelfId {
            gender: None,
            race: None,
        };
    }
    let d = u32::from(disparity.min(50)) * 10;
    let female_per_mille = match app.fit {
        Fit::Strong => 500 - d,
        Fit::Medium => 500,
        Fit::Poor => 500 + d,
    };
    let g = roll(10);
    let gender = if g < 80 {
        DECLINE
    } else if (g - 80) * 1000 < female_per_mille * 920 {
        "Female"
    } else {
        "Male"
    };
    let mut r = roll(20) % 100;
    let mut race = DECLINE;
    for (name, share) in RACES {
        if r < share {
            race = name;
            break;
        }
        r -= share;
    }
    SelfId {
        gender: Some(gender),
        race: Some(race),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::data::Tenant;

    #[test]
    fn deterministic_with_declines_and_the_disparity() {
        let t = Tenant::generate(7, 10, 2000);
        let ids: Vec<SelfId> = t
            .applications
            .iter()
            .map(|a| self_identification(a, DEFAULT_DISPARITY))
            .collect();
        let again: Vec<SelfId> = t
            .applications
            .iter()
            .map(|a| self_identification(a, DEFAULT_DISPARITY))
            .collect();
        assert_eq!(ids, again);
        let n = ids.len() as f64;
        let declined = ids
            .iter()
            .filter(|s| s.gender.is_none_or(|g| g == DECLINE))
            .count() as f64;
        assert!((0.08..0.16).contains(&(declined / n)), "{}", declined / n);
        let female_share = |fit: Fit, disparity: u8| {
            let (f, all) = t
                .applications
                .iter()
                .filter(|a| a.fit == fit)
                .map(|a| self_identification(a, disparity).gender)
                .filter(|g| matches!(g, Some("Female" | "Male")))
                .fold((0, 0), |(f, n), g| {
                    (f + usize::from(g == Some("Female")), n + 1)
                });
            f as f64 / all as f64
        };
        assert!(female_share(Fit::Strong, 30) < 0.3);
        assert!(female_share(Fit::Poor, 30) > 0.7);
        assert!((0.4..0.6).contains(&female_share(Fit::Strong, 0)));
        assert!((0.4..0.6).contains(&female_share(Fit::Poor, 0)));
    }
}
