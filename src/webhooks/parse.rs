//! Vendor payloads → [`Event`], pure. Each vendor's body is read into small
//! structs holding only ids, times, stages and reason categories: names,
//! emails and free text are skipped by serde (never allocated, never kept).
//! Not JSON, or an event without the ids it must carry, is
//! [`Refusal::Malformed`]; an event the operator does not act on is
//! [`EventKind::Ignored`] (accepted so the vendor stops retrying).
//!
//! Bounds: serde_json's recursion limit (128) caps nesting, the route's body
//! limit caps size, and ids, names and id lists are capped here so a
//! verified but absurd delivery cannot bloat the ledger.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::verify::{self, Millis};
use super::{Delivery, Event, EventKind, Outcome, OutcomeCategory, Refusal};
use crate::model::VendorKind;

/// Longest id (delivery, application, candidate, stage) kept; vendors' are
/// under 64 characters.
pub const MAX_ID_LEN: usize = 256;
/// Most application ids one event may list (`delete_candidate`).
pub const MAX_IDS: usize = 1000;
/// Longest event name kept.
const MAX_NAME_LEN: usize = 128;

/// The whole delivery: the vendor's id for it, the body's hash and the event.
/// `event_id` is Greenhouse's `Greenhouse-Event-ID` header (required there,
/// unused elsewhere: Lever's id is the body's `token`, Workable's the body's
/// sha256). Vendors without webhooks here are [`Refusal::UnknownConnection`].
pub fn delivery(
    vendor: VendorKind,
    event_id: Option<&str>,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Delivery, Refusal> {
    let body_sha256 = verify::body_sha256(body);
    let (id, event) = match vendor {
        VendorKind::Greenhouse => {
            let id = event_id
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .ok_or(Refusal::Malformed)?
                .to_owned();
            (id, greenhouse(body)?)
        }
        VendorKind::Lever => lever_with_token(body)?,
        VendorKind::Workable => (body_sha256.clone(), workable(body)?),
        VendorKind::Ashby | VendorKind::SmartRecruiters => {
            return Err(Refusal::UnknownConnection);
        }
    };
    Ok(Delivery {
        id: bounded(id)?,
        vendor,
        body_sha256,
        event,
        received_at,
    })
}

/// A vendor id: Greenhouse sends integers, Lever and Workable strings.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id (integer or string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                if v.len() > MAX_ID_LEN {
                    return Err(E::custom("id too long"));
                }
                Ok(Id(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An optional id, empty counting as absent.
fn id(v: Option<Id>) -> Option<String> {
    v.map(|Id(s)| s).filter(|s| !s.is_empty())
}

fn bounded(s: String) -> Result<String, Refusal> {
    if s.len() > MAX_ID_LEN {
        return Err(Refusal::Malformed);
    }
    Ok(s)
}

fn name(s: String) -> Result<String, Refusal> {
    if s.is_empty() || s.len() > MAX_NAME_LEN {
        return Err(Refusal::Malformed);
    }
    Ok(s)
}

fn ids(v: Option<Vec<Id>>) -> Result<Vec<String>, Refusal> {
    let v = v.unwrap_or_default();
    if v.len() > MAX_IDS {
        return Err(Refusal::Malformed);
    }
    Ok(v.into_iter().filter_map(|i| id(Some(i))).collect())
}

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|_| Refusal::Malformed)
}

fn event(
    name: String,
    kind: EventKind,
    application_ids: Vec<String>,
    candidate_id: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
    outcome: Option<Outcome>,
) -> Event {
    Event {
        name,
        kind,
        application_ids,
        candidate_id,
        occurred_at,
        outcome,
    }
}

fn outcome(
    category: OutcomeCategory,
    stage: Option<String>,
    reason: Option<&str>,
) -> Option<Outcome> {
    Some(Outcome {
        category,
        stage,
        reason_category: reason.map(str::to_owned),
        reason_id: None,
    })
}

// ---------------------------------------------------------------- Greenhouse

#[derive(Deserialize)]
struct GhAction {
    action: String,
}

#[derive(Deserialize)]
struct GhEnvelope<P> {
    payload: P,
}

#[derive(Deserialize)]
struct GhApplicationPayload {
    application: GhApplication,
}

#[derive(Deserialize)]
struct GhApplication {
    id: Option<Id>,
    candidate_id: Option<Id>,
    candidate: Option<GhRef>,
    last_activity_at: Option<String>,
    updated_at: Option<String>,
    rejected_at: Option<String>,
    current_stage: Option<GhStage>,
    rejection_reason: Option<GhRejectionReason>,
}

#[derive(Deserialize)]
struct GhRef {
    id: Option<Id>,
}

