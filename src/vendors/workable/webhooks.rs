//! Workable webhook subscriptions through `/spi/v3/subscriptions`. Workable
//! signs deliveries with the account token (or the OAuth client secret) the
//! connection already holds, so registrations carry no token and existing
//! ones are adopted (see [`crate::vendors::webhooks::plan`]).

use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{Instrument, info_span};

use super::client::WorkableClient;
use crate::vendors::VendorError;
use crate::vendors::http::decode;
use crate::vendors::webhooks::{WORKABLE_EVENTS, WebhookRegistration, plan};

#[derive(Debug, Deserialize)]
struct WkSubscriptions {
    #[serde(default)]
    subscriptions: Vec<WkSubscription>,
}

#[derive(Debug, Deserialize)]
struct WkSubscription {
    id: Value,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    target: Option<String>,
}

/// Ids are numbers; text is accepted too.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

impl WkSubscription {
    fn registration(self) -> Option<WebhookRegistration> {
        Some(WebhookRegistration {
            id: id_text(&self.id)?,
            event: self.event.unwrap_or_default(),
            url: self.target.unwrap_or_default(),
            signing_token: None,
        })
    }
}

impl WorkableClient {
    pub(super) async fn subscriptions(&self) -> Result<Vec<WebhookRegistration>, VendorError> {
        let url = self.url(&["subscriptions"], &[])?;
        let list: WkSubscriptions = self.http.get_json(&url).await?;
        Ok(list
            .subscriptions
            .into_iter()
            .filter_map(WkSubscription::registration)
            .collect())
    }

    async fn subscribe(
        &self,
        target: &str,
        event: &str,
    ) -> Result<WebhookRegistration, VendorError> {
        let url = self.url(&["subscriptions"], &[])?;
        let body = json!({"target": target, "event": event});
        let resp = match self
            .http
            .send_with(|| self.http.client().post(url.clone()).json(&body), false)
            .await
        {
            Ok(r) => r,
            // Created meanwhile (another replica, or a lost answer): adopt it.
            Err(VendorError::Rejected { status: 409, .. }) => {
                return self
                    .subscriptions()
                    .await?
                    .into_iter()
                    .find(|s| s.url.trim() == target && s.event == event)
                    .ok_or_else(|| {
                        VendorError::Decode(
                            "/spi/v3/subscriptions: 409 for a subscription it does not list".into(),
                        )
                    });
            }
            Err(e) => return Err(e),
        };
        let v: Value = decode(resp).await?;
        let id = v
            .get("id")
            .and_then(id_text)
            .ok_or_else(|| VendorError::Decode("/spi/v3/subscriptions: no id".into()))?;
        Ok(WebhookRegistration {
            id,
            event: event.to_string(),
            url: target.to_string(),
            signing_token: None,
        })
    }

    pub(super) async fn unsubscribe(&self, ids: &[String]) -> Result<(), VendorError> {
        let urls = ids
            .iter()
            .map(|id| self.url(&["subscriptions", id], &[]))
            .collect::<Result<Vec<_>, _>>()?;
        self.http.delete_each(&urls).await
    }

    pub(super) async fn register(
        &self,
        target: &str,
        known: &[WebhookRegistration],
    ) -> Result<Vec<WebhookRegistration>, VendorError> {
        let span = info_span!("workable_register_webhooks");
        async move {
            let target = target.trim();
            let existing = self.subscriptions().await?;
            let p = plan(&existing, known, target, &WORKABLE_EVENTS, false);
            self.unsubscribe(&p.delete).await?;
            let mut out = p.keep;
            for event in &p.create {
                out.push(self.subscribe(target, event).await?);
            }
            Ok(out)
        }
        .instrument(span)
        .await
    }
}
