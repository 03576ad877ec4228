//! Signed webhooks, sent as the vendors send them, to receivers on loopback.
//!
//! Each sandbox keeps its subscriptions here ([`Webhooks`]), registered the
//! way its vendor registers them (Lever `/v1/webhooks`, Workable
//! `/spi/v3/subscriptions`, Greenhouse's UI stood in for by
//! `/_sandbox/webhooks`). A change made through the control API
//! ([`crate::sandbox::changes`]) updates the data the API serves, then the
//! vendor renders its events for it ([`Outgoing`]) and every matching active
//! subscription gets a delivery: the vendor's envelope and signature
//! ([`envelope`]), posted by a task per sandbox ([`sender`]) with the
//! vendor's retries ([`schedule`]) at a time scale
//! (`--webhook-time-scale`, `PUT /_sandbox/webhook_timing {"scale"}`).
//! Targets must be loopback ([`target`]).
//!
//! Control API (every vendor):
//!
//! | request | effect / answer |
//! |---|---|
//! | `POST /_sandbox/applications/{id}/stage` `{"stage": 0..4 or name}` | moves it (stage change event) |
//! | `POST /_sandbox/applications/{id}/reject` `{"reason": "underqualified\|withdrew\|position_filled"}` | rejects / archives it |
//! | `POST /_sandbox/applications/{id}/hire` | hires it |
//! | `POST /_sandbox/applications/{id}/delete_candidate` | deletes the candidate and all their applications |
//! | `POST /_sandbox/applications/{id}/anonymize_candidate` | erases the candidate's personal data |
//! | `POST /_sandbox/webhooks/emit` `{"event", "applicationId"}` | sends that event about the application as it is now |
//! | `GET /_sandbox/webhooks/deliveries` | `{"counts": {...}, "attempts": [{event, delivery_id, subscription_id, target, attempt, status, error, ok, at}]}`; `DELETE` clears the attempts |
//! | `PUT /_sandbox/webhook_timing` `{"scale"}`, `GET` | the time scale of retries and timeouts |
//!
//! The change endpoints answer `{"application_ids": [..], "events": n}`
//! (deliveries queued). `POST /_sandbox/applications` and `/_sandbox/delete`
//! send the new-application and deletion events too. Greenhouse adds
//! `POST /_sandbox/webhooks` `{"url", "secret", "events"?}` (pings the URL;
//! a failed ping creates it disabled), `GET /_sandbox/webhooks[/{id}]`,
//! `DELETE /_sandbox/webhooks/{id}`.

pub mod control;
pub mod envelope;
pub mod schedule;
pub mod sender;
pub mod target;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::VendorKind;
pub use envelope::Prepared;
pub use sender::{Attempt, Counts, Sender, SenderHandle};

/// Subscriptions a sandbox holds at most.
pub const MAX_SUBSCRIPTIONS: usize = 500;

/// A registered webhook.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: String,
    /// The vendor's event names it receives; empty: every event.
    pub events: Vec<String>,
    pub url: String,
    /// The signing key (never served after creation, never logged).
    pub key: String,
    pub active: bool,
    /// Filters: each attribute named must have one of the values (an empty
    /// list or `""` among them: any).
    pub conditions: Vec<(String, Vec<String>)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Subscription {
    /// Whether `out` goes to this subscription.
    pub fn wants(&self, out: &Outgoing) -> bool {
        self.active
            && (self.events.is_empty() || self.events.contains(&out.event))
            && self.conditions.iter().all(|(key, values)| {
                values.is_empty()
                    || values.iter().any(|v| v.is_empty())
                    || out
                        .attrs
                        .iter()
                        .find(|(k, _)| k == key)
                        .is_some_and(|(_, v)| values.contains(v))
            })
    }
}

/// One event, as the vendor renders it: Greenhouse the `payload`, Lever the
/// `data`, Workable the `data` of the envelope.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub event: String,
    pub data: Value,
    /// What subscription conditions test (`origin`, `job_shortcode`, `stage_slug`).
    pub attrs: Vec<(&'static str, String)>,
}

/// A sandbox's subscriptions and its sender.
pub struct Webhooks {
    vendor: VendorKind,
    pub subs: Vec<Subscription>,
    next_id: u64,
    sender: Sender,
}

impl Webhooks {
    /// Starts the sender task (needs a tokio runtime).
    pub fn new(vendor: VendorKind, opts: &crate::sandbox::SandboxOptions) -> Webhooks {
        Webhooks {
            vendor,
            subs: Vec::new(),
            next_id: 1,
            sender: Sender::start(vendor, opts.webhook_time_scale, opts.webhook_queue_cap),
        }
    }

    /// A fresh serial for ids.
    pub fn serial(&mut self) -> u64 {
        let n = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        n
    }

    pub fn add(&mut self, sub: Subscription) -> Result<(), String> {
        if self.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(format!("at most {MAX_SUBSCRIPTIONS} webhooks"));
        }
        self.subs.push(sub);
        Ok(())
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.subs.len();
        self.subs.retain(|s| s.id != id);
        self.subs.len() != before
    }

    pub fn get(&self, id: &str) -> Option<&Subscription> {
        self.subs.iter().find(|s| s.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subs.iter_mut().find(|s| s.id == id)
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// Queues `out` to every subscription that wants it; returns how many.
    pub fn deliver(&self, out: &Outgoing) -> usize {
        let mut n = 0;
        for s in self.subs.iter().filter(|s| s.wants(out)) {
            self.sender.push(self.prepare(s, out));
            n += 1;
        }
        n
    }

    /// The vendor's request for `out` to `s`, with a fresh delivery id.
    pub fn prepare(&self, s: &Subscription, out: &Outgoing) -> Prepared {
        let t = envelope::Target {
            subscription: &s.id,
            url: &s.url,
            key: &s.key,
        };
        match self.vendor {
            VendorKind::Greenhouse => {
                envelope::greenhouse(&t, &out.event, out.data.clone(), &uuid_v4())
            }
            VendorKind::Lever => envelope::lever(
                &t,
                &out.event,
                out.data.clone(),
                Utc::now().timestamp_millis(),
                &envelope::random_hex(48),
            ),
            _ => envelope::workable(&t, &out.event, out.data.clone()),
        }
    }
}

/// A random UUID (version 4), for ids Greenhouse and Lever hand out.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = 0x40 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sub(events: &[&str], conditions: Vec<(String, Vec<String>)>) -> Subscription {
        Subscription {
            id: "1".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            url: "http://127.0.0.1:1/".into(),
            key: "k".into(),
            active: true,
            conditions,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn subscriptions_filter_by_event_and_conditions() {
        let out = Outgoing {
            event: "candidateStageChange".into(),
            data: json!({}),
            attrs: vec![("origin", "applied".into())],
        };
        assert!(sub(&[], vec![]).wants(&out));
        assert!(sub(&["candidateStageChange"], vec![]).wants(&out));
        assert!(!sub(&["candidateHired"], vec![]).wants(&out));
        let only = |v: &[&str]| {
            vec![(
                "origin".to_string(),
                v.iter().map(|s| s.to_string()).collect(),
            )]
        };
        assert!(sub(&[], only(&["applied", "referred"])).wants(&out));
        assert!(!sub(&[], only(&["sourced"])).wants(&out));
        assert!(sub(&[], only(&[""])).wants(&out));
        let mut s = sub(&[], vec![]);
        s.active = false;
        assert!(!s.wants(&out));
        assert_eq!(uuid_v4().len(), 36);
    }
}
