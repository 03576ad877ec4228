//! `GET /v1/eeo/responses/pii`: EEO survey responses tied to their
//! opportunity (Lever's anonymous `/eeo/responses` cannot be joined to a
//! decision, so an audit reads this one), filtered by `fromDate`/`toDate`
//! (epoch ms), paged with `limit`/`offset` in the `{data, hasNext, next}`
//! envelope. Plus the control extra `PUT /_sandbox/demographics`
//! `{"disparity": 0..50}`.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};

use super::ids::{self, Kind};
use super::query::{Query, in_range};
use super::{Lever, ms};
use crate::sandbox::demographics;
use crate::sandbox::errors::ApiError;
use crate::sandbox::{Shared, lock};

pub(super) async fn list_eeo_pii(
    State(s): State<Shared<Lever>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = Query::parse(raw);
    let (from, to) = (q.ms("fromDate")?, q.ms("toDate")?);
    let g = lock(&s);
    let disparity = g.disparity;
    g.list_page(
        &q,
        ("eeo", Kind::Application),
        &g.tenant.applications,
        |a| (a.id, ms(a.created_at)),
        |a| in_range(ms(a.created_at), from, to),
        |a| {
            let s = demographics::self_identification(a, disparity);
            json!({
                "opportunityId": ids::uuid(Kind::Opportunity, a.id),
                "contactId": ids::uuid(Kind::Contact, a.candidate_id),
                "createdAt": ms(a.created_at),
                "gender": s.gender,
                "race": s.race,
                "veteran": null,
                "disability": null,
            })
        },
    )
}

/// `PUT /_sandbox/demographics` `{"disparity": n}` (percentage points, 0..=50).
pub(super) async fn set_demographics(
    State(s): State<Shared<Lever>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let d = body["disparity"]
        .as_u64()
        .filter(|d| *d <= 50)
        .ok_or_else(|| ApiError::unprocessable("disparity must be an integer 0..=50"))?;
    lock(&s).disparity = d as u8;
    Ok(Json(json!({"disparity": d})))
}