#[derive(Deserialize)]
struct GhStage {
    id: Option<Id>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GhRejectionReason {
    #[serde(rename = "type")]
    kind: Option<GhNamed>,
}

#[derive(Deserialize)]
struct GhNamed {
    name: Option<String>,
}

#[derive(Deserialize)]
struct GhCandidatePayload {
    candidate: GhCandidate,
}

#[derive(Deserialize)]
struct GhCandidate {
    id: Option<Id>,
    updated_at: Option<String>,
    applications: Option<Vec<GhRef>>,
    application_ids: Option<Vec<Id>>,
}

#[derive(Deserialize)]
struct GhPersonPayload {
    person: GhPerson,
}

#[derive(Deserialize)]
struct GhPerson {
    id: Option<Id>,
    deleted_application_ids: Option<Vec<Id>>,
    application_ids: Option<Vec<Id>>,
}

#[derive(Deserialize)]
struct GhAnonymizedPayload {
    candidate_id: Option<Id>,
}

/// The category of a Greenhouse rejection reason, by its type's name:
/// "We rejected them" → `rejected`, "They rejected us" → `withdrew`, any
/// other type (custom or "None specified") → `other`.
pub fn greenhouse_rejection_category(type_name: &str) -> &'static str {
    let t = type_name.trim().to_ascii_lowercase();
    if t == "we rejected them" {
        "rejected"
    } else if t == "they rejected us" {
        "withdrew"
    } else {
        "other"
    }
}

/// A Greenhouse body (`{"action": ..., "payload": {...}}`) → its event.
pub fn greenhouse(body: &[u8]) -> Result<Event, Refusal> {
    let GhAction { action } = json(body)?;
    let action = name(action)?;
    let application = |body| -> Result<_, Refusal> {
        let GhEnvelope::<GhApplicationPayload> { payload } = json(body)?;
        let a = payload.application;
        let app_id = bounded(id(a.id.clone()).ok_or(Refusal::Malformed)?)?;
        let candidate = id(a.candidate_id.clone())
            .or_else(|| id(a.candidate.as_ref().and_then(|c| c.id.clone())));
        Ok((app_id, candidate, a))
    };
    // The latest of the application's own times: when this change happened.
    let occurred = |a: &GhApplication| {
        [&a.last_activity_at, &a.updated_at, &a.rejected_at]
            .into_iter()
            .filter_map(|t| time(t.as_deref()))
            .max()
    };
    let stage = |a: &GhApplication| {
        a.current_stage
            .as_ref()
            .and_then(|s| id(s.id.clone()).or_else(|| s.name.clone()))
            .filter(|s| !s.is_empty() && s.len() <= MAX_ID_LEN)
    };
    let decided = |category| -> Result<Event, Refusal> {
        let (app, cand, a) = application(body)?;
        let reason = match category {
            OutcomeCategory::Rejected => a
                .rejection_reason
                .as_ref()
                .and_then(|r| r.kind.as_ref())
                .and_then(|k| k.name.as_deref())
                .map(greenhouse_rejection_category),
            _ => None,
        };
        let o = outcome(category, stage(&a), reason);
        Ok(event(
            action.clone(),
            EventKind::Outcome,
            vec![app],
            cand,
            occurred(&a),
            o,
        ))
    };
    match action.as_str() {
        "ping" => Ok(event(action, EventKind::Ping, vec![], None, None, None)),
        "new_candidate_application" | "new_prospect_application" | "application_updated" => {
            let (app, cand, a) = application(body)?;
            let at = occurred(&a);
            Ok(event(
                action,
                EventKind::ApplicationChanged,
                vec![app],
                cand,
                at,
                None,
            ))
        }
        "update_candidate" => {
            let GhEnvelope::<GhCandidatePayload> { payload } = json(body)?;
            let c = payload.candidate;
            let cand = bounded(id(c.id).ok_or(Refusal::Malformed)?)?;
            let mut apps = ids(c.application_ids)?;
            let listed = c.applications.unwrap_or_default();
            if listed.len() > MAX_IDS {
                return Err(Refusal::Malformed);
            }
            apps.extend(listed.into_iter().filter_map(|a| id(a.id)));
            let at = time(c.updated_at.as_deref());
            Ok(event(
                action,
                EventKind::ApplicationChanged,
                apps,
                Some(cand),
                at,
                None,
            ))
        }
        "candidate_stage_change" => decided(OutcomeCategory::Advanced),
        "reject_candidate" | "application_rejected" => decided(OutcomeCategory::Rejected),
        "unreject_candidate" => decided(OutcomeCategory::Unrejected),
        "hire_candidate" => decided(OutcomeCategory::Hired),
        "delete_application" => {
            // No time in the payload says when the deletion happened.
            let (app, cand, _) = application(body)?;
            Ok(event(
                action,
                EventKind::Erased,
                vec![app],
                cand,
                None,
                None,
            ))
        }
        "delete_candidate" => {
            let GhEnvelope::<GhPersonPayload> { payload } = json(body)?;
            let p = payload.person;
            let mut apps = ids(p.deleted_application_ids)?;
            apps.extend(ids(p.application_ids)?);
            apps.sort();
            apps.dedup();
            let cand = id(p.id);
            if cand.is_none() && apps.is_empty() {
                return Err(Refusal::Malformed);
            }
            Ok(event(action, EventKind::Erased, apps, cand, None, None))
        }
        "candidate_anonymized" => {
            let GhEnvelope::<GhAnonymizedPayload> { payload } = json(body)?;
            let cand = id(payload.candidate_id).ok_or(Refusal::Malformed)?;
            Ok(event(
                action,
                EventKind::Erased,
                vec![],
                Some(cand),
                None,
                None,
            ))
        }
        _ => Ok(event(action, EventKind::Ignored, vec![], None, None, None)),
    }
}

