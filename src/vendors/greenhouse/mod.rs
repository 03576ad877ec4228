//! Greenhouse Harvest v3 (OAuth 2.0 client credentials).

pub mod sandbox;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{AtsClient, ConnectionConfig, PullScope, VendorError, WriteBackRequest};
use crate::model::ChangeSet;

/// Placeholder until the client lands.
pub struct GreenhouseClient;

impl GreenhouseClient {
    pub fn new(_cfg: &ConnectionConfig) -> Result<Self, VendorError> {
        Ok(GreenhouseClient)
    }
}

#[async_trait]
impl AtsClient for GreenhouseClient {
    async fn pull(&self, _since: Option<DateTime<Utc>>, _scope: &PullScope) -> Result<ChangeSet, VendorError> {
        Err(VendorError::Config("not implemented".into()))
    }
    async fn write_back(&self, _req: &WriteBackRequest) -> Result<(), VendorError> {
        Err(VendorError::Config("not implemented".into()))
    }
    async fn note_exists(&self, _req: &WriteBackRequest) -> Result<bool, VendorError> {
        Err(VendorError::Config("not implemented".into()))
    }
    async fn verify(&self) -> Result<(), VendorError> {
        Err(VendorError::Config("not implemented".into()))
    }
}
