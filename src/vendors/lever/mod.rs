//! Lever API v1: client and mapping to the common model.

pub mod client;
pub mod demographics;
pub mod mapping;
pub mod webhooks;

pub use client::LeverClient;

use std::sync::Arc;

use crate::api::AuthSpec;
use crate::vendors::{
    AtsClient, ConnectionConfig, CredentialSpec, CredentialStore, VendorError, WriteCapabilities,
};

/// Notes and band tags; Lever has no custom fields on opportunities.
pub const WRITES: WriteCapabilities = WriteCapabilities {
    note: true,
    custom_field: false,
    band_tag: true,
};

/// An API key, or OAuth: client id and secret with a rotating refresh token
/// (and the last access token, which the operator caches in the Secret).
pub fn credentials(auth: &AuthSpec) -> CredentialSpec {
    CredentialSpec {
        alternatives: vec![
            vec![("apiKey", auth.api_key_key().to_string())],
            vec![
                ("clientId", auth.client_id_key().to_string()),
                ("clientSecret", auth.client_secret_key().to_string()),
                ("refreshToken", auth.refresh_token_key().to_string()),
            ],
        ],
        optional: vec![
            ("accessToken", auth.access_token_key().to_string()),
            (
                "accessTokenExpiresAt",
                auth.access_token_expires_at_key().to_string(),
            ),
        ],
        rotated: vec!["refreshToken", "accessToken", "accessTokenExpiresAt"],
    }
}

/// Builds the client; `store` keeps the rotated refresh token.
pub fn connect(
    cfg: &ConnectionConfig,
    store: Arc<dyn CredentialStore>,
) -> Result<Arc<dyn AtsClient>, VendorError> {
    Ok(Arc::new(LeverClient::new(cfg, store)?))
}