// --------------------------------------------------------------------- Lever

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeverBody {
    event: Option<String>,
    triggered_at: Option<Millis>,
    token: Option<String>,
    data: Option<LeverData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeverData {
    opportunity_id: Option<Id>,
    candidate_id: Option<Id>,
    contact_id: Option<Id>,
    to_stage_id: Option<Id>,
    to_archived: Option<LeverArchive>,
    from_archived: Option<LeverArchive>,
}

#[derive(Deserialize)]
struct LeverArchive {
    reason: Option<LeverReason>,
}

/// Lever sends the archive reason's id; a reason object (`text`, `type`) is
/// read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum LeverReason {
    Object(LeverReasonObject),
    Id(String),
    Other(IgnoredAny),
}

impl LeverReason {
    fn category(&self) -> Option<&'static str> {
        match self {
            LeverReason::Object(o) => {
                Some(lever_archive_category(o.text.as_deref(), o.kind.as_deref()))
            }
            LeverReason::Id(_) | LeverReason::Other(_) => None,
        }
    }

    /// The id to look up when the event carries only that.
    fn id(&self) -> Option<String> {
        match self {
            LeverReason::Id(id) if !id.is_empty() => Some(id.clone()),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct LeverReasonObject {
    text: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The category of a Lever archive reason from its `text` and `type`
/// (`hired`/`non-hired`, from `/archive_reasons`): a text about withdrawing
/// → `withdrew`, other non-hired reasons → `rejected`, anything else
/// `other`. The webhook carries only the reason's id, so the worker resolves
/// it through `/archive_reasons` and calls this.
pub fn lever_archive_category(text: Option<&str>, kind: Option<&str>) -> &'static str {
    let text = text.unwrap_or_default().to_ascii_lowercase();
    if text.contains("withdr") || text.contains("declined") {
        "withdrew"
    } else if kind.is_some_and(|k| k.eq_ignore_ascii_case("non-hired")) {
        "rejected"
    } else {
        "other"
    }
}

/// What a vendor says about one of its rejection (archive) reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReasonInfo {
    pub text: Option<String>,
    /// Lever: `hired` or `non-hired`.
    pub kind: Option<String>,
}

/// Pure: `o` with its reason resolved from the vendor's reasons: a reason of
/// type hired makes it a hire (Lever archives hired candidates too, and the
/// two events may arrive in either order); another gets its category.
/// Unchanged without a reason id, or when the id is unknown.
pub fn resolve_reason(
    o: &Outcome,
    reasons: &std::collections::HashMap<String, ReasonInfo>,
) -> Outcome {
    let mut out = o.clone();
    out.reason_id = None;
    let Some(r) = o.reason_id.as_ref().and_then(|id| reasons.get(id)) else {
        return out;
    };
    if o.category != OutcomeCategory::Rejected || o.reason_category.is_some() {
        return out;
    }
    if r.kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("hired"))
    {
        out.category = OutcomeCategory::Hired;
    } else {
        out.reason_category =
            Some(lever_archive_category(r.text.as_deref(), r.kind.as_deref()).to_string());
    }
    out
}

/// A Lever body → its event.
pub fn lever(body: &[u8]) -> Result<Event, Refusal> {
    lever_with_token(body).map(|(_, e)| e)
}

/// A Lever body → (its `token`, the delivery id; its event).
fn lever_with_token(body: &[u8]) -> Result<(String, Event), Refusal> {
    let b: LeverBody = json(body)?;
    let token = b
        .token
        .filter(|t| !t.is_empty())
        .ok_or(Refusal::Malformed)?;
    let action = name(b.event.ok_or(Refusal::Malformed)?)?;
    let at = b
        .triggered_at
        .and_then(|Millis(ms)| i64::try_from(ms).ok())
        .and_then(DateTime::from_timestamp_millis);
    let data = b.data;
    let opp = data
        .as_ref()
        .and_then(|d| id(d.opportunity_id.clone()).or_else(|| id(d.candidate_id.clone())));
    let cand = data
        .as_ref()
        .and_then(|d| id(d.candidate_id.clone()).or_else(|| id(d.contact_id.clone())));
    let required = || opp.clone().ok_or(Refusal::Malformed).and_then(bounded);
    let ev = match action.as_str() {
        "applicationCreated" => event(
            action,
            EventKind::ApplicationChanged,
            vec![required()?],
            cand,
            at,
            None,
        ),
        "candidateStageChange" => {
            let stage = data.as_ref().and_then(|d| id(d.to_stage_id.clone()));
            let o = outcome(OutcomeCategory::Advanced, stage, None);
            event(action, EventKind::Outcome, vec![required()?], cand, at, o)
        }
        "candidateArchiveChange" | "candidateArchived" => {
            let (to, from) = data
                .as_ref()
                .map(|d| (d.to_archived.as_ref(), d.from_archived.as_ref()))
                .unwrap_or_default();
            let o = match (to, from) {
                (None, Some(_)) => outcome(OutcomeCategory::Unrejected, None, None),
                (to, _) => {
                    let reason = to.and_then(|a| a.reason.as_ref());
                    let mut o = outcome(
                        OutcomeCategory::Rejected,
                        None,
                        reason.and_then(LeverReason::category),
                    );
                    if let Some(o) = o.as_mut() {
                        o.reason_id = reason.and_then(LeverReason::id);
                    }
                    o
                }
            };
            event(action, EventKind::Outcome, vec![required()?], cand, at, o)
        }
        "candidateHired" => {
            let o = outcome(OutcomeCategory::Hired, None, None);
            event(action, EventKind::Outcome, vec![required()?], cand, at, o)
        }
        "candidateDeleted" => {
            if opp.is_none() && cand.is_none() {
                return Err(Refusal::Malformed);
            }
            event(
                action,
                EventKind::Erased,
                opp.into_iter().collect(),
                cand,
                at,
                None,
            )
        }
        _ => event(action, EventKind::Ignored, vec![], None, at, None),
    };
    Ok((token, ev))
}

