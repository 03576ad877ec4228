//! Signature checks on the raw body bytes, before anything is parsed or
//! stored. Pure and constant-time: the MAC comparison is `Mac::verify_slice`
//! (the `subtle` crate underneath), and every key of a connection is tried
//! without stopping at the first match, so the time does not say which key
//! matched. A connection may hold several keys (Lever issues one
//! `signatureToken` per registered webhook; a rotation overlaps old and new):
//! a delivery is genuine if any of them matches.
//!
//! A received signature that is not hex is a bad signature, never a parse
//! error: nothing about an unauthenticated request decides more than 401.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Refusal;
use crate::vendors::SecretValue;

type HmacSha256 = Hmac<Sha256>;

/// The Lever window, either side of now: a `triggeredAt` further away is
/// [`Refusal::Stale`]. Lever signs only `token + triggeredAt`, so the window
/// bounds how long a captured signature stays usable.
pub const LEVER_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// Whether `signature_hex` is the HMAC-SHA256 of the concatenated `message`
/// parts under any of `keys`.
fn any_key_matches(keys: &[SecretValue], message: &[&[u8]], signature_hex: &str) -> bool {
    let Ok(received) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    // `|` rather than `any`: every key is tried whatever the outcome.
    keys.iter().fold(false, |matched, key| {
        let Ok(mut mac) = HmacSha256::new_from_slice(key.expose().as_bytes()) else {
            return matched;
        };
        for part in message {
            mac.update(part);
        }
        matched | mac.verify_slice(&received).is_ok()
    })
}

/// Greenhouse: `Signature: sha256 <hex HMAC-SHA256(secret, body)>`. The hex
/// may be upper or lower case and surrounded by whitespace; the algorithm
/// must be exactly `sha256` (an unknown algorithm is a bad signature, never
/// a downgrade).
pub fn greenhouse(
    keys: &[SecretValue],
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), Refusal> {
    let header = signature
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(Refusal::MissingSignature)?;
    let (scheme, hex_part) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or(Refusal::BadSignature)?;
    if scheme != "sha256" || !any_key_matches(keys, &[body], hex_part) {
        return Err(Refusal::BadSignature);
    }
    Ok(())
}

