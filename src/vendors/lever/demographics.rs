//! EEO survey responses from Lever (`GET /v1/eeo/responses/pii`): the
//! anonymous `/eeo/responses` carries no opportunity, so it cannot be joined
//! to a decision. Only the opportunity id and the gender and race answers
//! are kept; the rest (names, contact) is dropped as each page is read.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::LeverClient;
use crate::audit::Demographics;
use crate::vendors::VendorError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EeoResponse {
    opportunity_id: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    race: Option<String>,
}

impl LeverClient {
    /// The EEO answers of the opportunities `ids`, by opportunity id.
    pub async fn eeo(&self, ids: &[String]) -> Result<HashMap<String, Demographics>, VendorError> {
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let rows: Vec<EeoResponse> = self.list(&["eeo", "responses", "pii"], &[]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let id = r.opportunity_id?;
                wanted.contains(id.as_str()).then(|| {
                    let d = Demographics::from_answers(r.gender.as_deref(), r.race.as_deref());
                    (id, d)
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Race, Sex};

    #[test]
    fn responses_map_to_categories() {
        let r: EeoResponse = serde_json::from_str(
            r#"{"opportunityId": "o1", "contactId": "c1", "createdAt": 1,
                "gender": "Male", "race": "Asian (Not Hispanic or Latino)", "veteran": null}"#,
        )
        .unwrap();
        assert_eq!(
            Demographics::from_answers(r.gender.as_deref(), r.race.as_deref()),
            Demographics {
                sex: Some(Sex::Male),
                race: Some(Race::Asian)
            }
        );
    }
}