// ------------------------------------------------------------------ Workable

#[derive(Deserialize)]
struct WkBody {
    event_type: Option<String>,
    event: Option<String>,
    data: Option<WkCandidate>,
}

#[derive(Deserialize)]
struct WkCandidate {
    id: Option<Id>,
    stage: Option<String>,
    stage_kind: Option<String>,
    disqualified: Option<bool>,
    withdrew: Option<bool>,
    /// Only whether there is one: the reason is free text.
    disqualification_reason: Option<IgnoredAny>,
    updated_at: Option<String>,
    /// Some senders nest the candidate one level down.
    candidate: Option<Box<WkCandidate>>,
}

/// A Workable body (`{"event_type": ..., "data": {candidate}}`, `event`
/// accepted for `event_type`) → its event.
pub fn workable(body: &[u8]) -> Result<Event, Refusal> {
    let b: WkBody = json(body)?;
    let action = name(b.event_type.or(b.event).ok_or(Refusal::Malformed)?)?;
    let c = b.data.map(|d| match d.candidate {
        Some(inner) if d.id.is_none() => *inner,
        _ => d,
    });
    let required = || {
        c.as_ref()
            .and_then(|c| id(c.id.clone()))
            .ok_or(Refusal::Malformed)
            .and_then(bounded)
    };
    let at = c.as_ref().and_then(|c| time(c.updated_at.as_deref()));
    Ok(match action.as_str() {
        "candidate_created" => event(
            action,
            EventKind::ApplicationChanged,
            vec![required()?],
            None,
            at,
            None,
        ),
        "candidate_moved" => {
            let app = required()?;
            let o = c.as_ref().and_then(workable_outcome);
            event(action, EventKind::Outcome, vec![app], None, at, o)
        }
        "candidate_deleted" => event(action, EventKind::Erased, vec![required()?], None, at, None),
        _ => event(action, EventKind::Ignored, vec![], None, at, None),
    })
}

