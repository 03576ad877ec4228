//! From embeddings to a 0-100 component value. Pure.
//!
//! Each job requirement is matched to its best resume sentence (cosine of
//! unit vectors); the cosine is mapped linearly from the model's floor (0)
//! to its ceiling (100) and clamped; the value is the weighted mean over
//! requirements, rounded.

/// Cosine at or below which a requirement counts as unmet (`floor`), and at
/// or above which it counts as fully met (`ceiling`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub floor: f32,
    pub ceiling: f32,
}

impl Bounds {
    /// all-MiniLM-L6-v2: unrelated sentences sit at about 0.0-0.2 (a Rust job
    /// against a pastry chef: 0.15), paraphrases at about 0.7 (two
    /// Rust/Kubernetes sentences: 0.70).
    pub const TRANSFORMER: Bounds = Bounds {
        floor: 0.2,
        ceiling: 0.7,
    };
    /// The static model distilled from it spreads wider: see
    /// tests/semantic.rs for the reference pairs.
    pub const STATIC: Bounds = Bounds {
        floor: 0.2,
        ceiling: 0.7,
    };
}

/// Dot product; for unit vectors, the cosine.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One requirement's best cosine mapped to 0.0-1.0.
pub fn met(best_cosine: f32, b: Bounds) -> f32 {
    if best_cosine.is_nan() {
        return 0.0;
    }
    ((best_cosine - b.floor) / (b.ceiling - b.floor)).clamp(0.0, 1.0)
}

/// The best cosine of each requirement against the resume's sentences, and
/// the index of that sentence (the evidence); `None` when the resume is empty.
pub fn best_matches(requirements: &[Vec<f32>], resume: &[Vec<f32>]) -> Vec<Option<(usize, f32)>> {
    requirements
        .iter()
        .map(|r| {
            resume
                .iter()
                .enumerate()
                .map(|(i, s)| (i, cosine(r, s)))
                // First of equals wins: stable whatever the float ties.
                .fold(None, |best: Option<(usize, f32)>, (i, c)| match best {
                    Some((_, b)) if b >= c => best,
                    _ => Some((i, c)),
                })
        })
        .collect()
}

/// The component value, 0-100. No requirements: `None` (nothing to compare);
/// an empty resume meets nothing (0).
pub fn value(
    requirements: &[Vec<f32>],
    weights: &[f32],
    resume: &[Vec<f32>],
    bounds: Bounds,
) -> Option<u8> {
    if requirements.is_empty() {
        return None;
    }
    let best = best_matches(requirements, resume);
    let mut sum = 0.0f32;
    let mut total = 0.0f32;
    for (b, w) in best.iter().zip(weights) {
        let w = w.max(0.0);
        sum += w * b.map_or(0.0, |(_, c)| met(c, bounds));
        total += w;
    }
    if total <= 0.0 {
        return None;
    }
    Some((100.0 * sum / total).round().clamp(0.0, 100.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn mapping_is_linear_between_floor_and_ceiling() {
        let b = Bounds::TRANSFORMER;
        assert_eq!(met(0.1, b), 0.0);
        assert_eq!(met(b.floor, b), 0.0);
        assert!((met(0.45, b) - 0.5).abs() < 1e-6);
        assert_eq!(met(b.ceiling, b), 1.0);
        assert_eq!(met(0.95, b), 1.0);
        assert_eq!(met(f32::NAN, b), 0.0);
    }

    #[test]
    fn best_sentence_per_requirement_weighted_mean() {
        let reqs = vec![unit(&[1.0, 0.0]), unit(&[0.0, 1.0])];
        // One sentence matches the first requirement exactly, none the second.
        let resume = vec![unit(&[1.0, 0.0]), unit(&[1.0, -0.2])];
        let best = best_matches(&reqs, &resume);
        assert_eq!(best[0].map(|(i, _)| i), Some(0));
        assert_eq!(
            value(&reqs, &[1.0, 1.0], &resume, Bounds::TRANSFORMER),
            Some(50)
        );
        // Weights: the met requirement counts twice.
        assert_eq!(
            value(&reqs, &[1.0, 0.5], &resume, Bounds::TRANSFORMER),
            Some(67)
        );
        assert_eq!(value(&reqs, &[1.0, 1.0], &[], Bounds::TRANSFORMER), Some(0));
        assert_eq!(value(&[], &[], &resume, Bounds::TRANSFORMER), None);
        assert_eq!(
            value(&reqs, &[0.0, 0.0], &resume, Bounds::TRANSFORMER),
            None
        );
    }
}
