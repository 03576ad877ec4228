//! EEOC self-identification from Harvest v3 (`GET /v3/eeoc`, scope
//! `harvest:eeoc:list`): one row per application, each answer
//! `{id, description}` or null. Read for bias audits only.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use super::GreenhouseClient;
use crate::audit::Demographics;
use crate::vendors::VendorError;

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct EeocRow {
    #[serde(default)]
    application_id: Option<i64>,
    #[serde(default)]
    gender: Option<Answer>,
    #[serde(default)]
    race: Option<Answer>,
}

/// Pure: a row's answers in the audit's categories.
fn map(row: &EeocRow) -> Demographics {
    Demographics::from_answers(
        row.gender.as_ref().and_then(|a| a.description.as_deref()),
        row.race.as_ref().and_then(|a| a.description.as_deref()),
    )
}

impl GreenhouseClient {
    /// The EEOC answers of `application_ids` (ids that are not numeric are
    /// skipped: they cannot be Greenhouse applications), by application id.
    pub async fn eeoc(
        &self,
        application_ids: &[String],
    ) -> Result<HashMap<String, Demographics>, VendorError> {
        let ids: BTreeSet<i64> = application_ids
            .iter()
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        let rows: Vec<EeocRow> = self
            .list_by_ids("eeoc", "application_ids", &ids)
            .await
            .map_err(|e| e.with_hint("a bias audit also needs the harvest:eeoc:list scope"))?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.application_id?.to_string(), map(r))))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Race, Sex};

    #[test]
    fn rows_map_with_skipped_and_declined_answers() {
        let rows: Vec<EeocRow> = serde_json::from_str(
            r#"[
              {"id": 1, "application_id": 10, "candidate_id": 5,
               "gender": {"id": 2, "description": "Female"},
               "race": {"id": 13, "description": "Black or African American"},
               "veteran_status": null, "disability_status": null,
               "submitted_at": "2026-01-01T00:00:00.000Z"},
              {"id": 2, "application_id": 11, "candidate_id": 6,
               "gender": {"id": 3, "description": "Decline To Self Identify"},
               "race": null}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            map(&rows[0]),
            Demographics {
                sex: Some(Sex::Female),
                race: Some(Race::BlackOrAfricanAmerican)
            }
        );
        assert_eq!(map(&rows[1]), Demographics::default());
    }
}