/// A moved Workable candidate: disqualified → rejected (`withdrew` when the
/// candidate withdrew, `rejected` when a disqualification reason is given);
/// moved to a hired stage → hired; otherwise advanced to the stage.
fn workable_outcome(c: &WkCandidate) -> Option<Outcome> {
    let stage = c
        .stage
        .clone()
        .or_else(|| c.stage_kind.clone())
        .filter(|s| !s.is_empty() && s.len() <= MAX_ID_LEN);
    if c.disqualified == Some(true) {
        let reason = if c.withdrew == Some(true) {
            Some("withdrew")
        } else {
            c.disqualification_reason.as_ref().map(|_| "rejected")
        };
        return outcome(OutcomeCategory::Rejected, stage, reason);
    }
    if c.stage_kind.as_deref() == Some("hired") {
        return outcome(OutcomeCategory::Hired, stage, None);
    }
    outcome(OutcomeCategory::Advanced, stage, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Option<DateTime<Utc>> {
        time(Some(s))
    }

    fn gh(action: &str, payload: &str) -> Result<Event, Refusal> {
        greenhouse(format!(r#"{{"action":"{action}","payload":{payload}}}"#).as_bytes())
    }

    /// Greenhouse's documented `candidate_stage_change`, abridged, personal
    /// data kept to show it is skipped.
    const GH_STAGE_APP: &str = r#"{"application":{"id":265277,"rejected_at":null,"prospect":false,
        "status":"active","applied_at":"2013-03-22T00:00:00Z","last_activity_at":"2015-02-09T16:38:36Z",
        "credited_to":{"id":15,"email":"ada@example.com","name":"Ada Lacey"},
        "rejection_reason":null,"current_stage":{"id":71416,"name":"Assessment","interviews":[]},
        "candidate":{"id":265772,"first_name":"Giuseppe","last_name":"Hurley",
        "email_addresses":[{"value":"giuseppe.hurley@example.com","type":"personal"}]},"jobs":[{"id":3485}]}}"#;

    #[test]
    fn greenhouse_ping_and_application_events() {
        let ping =
            r#"{"web_hook_id":4001693002,"endpoint_url":"https://x/webhooks","active":true}"#;
        assert_eq!(gh("ping", ping).unwrap().kind, EventKind::Ping);
        for action in [
            "new_candidate_application",
            "new_prospect_application",
            "application_updated",
        ] {
            let e = gh(action, GH_STAGE_APP).unwrap();
            assert_eq!(e.kind, EventKind::ApplicationChanged, "{action}");
            assert_eq!(e.name, action);
            assert_eq!(e.application_ids, vec!["265277"]);
            assert_eq!(e.candidate_id.as_deref(), Some("265772"));
            assert_eq!(e.occurred_at, ts("2015-02-09T16:38:36Z"));
            assert_eq!(e.outcome, None);
        }
        let e = gh("candidate_stage_change", GH_STAGE_APP).unwrap();
        assert_eq!(e.kind, EventKind::Outcome);
        let o = e.outcome.unwrap();
        assert_eq!(o.category, OutcomeCategory::Advanced);
        assert_eq!(o.stage.as_deref(), Some("71416"));
        assert_eq!(o.reason_category, None);
        // Nothing personal survives, in any form.
        let kept =
            serde_json::to_string(&gh("candidate_stage_change", GH_STAGE_APP).unwrap()).unwrap();
        for pii in ["Giuseppe", "Hurley", "example.com", "Ada"] {
            assert!(!kept.contains(pii), "{kept}");
        }
    }

    #[test]
    fn greenhouse_rejections_hires_and_unrejections() {
        // The documented `reject_candidate`, abridged.
        let rejected = r#"{"application":{"id":265293,"rejected_at":"2015-02-11T15:50:41Z",
            "last_activity_at":"2015-02-11T15:50:41Z","status":"rejected",
            "rejection_reason":{"id":14,"name":"Too Junior","type":{"id":3,"name":"Wrong skill set"}},
            "current_stage":{"id":2708728,"name":"Offer"},"candidate":{"id":265788}}}"#;
        for action in ["reject_candidate", "application_rejected"] {
            let e = gh(action, rejected).unwrap();
            let o = e.outcome.unwrap();
            assert_eq!(o.category, OutcomeCategory::Rejected);
            assert_eq!(o.reason_category.as_deref(), Some("other"));
            assert_eq!(o.stage.as_deref(), Some("2708728"));
            assert_eq!(e.occurred_at, ts("2015-02-11T15:50:41Z"));
        }
        let by_us = rejected.replace("Wrong skill set", "We rejected them");
        let o = gh("reject_candidate", &by_us).unwrap().outcome.unwrap();
        assert_eq!(o.reason_category.as_deref(), Some("rejected"));
        let by_them = rejected.replace("Wrong skill set", "They rejected us");
        let o = gh("reject_candidate", &by_them).unwrap().outcome.unwrap();
        assert_eq!(o.reason_category.as_deref(), Some("withdrew"));
        let no_reason = r#"{"application":{"id":1,"rejection_reason":null}}"#;
        let o = gh("reject_candidate", no_reason).unwrap().outcome.unwrap();
        assert_eq!(
            (o.category, o.reason_category),
            (OutcomeCategory::Rejected, None)
        );

        let e = gh("unreject_candidate", GH_STAGE_APP).unwrap();
        assert_eq!(e.outcome.unwrap().category, OutcomeCategory::Unrejected);
        let e = gh(
            "hire_candidate",
            r#"{"application":{"id":46194062,"candidate":{"id":35897443}}}"#,
        )
        .unwrap();
        assert_eq!(e.outcome.unwrap().category, OutcomeCategory::Hired);
        assert_eq!(e.application_ids, vec!["46194062"]);
    }

    #[test]
    fn greenhouse_erasures_and_candidate_updates() {
        let e = gh(
            "delete_application",
            r#"{"application":{"id":46194062,"candidate_id":37031511,"rejected_at":"2014-04-22T01:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Erased);
        assert_eq!(e.application_ids, vec!["46194062"]);
        assert_eq!(e.candidate_id.as_deref(), Some("37031511"));
        let e = gh(
            "delete_candidate",
            r#"{"person":{"id":37031511,"first_name":"Jack","deleted_application_ids":[46196263,46196258]}}"#,
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.candidate_id.as_deref()),
            (EventKind::Erased, Some("37031511"))
        );
        assert_eq!(e.application_ids, vec!["46196258", "46196263"]);
        let e = gh(
            "candidate_anonymized",
            r#"{"candidate_id":37031511,"anonymized_fields":["full_name"]}"#,
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.candidate_id.as_deref()),
            (EventKind::Erased, Some("37031511"))
        );
        assert!(e.application_ids.is_empty());

        let e = gh(
            "update_candidate",
            r#"{"candidate":{"id":15696179,"first_name":"Ronald"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::ApplicationChanged);
        assert_eq!(e.candidate_id.as_deref(), Some("15696179"));
        assert!(e.application_ids.is_empty());
        let e = gh(
            "update_candidate",
            r#"{"candidate":{"id":1,"applications":[{"id":11},{"id":12}],"updated_at":"2016-08-23T17:51:27Z"}}"#,
        )
        .unwrap();
        assert_eq!(e.application_ids, vec!["11", "12"]);
        assert_eq!(e.occurred_at, ts("2016-08-23T17:51:27Z"));

        for action in [
            "offer_created",
            "job_created",
            "merge_candidate",
            "interview_deleted",
        ] {
            assert_eq!(gh(action, r#"{"id":1}"#).unwrap().kind, EventKind::Ignored);
        }
    }

    #[test]
    fn greenhouse_malformed() {
        for (action, payload) in [
            ("new_candidate_application", r#"{}"#),
            ("new_candidate_application", r#"{"application":{}}"#),
            ("new_candidate_application", r#"{"application":{"id":""}}"#),
            ("new_candidate_application", r#"{"application":{"id":1.5}}"#),
            ("candidate_stage_change", r#"{"application":"x"}"#),
            ("delete_candidate", r#"{"person":{}}"#),
            ("candidate_anonymized", r#"{}"#),
            ("update_candidate", r#"{"candidate":{}}"#),
        ] {
            assert_eq!(
                gh(action, payload),
                Err(Refusal::Malformed),
                "{action} {payload}"
            );
        }
        let long = format!(
            r#"{{"application":{{"id":"{}"}}}}"#,
            "9".repeat(MAX_ID_LEN + 1)
        );
        assert_eq!(gh("application_updated", &long), Err(Refusal::Malformed));
        for body in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"action":1}"#,
            r#"{"action":""}"#,
            "{\"action\":\"ping\"",
        ] {
            assert_eq!(
                greenhouse(body.as_bytes()),
                Err(Refusal::Malformed),
                "{body}"
            );
        }
    }

    #[test]
    fn greenhouse_delivery_id_is_the_event_id_header() {
        let body = br#"{"action":"ping","payload":{}}"#;
        let now = Utc::now();
        let d = delivery(VendorKind::Greenhouse, Some(" ev-1 "), body, now).unwrap();
        assert_eq!(
            (d.id.as_str(), d.vendor, d.received_at),
            ("ev-1", VendorKind::Greenhouse, now)
        );
        assert_eq!(d.body_sha256, verify::body_sha256(body));
        for missing in [None, Some(""), Some("  ")] {
            assert_eq!(
                delivery(VendorKind::Greenhouse, missing, body, now),
                Err(Refusal::Malformed)
            );
        }
        let long = "e".repeat(MAX_ID_LEN + 1);
        assert_eq!(
            delivery(VendorKind::Greenhouse, Some(&long), body, now),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            delivery(VendorKind::Ashby, Some("x"), body, now),
            Err(Refusal::UnknownConnection)
        );
    }

    fn lv(event: &str, data: &str) -> Result<Event, Refusal> {
        lever(format!(r#"{{"triggeredAt":1431454330072,"event":"{event}","data":{data},"signature":"s","token":"tok"}}"#).as_bytes())
    }

    #[test]
    fn lever_events() {
        // Lever's documented example.
        let stage = r#"{"opportunityId":"3410c8b9-5c31-4bab-b7e9-9f710206d647","candidateId":"daeaa038-cddb-4d69-9b8c-74b6c23be3f3",
            "contactId":"05c248f9-ccb1-435f-bab5-0ec608aec263","toStageId":"7c2690d8-6308-4ed9-ae2a-cbfe7db26593",
            "fromStageId":"992f01a9-ee19-41d2-ae79-1040701b195c"}"#;
        let e = lv("candidateStageChange", stage).unwrap();
        assert_eq!(e.kind, EventKind::Outcome);
        assert_eq!(
            e.application_ids,
            vec!["3410c8b9-5c31-4bab-b7e9-9f710206d647"]
        );
        assert_eq!(
            e.candidate_id.as_deref(),
            Some("daeaa038-cddb-4d69-9b8c-74b6c23be3f3")
        );
        assert_eq!(
            e.occurred_at,
            DateTime::from_timestamp_millis(1431454330072)
        );
        let o = e.outcome.unwrap();
        assert_eq!(o.category, OutcomeCategory::Advanced);
        assert_eq!(
            o.stage.as_deref(),
            Some("7c2690d8-6308-4ed9-ae2a-cbfe7db26593")
        );

        let e = lv(
            "applicationCreated",
            r#"{"opportunityId":"o1","candidateId":"c1"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.application_ids.clone()),
            (EventKind::ApplicationChanged, vec!["o1".to_string()])
        );
        let e = lv("candidateHired", r#"{"opportunityId":"o1"}"#).unwrap();
        assert_eq!(e.outcome.unwrap().category, OutcomeCategory::Hired);
        let e = lv("candidateDeleted", r#"{"candidateId":"c1"}"#).unwrap();
        assert_eq!(e.kind, EventKind::Erased);
        assert_eq!(e.candidate_id.as_deref(), Some("c1"));
        assert_eq!(
            lv("interviewCreated", "null").unwrap().kind,
            EventKind::Ignored
        );

        let d = delivery(
            VendorKind::Lever,
            None,
            br#"{"triggeredAt":1,"event":"contactCreated","token":"tok-1"}"#,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(d.id, "tok-1");
    }

    #[test]
    fn lever_archive_changes() {
        for event in ["candidateArchiveChange", "candidateArchived"] {
            let archived = r#"{"opportunityId":"o1","toArchived":{"archivedAt":1431454330072,"reason":"63dd55b2-a99f"},"fromArchived":null}"#;
            let o = lv(event, archived).unwrap().outcome.unwrap();
            // Only the reason's id is sent: its category is resolved later.
            assert_eq!(
                (o.category, o.reason_category, o.reason_id.as_deref()),
                (OutcomeCategory::Rejected, None, Some("63dd55b2-a99f"))
            );
            let unarchived = r#"{"opportunityId":"o1","toArchived":null,"fromArchived":{"archivedAt":1,"reason":"r"}}"#;
            let o = lv(event, unarchived).unwrap().outcome.unwrap();
            assert_eq!(o.category, OutcomeCategory::Unrejected);
        }
        let with_text = r#"{"opportunityId":"o1","toArchived":{"reason":{"id":"r","text":"Withdrew","type":"non-hired"}}}"#;
        let o = lv("candidateArchiveChange", with_text)
            .unwrap()
            .outcome
            .unwrap();
        assert_eq!(o.reason_category.as_deref(), Some("withdrew"));
        assert_eq!(
            lever_archive_category(Some("Underqualified"), Some("non-hired")),
            "rejected"
        );
        assert_eq!(
            lever_archive_category(Some("Hired"), Some("hired")),
            "other"
        );
        assert_eq!(lever_archive_category(None, None), "other");
    }

    #[test]
    fn lever_reasons_resolved_by_id() {
        let reasons = std::collections::HashMap::from([
            (
                "h".to_string(),
                ReasonInfo {
                    text: Some("Hired".into()),
                    kind: Some("hired".into()),
                },
            ),
            (
                "w".to_string(),
                ReasonInfo {
                    text: Some("Withdrew".into()),
                    kind: Some("non-hired".into()),
                },
            ),
            (
                "u".to_string(),
                ReasonInfo {
                    text: Some("Underqualified".into()),
                    kind: Some("non-hired".into()),
                },
            ),
        ]);
        let archived = |id: &str| Outcome {
            category: OutcomeCategory::Rejected,
            stage: None,
            reason_category: None,
            reason_id: Some(id.into()),
        };
        let r = |o: &Outcome| {
            let o = resolve_reason(o, &reasons);
            assert_eq!(o.reason_id, None, "never recorded");
            (o.category, o.reason_category)
        };
        // A hire archives the opportunity too: both events then say hired,
        // whichever arrives last.
        assert_eq!(r(&archived("h")), (OutcomeCategory::Hired, None));
        assert_eq!(
            r(&archived("w")),
            (OutcomeCategory::Rejected, Some("withdrew".into()))
        );
        assert_eq!(
            r(&archived("u")),
            (OutcomeCategory::Rejected, Some("rejected".into()))
        );
        // Unknown (a reason added since they were read): left unknown.
        assert_eq!(r(&archived("new")), (OutcomeCategory::Rejected, None));
        // What the event already says is kept.
        let mut known = archived("h");
        known.reason_category = Some("withdrew".into());
        assert_eq!(
            r(&known),
            (OutcomeCategory::Rejected, Some("withdrew".into()))
        );
    }

    #[test]
    fn lever_malformed() {
        for body in [
            r#"{"triggeredAt":1,"event":"applicationCreated","data":{}}"#,
            r#"{"triggeredAt":1,"event":"applicationCreated","token":"t","data":{}}"#,
            r#"{"triggeredAt":1,"event":"applicationCreated","token":"t"}"#,
            r#"{"triggeredAt":1,"event":"candidateDeleted","token":"t","data":{}}"#,
            r#"{"triggeredAt":1,"token":"t"}"#,
            r#"{"triggeredAt":1,"event":"x","token":"t","data":{"opportunityId":{}}}"#,
            "not json",
        ] {
            assert_eq!(lever(body.as_bytes()), Err(Refusal::Malformed), "{body}");
        }
    }

    #[test]
    fn workable_events() {
        let moved = r#"{"event_type":"candidate_moved","data":{"id":"27273038","name":"Nango Testone",
            "email":"nango.testone@example.com","stage":"Interview","stage_kind":"interview",
            "disqualified":false,"disqualification_reason":null,"updated_at":"2026-07-23T20:02:42Z"}}"#;
        let e = workable(moved.as_bytes()).unwrap();
        assert_eq!(e.kind, EventKind::Outcome);
        assert_eq!(e.application_ids, vec!["27273038"]);
        assert_eq!(e.occurred_at, ts("2026-07-23T20:02:42Z"));
        let o = e.outcome.unwrap();
        assert_eq!(
            (o.category, o.stage.as_deref()),
            (OutcomeCategory::Advanced, Some("Interview"))
        );
        let kept = serde_json::to_string(&workable(moved.as_bytes()).unwrap()).unwrap();
        assert!(
            !kept.contains("Nango") && !kept.contains("example.com"),
            "{kept}"
        );

        let dq = moved
            .replace(r#""disqualified":false"#, r#""disqualified":true"#)
            .replace(
                r#""disqualification_reason":null"#,
                r#""disqualification_reason":"Not a good fit""#,
            );
        let o = workable(dq.as_bytes()).unwrap().outcome.unwrap();
        assert_eq!(
            (o.category, o.reason_category.as_deref()),
            (OutcomeCategory::Rejected, Some("rejected"))
        );
        let withdrew = dq.replace(r#""stage":"#, r#""withdrew":true,"stage":"#);
        let o = workable(withdrew.as_bytes()).unwrap().outcome.unwrap();
        assert_eq!(o.reason_category.as_deref(), Some("withdrew"));
        let bare = moved.replace(r#""disqualified":false"#, r#""disqualified":true"#);
        let o = workable(bare.as_bytes()).unwrap().outcome.unwrap();
        assert_eq!(
            (o.category, o.reason_category),
            (OutcomeCategory::Rejected, None)
        );
        let hired = moved.replace(r#""stage_kind":"interview""#, r#""stage_kind":"hired""#);
        assert_eq!(
            workable(hired.as_bytes())
                .unwrap()
                .outcome
                .unwrap()
                .category,
            OutcomeCategory::Hired
        );

        let e = workable(br#"{"event":"candidate_created","data":{"id":27273038}}"#).unwrap();
        assert_eq!(
            (e.kind, e.application_ids.clone()),
            (EventKind::ApplicationChanged, vec!["27273038".to_string()])
        );
        let e = workable(br#"{"event_type":"candidate_deleted","data":{"candidate":{"id":"9"}}}"#)
            .unwrap();
        assert_eq!(
            (e.kind, e.application_ids.clone()),
            (EventKind::Erased, vec!["9".to_string()])
        );
        assert_eq!(
            workable(br#"{"event_type":"employee_created","data":{}}"#)
                .unwrap()
                .kind,
            EventKind::Ignored
        );

        let body = br#"{"event_type":"candidate_created","data":{"id":"1"}}"#;
        let d = delivery(VendorKind::Workable, None, body, Utc::now()).unwrap();
        assert_eq!(d.id, verify::body_sha256(body));
        assert_eq!(d.id, d.body_sha256);
    }

    #[test]
    fn workable_malformed() {
        for body in [
            r#"{"data":{"id":"1"}}"#,
            r#"{"event_type":"candidate_created"}"#,
            r#"{"event_type":"candidate_created","data":{}}"#,
            r#"{"event_type":"candidate_moved","data":{"id":null}}"#,
            r#"{"event_type":"candidate_moved","data":{"id":"1","disqualified":"yes"}}"#,
            r#"{"event_type":"candidate_deleted","data":[]}"#,
        ] {
            assert_eq!(workable(body.as_bytes()), Err(Refusal::Malformed), "{body}");
        }
    }

    #[test]
    fn deep_nesting_neither_overflows_the_stack_nor_passes_as_ids() {
        // Skipped values are walked without recursion: valid, so a ping.
        let deep = format!(
            r#"{{"action":"ping","payload":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(
            greenhouse(deep.as_bytes()).map(|e| e.kind),
            Ok(EventKind::Ping)
        );
        // Where a value is read, serde_json's recursion limit refuses it.
        let deep = format!(
            r#"{{"action":"application_updated","payload":{{"application":{{"id":{}1{}}}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(greenhouse(deep.as_bytes()), Err(Refusal::Malformed));
        let deep = format!(
            r#"{{"event_type":"x","data":{{"candidate":{}}}}}"#,
            r#"{"candidate":"#.repeat(10_000)
        );
        assert_eq!(workable(deep.as_bytes()), Err(Refusal::Malformed));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            for vendor in VendorKind::ALL {
                let _ = delivery(vendor, Some("id"), &body, Utc::now());
            }
            let _ = verify::lever_signed(&body);
        }

        #[test]
        fn arbitrary_json_envelopes_never_panic(
            action in "[a-zA-Z_]{0,30}",
            payload in "[\\[\\]{}\":,0-9a-z_ ]{0,200}",
        ) {
            let body = format!(r#"{{"action":"{action}","event":"{action}","event_type":"{action}","token":"t","triggeredAt":1,"payload":{payload},"data":{payload}}}"#);
            for vendor in VendorKind::ALL {
                let _ = delivery(vendor, Some("id"), body.as_bytes(), Utc::now());
            }
        }
    }
}