/// Workable: `X-Workable-Signature: <hex HMAC-SHA256(key, body)>`, the key
/// being the account API token or the OAuth client secret.
pub fn workable(keys: &[SecretValue], signature: Option<&str>, body: &[u8]) -> Result<(), Refusal> {
    let header = signature
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(Refusal::MissingSignature)?;
    if any_key_matches(keys, &[body], header) {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

/// The signed fields of a Lever body. Lever signs `token + triggeredAt`
/// (decimal milliseconds, string concatenation), not the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeverSigned {
    pub token: String,
    /// Milliseconds since the epoch, as sent.
    pub triggered_at: u64,
    pub signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeverSignedBody {
    token: Option<String>,
    triggered_at: Option<Millis>,
    signature: Option<String>,
}

/// `triggeredAt` as Lever sends it (a JSON integer); a string of digits is
/// accepted too. Either way it is re-rendered in decimal for the signature,
/// which is what Lever signs (`token + triggeredAt` in JavaScript).
pub(super) struct Millis(pub(super) u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("integer milliseconds")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Millis, E> {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom("not decimal milliseconds"));
                }
                v.parse().map(Millis).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads the signed fields of a Lever body. Not JSON, or no `token` or
/// `triggeredAt`: [`Refusal::Malformed`] (Lever always sends both); no
/// `signature` is left to [`lever`] (401).
pub fn lever_signed(body: &[u8]) -> Result<LeverSigned, Refusal> {
    let b: LeverSignedBody = serde_json::from_slice(body).map_err(|_| Refusal::Malformed)?;
    match (b.token, b.triggered_at) {
        (Some(token), Some(Millis(triggered_at))) if !token.is_empty() => Ok(LeverSigned {
            token,
            triggered_at,
            signature: b.signature,
        }),
        _ => Err(Refusal::Malformed),
    }
}

/// Lever: `signature` = hex HMAC-SHA256(signatureToken, token + triggeredAt).
pub fn lever(keys: &[SecretValue], signed: &LeverSigned) -> Result<(), Refusal> {
    let signature = signed
        .signature
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(Refusal::MissingSignature)?;
    let millis = signed.triggered_at.to_string();
    if any_key_matches(
        keys,
        &[signed.token.as_bytes(), millis.as_bytes()],
        signature,
    ) {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

/// A Lever `triggeredAt` (ms) more than `window` before or after `now` is
/// [`Refusal::Stale`]: too old is a possible replay of a captured delivery,
/// far future a clock that cannot be trusted to order events.
pub fn lever_fresh(
    triggered_at: u64,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Result<(), Refusal> {
    let at = i64::try_from(triggered_at)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or(Refusal::Stale)?;
    if now.signed_duration_since(at).abs() > window {
        return Err(Refusal::Stale);
    }
    Ok(())
}

/// The lowercase hex sha256 of a body: the ledger's `body_sha256`, and
/// Workable's delivery id.
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// A delivery id seen before, judged by its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// Never seen: accept.
    New,
    /// Seen with the same body: the vendor's retry, a duplicate (202).
    Retry,
    /// Seen with another body: a Lever token reused on a forged body (401).
    Replayed,
}

/// What a delivery id's stored body hash (if the id was seen) says about this
/// delivery. The ledger and [`SeenTokens`] both judge by it.
pub fn replay_verdict(stored_body_sha: Option<&str>, this_body_sha: &str) -> ReplayVerdict {
    match stored_body_sha {
        None => ReplayVerdict::New,
        Some(stored) if stored.eq_ignore_ascii_case(this_body_sha) => ReplayVerdict::Retry,
        Some(_) => ReplayVerdict::Replayed,
    }
}

/// Recently accepted Lever tokens and their body hashes, per connection, in
/// a bounded LRU: a replayed token is refused without a ledger round trip.
/// The ledger stays the authority (a token evicted here is still caught
/// there); tokens older than the window are refused as stale anyway, so the
/// capacity only needs to cover the window's deliveries.
pub struct SeenTokens {
    /// Keyed by a digest of (namespace, connection, token): a fixed 32 bytes
    /// per entry whatever the names, so the capacity bounds the memory.
    seen: Mutex<LruCache<[u8; 32], String>>,
}

impl SeenTokens {
    pub fn new(capacity: NonZeroUsize) -> Self {
        SeenTokens {
            seen: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn key(namespace: &str, connection: &str, token: &str) -> [u8; 32] {
        // NUL cannot occur in Kubernetes names: the parts cannot run together.
        Sha256::new()
            .chain_update(namespace)
            .chain_update([0])
            .chain_update(connection)
            .chain_update([0])
            .chain_update(token)
            .finalize()
            .into()
    }

    /// The verdict for `token` of `namespace/connection` with this body.
    pub fn verdict(
        &self,
        namespace: &str,
        connection: &str,
        token: &str,
        body_sha: &str,
    ) -> ReplayVerdict {
        let key = Self::key(namespace, connection, token);
        let Ok(mut seen) = self.seen.lock() else {
            // A poisoned cache only loses the shortcut: the ledger decides.
            return ReplayVerdict::New;
        };
        replay_verdict(seen.get(&key).map(String::as_str), body_sha)
    }

    /// Remembers an accepted token (only once the ledger holds it: a refused
    /// delivery's retry must reach the ledger again).
    pub fn remember(&self, namespace: &str, connection: &str, token: &str, body_sha: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.put(Self::key(namespace, connection, token), body_sha.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[&str]) -> Vec<SecretValue> {
        ks.iter().map(|k| SecretValue::new(*k)).collect()
    }

    // Vectors computed independently with Python 3:
    //   hmac.new(key.encode(), msg.encode(), hashlib.sha256).hexdigest()
    const GH_BODY: &str = r#"{"action":"ping","payload":{"web_hook_id":1}}"#;
    /// key "gh-secret", msg GH_BODY
    const GH_SIG: &str = "7d60a072b8293749defa2b6368c49f9dbf6a24eda4c82c7d7661b2a6a9939337";
    /// key "lever-signature-token", msg
    /// "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154" + "1431454330072"
    /// (the token and triggeredAt of Lever's documented example)
    const LEVER_SIG: &str = "4fa6d7241600d63e33c7b16fbdd62ca16e5530e82dc85da4155c94444451e0b9";
    const LEVER_TOKEN: &str = "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154";
    const WK_BODY: &str = r#"{"event_type":"candidate_created","data":{"id":"27273038"}}"#;
    /// key "workable-api-token", msg WK_BODY
    const WK_SIG: &str = "415f329fef82b5bc96203f667ed958de8f074dd7fb63c7bf43c017aff9eb0aae";
    /// hashlib.sha256(WK_BODY.encode()).hexdigest()
    const WK_SHA: &str = "046b61793b87a9ea3e776cbf818eb2a967da274f09a5e0e50386b0c8dfd5d852";

    #[test]
    fn greenhouse_accepts_the_documented_header_format() {
        let k = keys(&["gh-secret"]);
        let header = format!("sha256 {GH_SIG}");
        assert_eq!(greenhouse(&k, Some(&header), GH_BODY.as_bytes()), Ok(()));
        // Upper-case hex, extra whitespace around and between.
        let loose = format!("  sha256   {}\t", GH_SIG.to_uppercase());
        assert_eq!(greenhouse(&k, Some(&loose), GH_BODY.as_bytes()), Ok(()));
    }

    #[test]
    fn greenhouse_refuses_missing_bad_and_other_algorithms() {
        let k = keys(&["gh-secret"]);
        let body = GH_BODY.as_bytes();
        assert_eq!(greenhouse(&k, None, body), Err(Refusal::MissingSignature));
        assert_eq!(
            greenhouse(&k, Some("  "), body),
            Err(Refusal::MissingSignature)
        );
        for h in [
            format!("sha1 {GH_SIG}"),
            format!("SHA256 {GH_SIG}"),
            format!("sha256={GH_SIG}"),
            GH_SIG.to_string(),
            "sha256 not-hex".to_string(),
            format!("sha256 {}", &GH_SIG[..62]),
            format!("sha256 {GH_SIG}00"),
            // The documented example header: right format, not our key/body.
            "sha256 37d2725109df92747ffcee59833a1d1262d74b9703fa1234c789407218b4a4ef".into(),
        ] {
            assert_eq!(
                greenhouse(&k, Some(&h), body),
                Err(Refusal::BadSignature),
                "{h}"
            );
        }
        // A body changed by one byte.
        let header = format!("sha256 {GH_SIG}");
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            greenhouse(&k, Some(&header), &tampered),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            greenhouse(&[], Some(&header), body),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn any_of_several_keys_verifies() {
        let header = format!("sha256 {GH_SIG}");
        let k = keys(&["old", "gh-secret", "newer"]);
        assert_eq!(greenhouse(&k, Some(&header), GH_BODY.as_bytes()), Ok(()));
        let k = keys(&["old", "newer"]);
        assert_eq!(
            greenhouse(&k, Some(&header), GH_BODY.as_bytes()),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn lever_signs_token_and_triggered_at() {
        let body = format!(
            r#"{{"triggeredAt":1431454330072,"event":"candidateStageChange","data":{{}},"signature":"{LEVER_SIG}","token":"{LEVER_TOKEN}"}}"#
        );
        let signed = lever_signed(body.as_bytes()).unwrap();
        assert_eq!(signed.triggered_at, 1431454330072);
        assert_eq!(
            lever(&keys(&["x", "lever-signature-token"]), &signed),
            Ok(())
        );
        assert_eq!(lever(&keys(&["x"]), &signed), Err(Refusal::BadSignature));
        // The same token with another triggeredAt: the signature no longer fits.
        let moved = LeverSigned {
            triggered_at: 1431454330073,
            ..signed.clone()
        };
        assert_eq!(
            lever(&keys(&["lever-signature-token"]), &moved),
            Err(Refusal::BadSignature)
        );
        let unsigned = LeverSigned {
            signature: None,
            ..signed.clone()
        };
        assert_eq!(
            lever(&keys(&["lever-signature-token"]), &unsigned),
            Err(Refusal::MissingSignature)
        );
        let not_hex = LeverSigned {
            signature: Some("zz".into()),
            ..signed
        };
        assert_eq!(
            lever(&keys(&["lever-signature-token"]), &not_hex),
            Err(Refusal::BadSignature)
        );
        // triggeredAt as a string of digits is the same message.
        let as_string = format!(
            r#"{{"triggeredAt":"1431454330072","signature":"{LEVER_SIG}","token":"{LEVER_TOKEN}"}}"#
        );
        let s = lever_signed(as_string.as_bytes()).unwrap();
        assert_eq!(lever(&keys(&["lever-signature-token"]), &s), Ok(()));
    }

    #[test]
    fn lever_fields_are_required() {
        for body in [
            "",
            "[]",
            "{}",
            r#"{"token":"t"}"#,
            r#"{"triggeredAt":1}"#,
            r#"{"token":"","triggeredAt":1}"#,
            r#"{"token":"t","triggeredAt":-1}"#,
            r#"{"token":"t","triggeredAt":1.5}"#,
            r#"{"token":"t","triggeredAt":"12a"}"#,
            r#"{"token":"t","triggeredAt":99999999999999999999999}"#,
        ] {
            assert_eq!(
                lever_signed(body.as_bytes()),
                Err(Refusal::Malformed),
                "{body}"
            );
        }
    }

    #[test]
    fn lever_window_is_both_sides_of_now() {
        let now = DateTime::from_timestamp_millis(1_800_000_000_000).unwrap();
        let ms = |d: i64| (1_800_000_000_000i64 + d) as u64;
        assert_eq!(lever_fresh(ms(0), now, LEVER_WINDOW), Ok(()));
        assert_eq!(lever_fresh(ms(-300_000), now, LEVER_WINDOW), Ok(()));
        assert_eq!(lever_fresh(ms(300_000), now, LEVER_WINDOW), Ok(()));
        assert_eq!(
            lever_fresh(ms(-300_001), now, LEVER_WINDOW),
            Err(Refusal::Stale)
        );
        assert_eq!(
            lever_fresh(ms(300_001), now, LEVER_WINDOW),
            Err(Refusal::Stale)
        );
        assert_eq!(lever_fresh(0, now, LEVER_WINDOW), Err(Refusal::Stale));
        assert_eq!(
            lever_fresh(u64::MAX, now, LEVER_WINDOW),
            Err(Refusal::Stale)
        );
        assert_eq!(
            lever_fresh(i64::MAX as u64, now, LEVER_WINDOW),
            Err(Refusal::Stale)
        );
    }

    #[test]
    fn workable_signs_the_body() {
        let k = keys(&["workable-api-token"]);
        assert_eq!(workable(&k, Some(WK_SIG), WK_BODY.as_bytes()), Ok(()));
        assert_eq!(
            workable(&k, Some(&format!(" {WK_SIG} ")), WK_BODY.as_bytes()),
            Ok(())
        );
        assert_eq!(
            workable(&k, None, WK_BODY.as_bytes()),
            Err(Refusal::MissingSignature)
        );
        assert_eq!(
            workable(&k, Some(GH_SIG), WK_BODY.as_bytes()),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            workable(&k, Some("sha256 x"), WK_BODY.as_bytes()),
            Err(Refusal::BadSignature)
        );
        assert_eq!(body_sha256(WK_BODY.as_bytes()), WK_SHA);
    }

    #[test]
    fn replays_are_judged_by_the_body() {
        assert_eq!(replay_verdict(None, WK_SHA), ReplayVerdict::New);
        assert_eq!(replay_verdict(Some(WK_SHA), WK_SHA), ReplayVerdict::Retry);
        assert_eq!(
            replay_verdict(Some(&WK_SHA.to_uppercase()), WK_SHA),
            ReplayVerdict::Retry
        );
        assert_eq!(
            replay_verdict(Some(GH_SIG), WK_SHA),
            ReplayVerdict::Replayed
        );
    }

    #[test]
    fn seen_tokens_are_per_connection_and_bounded() {
        let seen = SeenTokens::new(NonZeroUsize::new(2).unwrap());
        assert_eq!(seen.verdict("ns", "c", "t1", "a"), ReplayVerdict::New);
        seen.remember("ns", "c", "t1", "a");
        assert_eq!(seen.verdict("ns", "c", "t1", "a"), ReplayVerdict::Retry);
        assert_eq!(seen.verdict("ns", "c", "t1", "b"), ReplayVerdict::Replayed);
        assert_eq!(seen.verdict("ns", "other", "t1", "b"), ReplayVerdict::New);
        seen.remember("ns", "c", "t2", "a");
        seen.remember("ns", "c", "t3", "a");
        // Capacity 2: t1 was evicted (the ledger still knows it).
        assert_eq!(seen.verdict("ns", "c", "t1", "b"), ReplayVerdict::New);
        assert_eq!(seen.verdict("ns", "c", "t3", "b"), ReplayVerdict::Replayed);
    }
}
