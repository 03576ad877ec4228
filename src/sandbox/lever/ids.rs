//! Lever ids are UUIDs. The sandbox derives them from the generated tenant's
//! u64 ids so that the same seed always yields the same ids, and so an id
//! from a request can be turned back into the u64 without a lookup table.
//!
//! Layout (version 4, RFC 4122 variant, as Lever's own ids are): 64 bits of
//! an invertible mix of the id sit in bytes 0..6 and 10..12; the rest is a
//! hash of (kind, id), so ids of different kinds never parse as each other.

use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Opportunity = 1,
    Application = 2,
    Contact = 3,
    Posting = 4,
    User = 5,
    Resume = 6,
    Note = 7,
    Stage = 8,
    ArchiveReason = 9,
    /// Positions in the deleted-opportunities list (paging only).
    Deletion = 10,
    Interview = 11,
    Panel = 12,
    Feedback = 13,
    FeedbackTemplate = 14,
    Offer = 15,
}

impl Kind {
    fn salt(self) -> u64 {
        (self as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

const C1: u64 = 0xff51_afd7_ed55_8ccd;
const C2: u64 = 0xc4ce_b9fe_1a85_ec53;
const C1_INV: u64 = mul_inverse(C1);
const C2_INV: u64 = mul_inverse(C2);

/// The inverse of an odd number modulo 2^64 (Newton's iteration).
const fn mul_inverse(c: u64) -> u64 {
    let mut x = c;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(x)));
        i += 1;
    }
    x
}

/// MurmurHash3's 64-bit finalizer: a bijection that scatters nearby ids.
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(C1);
    x ^= x >> 33;
    x = x.wrapping_mul(C2);
    x ^ (x >> 33)
}

fn unmix(mut x: u64) -> u64 {
    // x ^= x >> 33 is its own inverse (the shift exceeds half the width).
    x ^= x >> 33;
    x = x.wrapping_mul(C2_INV);
    x ^= x >> 33;
    x = x.wrapping_mul(C1_INV);
    x ^ (x >> 33)
}

/// A stable pseudo-random number for (kind, id), for deterministic choices.
pub fn hash(kind: Kind, id: u64) -> u64 {
    mix(mix(id ^ kind.salt()) ^ 0x5bd1_e995)
}

pub fn uuid(kind: Kind, id: u64) -> String {
    let m = mix(id ^ kind.salt()).to_be_bytes();
    let mut h = Sha256::new();
    h.update([kind as u8]);
    h.update(id.to_be_bytes());
    let f = h.finalize();
    let b: [u8; 16] = [
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5],
        0x40 | (f[0] & 0x0f),
        f[1],
        0x80 | (f[2] & 0x3f),
        f[3],
        m[6],
        m[7],
        f[4],
        f[5],
        f[6],
        f[7],
    ];
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Whether `s` has the shape of a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(s: &str) -> bool {
    let s = s.trim();
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The u64 behind an id this sandbox issued for `kind`; `None` otherwise.
pub fn parse(kind: Kind, s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    if s.len() != 36 {
        return None;
    }
    let compact: String = s.split('-').collect();
    let b = hex::decode(&compact).ok()?;
    if b.len() != 16 {
        return None;
    }
    let mut m = [0u8; 8];
    m[..6].copy_from_slice(&b[..6]);
    m[6..].copy_from_slice(&b[10..12]);
    let id = unmix(u64::from_be_bytes(m)) ^ kind.salt();
    (uuid(kind, id) == s).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for id in [0, 1, 4_017, 90_000_123, 50_000_001, u64::MAX] {
            assert_eq!(unmix(mix(id)), id);
            let u = uuid(Kind::Opportunity, id);
            assert_eq!(u.len(), 36);
            assert_eq!(&u[14..15], "4");
            assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
            assert_eq!(parse(Kind::Opportunity, &u), Some(id));
            assert_eq!(parse(Kind::Opportunity, &u.to_uppercase()), Some(id));
            assert_eq!(parse(Kind::Application, &u), None);
        }
        assert_ne!(
            uuid(Kind::Opportunity, 90_000_001),
            uuid(Kind::Application, 90_000_001)
        );
        assert_eq!(parse(Kind::Posting, "not-a-uuid"), None);
        assert!(is_uuid("90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017"));
        assert!(!is_uuid("90bb80d6-db1b-4ba8-9d4f-8bcb25b6c01"));
        assert!(!is_uuid("90bb80d6xdb1b-4ba8-9d4f-8bcb25b6c017"));
        assert_eq!(
            parse(Kind::Posting, "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017"),
            None
        );
    }
}
