//! Registering the operator's webhook with vendors that have an API for it
//! (Lever `/v1/webhooks`, Workable `/spi/v3/subscriptions`; Greenhouse's are
//! set up in its UI). Registration is idempotent across a crash between
//! creating a webhook and storing its token: the client lists first and
//! [`plan`] decides what to keep, delete and create.

use crate::model::VendorKind;
use crate::vendors::{SecretValue, VendorError};

/// One webhook the vendor holds for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRegistration {
    /// The vendor's id (Lever UUID, Workable number as text).
    pub id: String,
    /// The vendor's event name.
    pub event: String,
    pub url: String,
    /// Lever's `signatureToken`: returned only when the webhook is created,
    /// so `None` in listings. Workable signs with the account token the
    /// connection already holds (or the OAuth client secret): always `None`.
    pub signing_token: Option<SecretValue>,
}

/// The events the operator registers for, per vendor.
pub const LEVER_EVENTS: [&str; 5] = [
    "applicationCreated",
    "candidateStageChange",
    "candidateArchiveChange",
    "candidateHired",
    "candidateDeleted",
];
pub const WORKABLE_EVENTS: [&str; 3] =
    ["candidate_created", "candidate_moved", "candidate_deleted"];

/// Whether the vendor has an API to register webhooks with.
pub fn has_api(vendor: VendorKind) -> bool {
    matches!(vendor, VendorKind::Lever | VendorKind::Workable)
}

/// What a vendor without such an API answers (Greenhouse).
pub fn unsupported() -> VendorError {
    VendorError::Config(
        "the vendor has no API for webhooks: configure the webhook in its settings with \
         the URL the status shows"
            .into(),
    )
}

/// What to do to reach exactly one registration per wanted event for `url`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationPlan {
    /// Registrations to adopt as they are (with the token, when known).
    pub keep: Vec<WebhookRegistration>,
    /// Ids to delete: duplicates, events no longer wanted, and (where the
    /// vendor signs with a per-webhook token) those whose token is unknown.
    pub delete: Vec<String>,
    /// Events to create a registration for.
    pub create: Vec<String>,
}

/// Pure: the plan for `url` and `events`, given what the vendor lists
/// (`existing`) and the registrations whose tokens the caller holds
/// (`known`, matched by id). With `token_needed` (Lever) a registration
/// whose token is unknown cannot be verified, so it is replaced; without
/// (Workable) it is adopted. Registrations for other URLs are left alone.
pub fn plan(
    existing: &[WebhookRegistration],
    known: &[WebhookRegistration],
    url: &str,
    events: &[&str],
    token_needed: bool,
) -> RegistrationPlan {
    let url = url.trim();
    let mut out = RegistrationPlan::default();
    for r in existing.iter().filter(|r| r.url.trim() == url) {
        let token = r.signing_token.clone().or_else(|| {
            known
                .iter()
                .find(|k| k.id == r.id)
                .and_then(|k| k.signing_token.clone())
        });
        let wanted = events.contains(&r.event.as_str());
        let taken = out.keep.iter().any(|k| k.event == r.event);
        if wanted && !taken && (token.is_some() || !token_needed) {
            out.keep.push(WebhookRegistration {
                signing_token: token,
                ..r.clone()
            });
        } else {
            out.delete.push(r.id.clone());
        }
    }
    for e in events {
        if !out.keep.iter().any(|k| k.event == *e) && !out.create.iter().any(|c| c == e) {
            out.create.push((*e).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(id: &str, event: &str, url: &str, token: Option<&str>) -> WebhookRegistration {
        WebhookRegistration {
            id: id.into(),
            event: event.into(),
            url: url.into(),
            signing_token: token.map(SecretValue::new),
        }
    }

    const URL: &str = "https://op.example.com/webhooks/ns/conn";

    #[test]
    fn nothing_registered_creates_every_event() {
        let p = plan(&[], &[], URL, &LEVER_EVENTS, true);
        assert_eq!(p.create, LEVER_EVENTS.map(String::from).to_vec());
        assert!(p.keep.is_empty() && p.delete.is_empty());
    }

    #[test]
    fn lever_replaces_what_it_cannot_verify() {
        // A crash after creating two webhooks and before storing their tokens.
        let existing = [
            reg("a", "applicationCreated", URL, None),
            reg("b", "candidateHired", URL, None),
            reg("z", "candidateHired", "https://other.example.com/x", None),
        ];
        let p = plan(&existing, &[], URL, &LEVER_EVENTS, true);
        assert_eq!(p.delete, vec!["a", "b"]);
        assert_eq!(p.create.len(), 5);
        assert!(p.keep.is_empty());
        // With the tokens stored, they are adopted (tokens taken from `known`).
        let known = [reg("a", "applicationCreated", URL, Some("tok-a"))];
        let p = plan(&existing, &known, URL, &LEVER_EVENTS, true);
        assert_eq!(p.keep.len(), 1);
        assert_eq!(p.keep[0].signing_token, Some(SecretValue::new("tok-a")));
        assert_eq!(p.delete, vec!["b"]);
        assert_eq!(p.create.len(), 4);
        assert!(!p.create.contains(&"applicationCreated".to_string()));
    }

    #[test]
    fn workable_adopts_and_drops_duplicates_and_unwanted() {
        let existing = [
            reg("1", "candidate_created", URL, None),
            reg("2", "candidate_created", URL, None),
            reg("3", "employee_created", URL, None),
            reg("4", "candidate_moved", &format!(" {URL} "), None),
        ];
        let p = plan(&existing, &[], URL, &WORKABLE_EVENTS, false);
        assert_eq!(
            p.keep.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            ["1", "4"]
        );
        assert_eq!(p.delete, vec!["2", "3"]);
        assert_eq!(p.create, vec!["candidate_deleted"]);
        // Applying the plan and planning again changes nothing.
        let after: Vec<_> = p
            .keep
            .iter()
            .cloned()
            .chain([reg("5", "candidate_deleted", URL, None)])
            .collect();
        let again = plan(&after, &[], URL, &WORKABLE_EVENTS, false);
        assert!(again.delete.is_empty() && again.create.is_empty());
        assert_eq!(again.keep.len(), 3);
        assert!(has_api(VendorKind::Lever) && !has_api(VendorKind::Greenhouse));
    }
}
