//! Workable's hooks for the shared control API. Application ids are
//! Workable candidate ids.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::errors::error;
use super::ids::{candidate_hex, parse_candidate_id};
use super::{INTEGRATION_MEMBER_ID, SUBDOMAIN, Wk};
use crate::sandbox::changes::Change;
use crate::sandbox::control::{Control, limit_json};
use crate::sandbox::data::{GenApplication, Tenant};
use crate::sandbox::errors::ApiError;
use crate::sandbox::ratelimit::Limit;
use crate::sandbox::webhooks::{Outgoing, Webhooks};

impl Control for Wk {
    const API_PREFIX: &'static str = "/spi/v3";

    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn tenant_mut(&mut self) -> &mut Tenant {
        &mut self.tenant
    }

    fn parse_id(id: &str) -> Option<u64> {
        parse_candidate_id(id)
    }

    fn public_id(id: u64) -> String {
        candidate_hex(id)
    }

    fn error(status: StatusCode, message: String) -> ApiError {
        error(status, message)
    }

    fn credentials(&self) -> Value {
        json!({
            "secret": {"apiKey": self.api_key},
            "connection": {
                "baseUrl": self.base_url,
                "tokenUrl": null,
                "subdomain": SUBDOMAIN,
                "sub": INTEGRATION_MEMBER_ID,
            },
            "api_key": self.api_key,
            "api_base_url": format!("{}/spi/v3", self.base_url),
            "member_id": INTEGRATION_MEMBER_ID,
            "subdomain": SUBDOMAIN,
        })
    }

    /// The account token has no access tokens to revoke: it stops working itself.
    fn set_revoked(&mut self, revoked: bool) {
        self.revoked = revoked;
    }

    fn rate_limit(&self) -> Value {
        limit_json(self.limiter.limit())
    }

    fn set_rate_limit(&mut self, limit: Option<Limit>) {
        self.limiter.set_limit(limit);
    }

    /// The candidates list item plus the contract's `job_id` and `job_status`.
    fn application_json(&self, a: &GenApplication) -> Value {
        let mut v = self.candidate_json(a);
        let ji = self.job_index(a.job_id);
        if let Some(o) = v.as_object_mut() {
            o.insert("job_id".into(), json!(ji.map(|i| &self.shortcodes[i])));
            o.insert(
                "job_status".into(),
                json!(ji.map(|i| self.tenant.jobs[i].state.as_str())),
            );
        }
        v
    }

    fn writes(&self, a: &GenApplication) -> Value {
        let w = self.writes.get(&a.id);
        json!({
            "notes": w.map(|w| w.comments.iter().map(|c| c.body.clone()).collect::<Vec<_>>()).unwrap_or_default(),
            "tags": w.map(|w| w.tags.clone()).unwrap_or_default(),
            "custom_fields": w.map(|w| w.attributes.clone()).unwrap_or_default(),
        })
    }

    /// Only this copy of the person changes (see [`Wk::touch_copy`]).
    fn touch(&mut self, id: u64, at: DateTime<Utc>) {
        self.touch_copy(id, at);
    }

    fn add_applications(&mut self, count: usize, at: DateTime<Utc>) -> Vec<u64> {
        let ids = self.tenant.add_applications(count, at);
        self.rebuild_origin();
        ids
    }

    /// Deleted candidates vanish from lists and their detail answers 404
    /// (Workable lists no deletions).
    fn delete(&mut self, ids: &[u64], _at: DateTime<Utc>) {
        for id in ids {
            self.tenant.delete_application(*id);
            self.writes.remove(id);
            self.frozen.remove(id);
        }
        self.rebuild_origin();
    }

    fn webhooks(&self) -> &Webhooks {
        &self.hooks
    }

    fn webhooks_mut(&mut self) -> &mut Webhooks {
        &mut self.hooks
    }

    fn events(&self, change: &Change) -> Vec<Outgoing> {
        self.hook_events(change)
    }

    fn event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        self.hook_event(name, a)
    }
}
