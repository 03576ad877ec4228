//! Workable: client, mapping to the common model, and the sandbox.

pub mod sandbox;

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

/// Builds the client (being built).
pub fn connect(
    _cfg: &ConnectionConfig,
    _store: Arc<dyn CredentialStore>,
) -> Result<Arc<dyn AtsClient>, VendorError> {
    Err(VendorError::Config("the Workable client is being built".into()))
}
