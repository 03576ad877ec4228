//! The Workable sandbox (being built).

use axum::Router;

use crate::sandbox::{SandboxCredentials, SandboxOptions};

/// Builds the router and the credentials it accepts.
pub fn router(_opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let creds = SandboxCredentials {
        secret: Default::default(),
        base_url: base_url.trim_end_matches('/').to_string(),
        token_url: None,
        subdomain: None,
        sub: None,
    };
    (Router::new(), creds)
}
