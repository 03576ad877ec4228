//! The vendors' webhook requests, byte for byte: envelope, signature and
//! headers. Pure: the sender only posts what these build, and a retry posts
//! the same bytes again.

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::VendorKind;

/// One delivery, ready to post (and to post again, unchanged, on retry).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub vendor: VendorKind,
    pub event: String,
    /// Greenhouse `Greenhouse-Event-ID`, Lever the body's `token`, Workable
    /// the sha256 of the body (it sends no id).
    pub delivery_id: String,
    pub subscription: String,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// Who a delivery goes to and what it carries.
pub struct Target<'a> {
    pub subscription: &'a str,
    pub url: &'a str,
    /// The signing key: Greenhouse's secret key, Lever's `signatureToken`,
    /// Workable's account token.
    pub key: &'a str,
}

/// Lowercase hex HMAC-SHA256 of `msg` under `key`.
pub fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg);
            hex::encode(m.finalize().into_bytes())
        }
        // HMAC takes keys of any length: unreachable.
        Err(_) => String::new(),
    }
}

/// `n` random lowercase hex characters (`n` even), as Lever's tokens.
pub fn random_hex(n: usize) -> String {
    let bytes: Vec<u8> = (0..n / 2).map(|_| rand::random::<u8>()).collect();
    hex::encode(bytes)
}

/// Greenhouse serializes with Rails' JSON escaping: `<`, `>` and `&` become
/// `\u003c`, `\u003e`, `\u0026` before signing, so a receiver that
/// re-serializes instead of verifying the raw bytes fails, as with the real
/// Greenhouse. Outside strings JSON has none of these characters.
fn rails_escape(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `{"action", "payload"}`, `Signature: sha256 <hex>`, `Greenhouse-Event-ID`.
pub fn greenhouse(t: &Target<'_>, action: &str, payload: Value, event_id: &str) -> Prepared {
    let body = rails_escape(&json!({"action": action, "payload": payload}).to_string());
    let signature = hmac_hex(t.key.as_bytes(), body.as_bytes());
    Prepared {
        vendor: VendorKind::Greenhouse,
        event: action.to_string(),
        delivery_id: event_id.to_string(),
        subscription: t.subscription.to_string(),
        url: t.url.to_string(),
        headers: vec![
            ("content-type", "application/json".into()),
            ("signature", format!("sha256 {signature}")),
            ("greenhouse-event-id", event_id.to_string()),
            // Not documented verbatim; a receiver must not depend on it.
            ("user-agent", "Greenhouse-Webhooks".into()),
        ],
        body: Bytes::from(body),
    }
}

/// `{"triggeredAt", "event", "data", "signature", "token"}` with `signature`
/// = hex HMAC-SHA256(signatureToken, token + triggeredAt): it covers neither
/// the event nor the data, as with the real Lever.
pub fn lever(
    t: &Target<'_>,
    event: &str,
    data: Value,
    triggered_at_ms: i64,
    token: &str,
) -> Prepared {
    let signature = hmac_hex(
        t.key.as_bytes(),
        format!("{token}{triggered_at_ms}").as_bytes(),
    );
    let body = json!({
        "triggeredAt": triggered_at_ms,
        "event": event,
        "data": data,
        "signature": signature,
        "token": token,
    })
    .to_string();
    Prepared {
        vendor: VendorKind::Lever,
        event: event.to_string(),
        delivery_id: token.to_string(),
        subscription: t.subscription.to_string(),
        url: t.url.to_string(),
        headers: vec![
            ("content-type", "application/json".into()),
            ("user-agent", "Lever-Webhooks".into()),
        ],
        body: Bytes::from(body),
    }
}

/// `{"event_type", "data"}` with `X-Workable-Signature` = hex
/// HMAC-SHA256(account token, body). No id and no timestamp.
pub fn workable(t: &Target<'_>, event: &str, data: Value) -> Prepared {
    let body = json!({"event_type": event, "data": data}).to_string();
    let signature = hmac_hex(t.key.as_bytes(), body.as_bytes());
    Prepared {
        vendor: VendorKind::Workable,
        event: event.to_string(),
        delivery_id: hex::encode(Sha256::digest(body.as_bytes())),
        subscription: t.subscription.to_string(),
        url: t.url.to_string(),
        headers: vec![
            ("content-type", "application/json".into()),
            ("x-workable-signature", signature),
        ],
        body: Bytes::from(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Target<'static> {
        Target {
            subscription: "1",
            url: "http://127.0.0.1:1/h",
            key: "secret",
        }
    }

    fn header<'a>(p: &'a Prepared, name: &str) -> &'a str {
        p.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    #[test]
    fn greenhouse_signs_the_escaped_body() {
        let p = greenhouse(
            &t(),
            "candidate_stage_change",
            json!({"note": "<p>a & b</p>"}),
            "ev-1",
        );
        let body = std::str::from_utf8(&p.body).unwrap();
        assert!(
            body.contains("\\u003cp\\u003ea \\u0026 b\\u003c/p\\u003e"),
            "{body}"
        );
        assert_eq!(
            header(&p, "signature"),
            format!("sha256 {}", hmac_hex(b"secret", body.as_bytes()))
        );
        assert_eq!(header(&p, "greenhouse-event-id"), "ev-1");
        let v: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(v["payload"]["note"], "<p>a & b</p>");
    }

    #[test]
    fn lever_signs_token_and_time_only() {
        let p = lever(
            &t(),
            "candidateStageChange",
            json!({"opportunityId": "o"}),
            1431454330072,
            "tok",
        );
        let v: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(v["signature"], hmac_hex(b"secret", b"tok1431454330072"));
        assert_eq!(v["triggeredAt"], 1431454330072_i64);
        assert_eq!(header(&p, "user-agent"), "Lever-Webhooks");
        assert_eq!(p.delivery_id, "tok");
        assert_eq!(random_hex(48).len(), 48);
    }

    #[test]
    fn workable_signs_the_body() {
        let p = workable(&t(), "candidate_moved", json!({"id": "2000abcd"}));
        assert_eq!(
            header(&p, "x-workable-signature"),
            hmac_hex(b"secret", &p.body)
        );
        assert_eq!(p.delivery_id.len(), 64);
    }
}
