//! Workable's ids: lowercase hex ascending with creation (candidates,
//! jobs), and 10-character uppercase job shortcodes.

/// Candidate id = application id + this, as 8 lowercase hex digits: fixed
/// width, so string order is creation order (as Workable's ids sort).
pub(super) const CANDIDATE_ID_BASE: u64 = 0x2000_0000;
/// Job ids: 6 hex digits, by creation rank.
pub(super) const JOB_ID_BASE: u64 = 0x5b_0000;
pub(super) const JOB_ID_STEP: u64 = 0x25;

/// A 10-character uppercase hex shortcode. Multiplying by an odd constant and
/// adding one are bijections modulo 2^40, so distinct jobs never collide.
pub(super) fn shortcode(seed: u64, job_id: u64) -> String {
    const MASK: u64 = (1 << 40) - 1;
    let salt = seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | (1 << 39);
    let x = job_id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt)
        & MASK;
    format!("{x:010X}")
}

pub(super) fn candidate_num(app_id: u64) -> u64 {
    app_id + CANDIDATE_ID_BASE
}

pub(super) fn candidate_hex(app_id: u64) -> String {
    format!("{:08x}", candidate_num(app_id))
}

/// The application id behind a candidate id, if it is one this sandbox issues.
pub(super) fn parse_candidate_id(s: &str) -> Option<u64> {
    if s.len() != 8
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u64::from_str_radix(s, 16)
        .ok()?
        .checked_sub(CANDIDATE_ID_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_ids_are_fixed_width_hex() {
        let ids = [90_000_001u64, 90_000_015, 92_345_678, 1_000_000_000];
        let hex: Vec<String> = ids.iter().map(|i| candidate_hex(*i)).collect();
        assert!(hex.iter().all(|h| h.len() == 8));
        let mut sorted = hex.clone();
        sorted.sort();
        assert_eq!(sorted, hex);
        for (h, i) in hex.iter().zip(ids) {
            assert_eq!(parse_candidate_id(h), Some(i));
        }
        assert_eq!(parse_candidate_id("2000000G"), None);
        // Upper-case hex is not an id this sandbox issues.
        assert_eq!(parse_candidate_id("255D4A80"), None);
        assert_eq!(parse_candidate_id("1fffffff"), None);
    }

    #[test]
    fn shortcodes_are_unique_uppercase_hex() {
        let codes: std::collections::HashSet<String> =
            (4_000..6_000).map(|id| shortcode(42, id)).collect();
        assert_eq!(codes.len(), 2_000);
        assert!(codes.iter().all(|c| {
            c.len() == 10
                && c.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        }));
        assert_eq!(shortcode(42, 4_001), shortcode(42, 4_001));
        assert_ne!(shortcode(42, 4_001), shortcode(43, 4_001));
    }
}
