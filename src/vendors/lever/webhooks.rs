//! Lever webhooks through `/v1/webhooks`: one per event; the
//! `signatureToken` comes only with the `POST` that creates one, so a
//! registration whose token is not held is replaced (see
//! [`crate::vendors::webhooks::plan`]).

use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{Instrument, info_span};

use super::client::LeverClient;
use crate::vendors::http::decode;
use crate::vendors::webhooks::{LEVER_EVENTS, WebhookRegistration, plan};
use crate::vendors::{SecretValue, VendorError};

#[derive(Debug, Deserialize)]
struct LvWebhook {
    id: String,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    configuration: Option<LvConfiguration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LvConfiguration {
    #[serde(default)]
    signature_token: Option<String>,
}

impl LvWebhook {
    fn registration(self) -> WebhookRegistration {
        WebhookRegistration {
            id: self.id,
            event: self.event.unwrap_or_default(),
            url: self.url.unwrap_or_default(),
            signing_token: self
                .configuration
                .and_then(|c| c.signature_token)
                .filter(|t| !t.is_empty())
                .map(SecretValue::new),
        }
    }
}

/// The created webhook: recorded as `{"data": {...}}`; the docs show
/// `{"data": {"data": {...}}}`, so both are read.
fn created(v: Value) -> Result<LvWebhook, VendorError> {
    let inner = match v.get("data") {
        Some(d) if d.get("data").is_some_and(Value::is_object) => d["data"].clone(),
        Some(d) => d.clone(),
        None => v,
    };
    serde_json::from_value(inner).map_err(|e| VendorError::Decode(format!("/v1/webhooks: {e}")))
}

impl LeverClient {
    pub(super) async fn webhooks(&self) -> Result<Vec<WebhookRegistration>, VendorError> {
        let hooks: Vec<LvWebhook> = self.list(&["webhooks"], &[]).await?;
        Ok(hooks.into_iter().map(LvWebhook::registration).collect())
    }

    async fn create_webhook(
        &self,
        url: &str,
        event: &str,
    ) -> Result<WebhookRegistration, VendorError> {
        let endpoint = self.url(&["webhooks"], &[])?;
        // No conditions: every origin.
        let body = json!({"url": url, "event": event});
        // Not resent after a 5xx: it may have landed; the next registration
        // finds it and replaces it (its token is unknown).
        let resp = self
            .http
            .send_with(
                || self.http.client().post(endpoint.clone()).json(&body),
                false,
            )
            .await?;
        let hook = created(decode::<Value>(resp).await?)?.registration();
        if hook.signing_token.is_none() {
            return Err(VendorError::Decode(
                "/v1/webhooks: the created webhook has no signatureToken".into(),
            ));
        }
        Ok(hook)
    }

    pub(super) async fn delete_webhooks(&self, ids: &[String]) -> Result<(), VendorError> {
        let urls = ids
            .iter()
            .map(|id| self.url(&["webhooks", id], &[]))
            .collect::<Result<Vec<_>, _>>()?;
        self.http.delete_each(&urls).await
    }

    pub(super) async fn register(
        &self,
        url: &str,
        known: &[WebhookRegistration],
    ) -> Result<Vec<WebhookRegistration>, VendorError> {
        let span = info_span!("lever_register_webhooks");
        async move {
            let existing = self.webhooks().await?;
            let p = plan(&existing, known, url, &LEVER_EVENTS, true);
            self.delete_webhooks(&p.delete).await?;
            let mut out = p.keep;
            for event in &p.create {
                out.push(self.create_webhook(url.trim(), event).await?);
            }
            Ok(out)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_reads_both_shapes() {
        let one = json!({"data": {"id": "w1", "event": "candidateHired", "url": "u",
            "configuration": {"conditions": null, "signatureToken": "t"}}});
        let two = json!({"data": one["data"].clone()});
        let two = json!({"data": two});
        for v in [one, two] {
            let r = created(v).unwrap().registration();
            assert_eq!((r.id.as_str(), r.event.as_str()), ("w1", "candidateHired"));
            assert_eq!(r.signing_token, Some(SecretValue::new("t")));
        }
    }
}
