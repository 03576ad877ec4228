//! Signed access tokens, and reading credentials from `Authorization`.

use std::fmt;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Issue serial; tokens below the current floor are void.
    pub jti: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    Expired,
    Revoked,
}

/// Issues and checks HMAC-signed JWT-like access tokens
/// (`base64url(header).base64url(claims).base64url(signature)`).
pub struct TokenAuthority {
    key: [u8; 32],
    issuer: String,
    pub ttl: Duration,
    next_serial: u64,
    /// Tokens with a serial below this are void (expire-all, revoke).
    floor: u64,
    pub revoked: bool,
}

impl fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl TokenAuthority {
    pub fn new(issuer: impl Into<String>, ttl: Duration) -> Self {
        TokenAuthority {
            key: rand::random(),
            issuer: issuer.into(),
            ttl,
            next_serial: 1,
            floor: 1,
            revoked: false,
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length; an empty signature would only
        // make every token invalid.
        match <HmacSha256 as Mac>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(msg);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Issues a token for `sub`; returns it with its expiry.
    pub fn issue(&mut self, sub: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(1));
        let exp = now + ttl;
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: sub.to_string(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            jti: self.next_serial,
        };
        self.next_serial += 1;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.sign(signing_input.as_bytes()));
        (format!("{signing_input}.{sig}"), exp)
    }

    pub fn validate(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenRejection> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejection::Malformed);
        };
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenRejection::Malformed)?;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .map_err(|_| TokenRejection::Malformed)?;
        mac.update(format!("{h}.{p}").as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| TokenRejection::Malformed)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenRejection::Malformed)?;
        if self.revoked || claims.jti < self.floor {
            return Err(if self.revoked {
                TokenRejection::Revoked
            } else {
                TokenRejection::Expired
            });
        }
        if claims.exp <= now.timestamp() {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// Every token issued so far stops working.
    pub fn expire_all(&mut self) {
        self.floor = self.next_serial;
    }

    /// Client credentials stop working and every issued token is void, also
    /// after a later [`restore`](Self::restore).
    pub fn revoke(&mut self) {
        self.revoked = true;
        self.expire_all();
    }

    pub fn restore(&mut self) {
        self.revoked = false;
    }

    /// [`revoke`](Self::revoke) or [`restore`](Self::restore).
    pub fn set_revoked(&mut self, revoked: bool) {
        if revoked {
            self.revoke();
        } else {
            self.restore();
        }
    }
}

/// A successful token response; RFC 6749 section 5.1 forbids caching it.
pub fn token_response(body: serde_json::Value) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// Decodes `Authorization: Basic base64(id:secret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(rest.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let mut a = TokenAuthority::new("sandbox", Duration::from_secs(60));
        let now = Utc::now();
        let (t, exp) = a.issue("100", now);
        assert_eq!(exp.timestamp() - now.timestamp(), 60);
        assert_eq!(a.validate(&t, now).map(|c| c.sub), Ok("100".into()));
        assert_eq!(
            a.validate(&t, now + chrono::Duration::seconds(61)),
            Err(TokenRejection::Expired)
        );
        let mut forged = t.clone();
        forged.push('x');
        assert_eq!(a.validate(&forged, now), Err(TokenRejection::Malformed));
        assert_eq!(a.validate("abc", now), Err(TokenRejection::Malformed));
        a.expire_all();
        assert_eq!(a.validate(&t, now), Err(TokenRejection::Expired));
        let (t2, _) = a.issue("100", now);
        assert!(a.validate(&t2, now).is_ok());
        a.revoke();
        assert_eq!(a.validate(&t2, now), Err(TokenRejection::Revoked));
        a.restore();
        assert_eq!(a.validate(&t2, now), Err(TokenRejection::Expired));
    }
}
