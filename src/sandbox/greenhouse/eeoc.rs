//! `GET /v3/eeoc`: row-level EEOC self-identification, one row per
//! application (Harvest v3, scope `harvest:eeoc:list`; filters
//! `application_ids` and the common ones; cursor paging like every list).
//! Each answer is `{id, description}` or `null` when skipped. Plus the
//! control extra `PUT /_sandbox/demographics` `{"disparity": 0..50}`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Gh;
use super::query::{ListReq, in_list};
use crate::sandbox::demographics::{self, DECLINE};
use crate::sandbox::errors::ApiError;
use crate::sandbox::{Shared, lock, ts};

/// EEOC row ids: the application id plus a constant.
const EEOC_ID_OFFSET: u64 = 3_000_000_000;

/// Greenhouse's fixed answer ids, by description.
fn answer(description: &'static str) -> Value {
    let id = match description {
        "Male" => 1,
        "Female" => 2,
        DECLINE => 3,
        "American Indian or Alaskan Native" => 11,
        "Asian" => 12,
        "Black or African American" => 13,
        "Hispanic or Latino" => 14,
        "White" => 15,
        "Native Hawaiian or Other Pacific Islander" => 16,
        "Two or More Races" => 17,
        _ => 0,
    };
    json!({"id": id, "description": description})
}

pub(super) async fn list_eeoc(
    State(s): State<Shared<Gh>>,
    req: ListReq,
) -> Result<Response, ApiError> {
    let common = req.common()?;
    let application_ids = req.ids("application_ids")?;
    let candidate_ids = req.ids("candidate_ids")?;
    let g = lock(&s);
    let disparity = g.disparity;
    Ok(req.page(
        &g.base_url,
        &g.tenant.applications,
        |a| a.id + EEOC_ID_OFFSET,
        |a| {
            common.matches(a.id + EEOC_ID_OFFSET, a.created_at, a.created_at)
                && in_list(&application_ids, a.id)
                && in_list(&candidate_ids, a.candidate_id)
        },
        |a| {
            let s = demographics::self_identification(a, disparity);
            json!({
                "id": a.id + EEOC_ID_OFFSET,
                "application_id": a.id,
                "candidate_id": a.candidate_id,
                "gender": s.gender.map(answer),
                "race": s.race.map(answer),
                "veteran_status": null,
                "disability_status": null,
                "submitted_at": ts(a.created_at),
            })
        },
    ))
}

/// `PUT /_sandbox/demographics` `{"disparity": n}`: how much rarer women are
/// among strong fits (percentage points, 0..=50); answers the setting.
pub(super) async fn set_demographics(
    State(s): State<Shared<Gh>>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let d = body["disparity"]
        .as_u64()
        .filter(|d| *d <= 50)
        .ok_or_else(|| ApiError::unprocessable("disparity must be an integer 0..=50"))?;
    let mut g = lock(&s);
    g.disparity = d as u8;
    Ok(Json(json!({"disparity": d})).into_response())
}
