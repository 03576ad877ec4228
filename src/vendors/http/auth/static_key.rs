//! A fixed API key, sent as Basic or Bearer.

use std::fmt;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderValue;

use super::{Auth, redact, sensitive};
use crate::vendors::{SecretValue, VendorError};

/// A fixed header: an API key as Basic (`key:`) or Bearer.
pub struct StaticAuth {
    header: HeaderValue,
    secret: SecretValue,
}

impl StaticAuth {
    /// `Authorization: Basic base64("<user>:<password>")`.
    pub fn basic(user: &SecretValue, password: Option<&SecretValue>) -> Result<Self, VendorError> {
        let raw = format!(
            "{}:{}",
            user.expose(),
            password.map(SecretValue::expose).unwrap_or("")
        );
        Self::with(format!("Basic {}", STANDARD.encode(raw)), user.clone())
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: &SecretValue) -> Result<Self, VendorError> {
        Self::with(format!("Bearer {}", token.expose()), token.clone())
    }

    fn with(value: String, secret: SecretValue) -> Result<Self, VendorError> {
        let header = sensitive(&value).ok_or_else(|| {
            VendorError::Config("credential contains characters not allowed in a header".into())
        })?;
        Ok(StaticAuth { header, secret })
    }
}

impl fmt::Debug for StaticAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticAuth(***)")
    }
}

#[async_trait]
impl Auth for StaticAuth {
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError> {
        Ok(Some(self.header.clone()))
    }
    async fn invalidate(&self, _rejected: Option<&HeaderValue>) -> bool {
        false
    }
    fn redact(&self, msg: &str) -> String {
        redact(msg, &[&self.secret])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_not_debug_printed() {
        let id = SecretValue::new("client-abc");
        let secret = SecretValue::new("s3cr3t-value");
        let a = StaticAuth::basic(&id, Some(&secret)).unwrap();
        assert_eq!(a.redact("bad client-abc here"), "bad *** here");
        assert!(!format!("{a:?}").contains("client-abc"));
        assert_eq!(
            a.header.to_str().unwrap(),
            format!("Basic {}", STANDARD.encode("client-abc:s3cr3t-value"))
        );
        assert!(a.header.is_sensitive());
    }
}
