//! Greenhouse Harvest v3 (OAuth 2.0 client credentials). Harvest v1/v2 were
//! switched off on 2026-08-31.

pub mod client;
pub mod demographics;
pub mod mapping;

pub use client::GreenhouseClient;

use crate::api::AuthSpec;
use crate::vendors::{CredentialSpec, WriteCapabilities};

/// A note and the custom field; band tags are not written to Greenhouse yet.
pub const WRITES: WriteCapabilities = WriteCapabilities {
    note: true,
    custom_field: true,
    band_tag: false,
};

/// OAuth client credentials.
pub fn credentials(auth: &AuthSpec) -> CredentialSpec {
    CredentialSpec::required(vec![
        ("clientId", auth.client_id_key().to_string()),
        ("clientSecret", auth.client_secret_key().to_string()),
    ])
}
