//! Workable SPI v3 (account API token, Bearer): client and mapping to the
//! common model. Jobs are keyed by their shortcode.

pub mod client;
pub mod mapping;
pub mod webhooks;

pub use client::WorkableClient;

use std::sync::Arc;

use crate::api::AuthSpec;
use crate::vendors::{
    AtsClient, ConnectionConfig, CredentialSpec, CredentialStore, VendorError, WriteCapabilities,
};

/// Comments, the custom attribute, band tags.
pub const WRITES: WriteCapabilities = WriteCapabilities {
    note: true,
    custom_field: true,
    band_tag: true,
};

/// The account API token (Bearer).
pub fn credentials(auth: &AuthSpec) -> CredentialSpec {
    CredentialSpec::required(vec![("apiKey", auth.api_key_key().to_string())])
}

/// Builds the client. Account tokens do not rotate, so `_store` is unused.
pub fn connect(
    cfg: &ConnectionConfig,
    _store: Arc<dyn CredentialStore>,
) -> Result<Arc<dyn AtsClient>, VendorError> {
    Ok(Arc::new(WorkableClient::new(cfg)?))
}
