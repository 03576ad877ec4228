//! The EEO-1 Component 1 categories LL144 audits report on, and the mapping
//! of vendors' self-identification answers onto them. An answer that is
//! missing, declined or not an EEO-1 category is `None`: the unknown category.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Sex as the EEO-1 report records it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];

    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "Male",
            Sex::Female => "Female",
        }
    }

    /// A vendor's answer ("Male", "FEMALE", "Woman" ...); declined or other: `None`.
    pub fn from_answer(s: &str) -> Option<Sex> {
        match normalize(s).as_str() {
            "male" | "man" | "m" => Some(Sex::Male),
            "female" | "woman" | "f" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Race/ethnicity as the EEO-1 report records it (the last six are "Not
/// Hispanic or Latino").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Race {
    HispanicOrLatino,
    White,
    BlackOrAfricanAmerican,
    NativeHawaiianOrPacificIslander,
    Asian,
    NativeAmericanOrAlaskaNative,
    TwoOrMoreRaces,
}

impl Race {
    pub const ALL: [Race; 7] = [
        Race::HispanicOrLatino,
        Race::White,
        Race::BlackOrAfricanAmerican,
        Race::NativeHawaiianOrPacificIslander,
        Race::Asian,
        Race::NativeAmericanOrAlaskaNative,
        Race::TwoOrMoreRaces,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Race::HispanicOrLatino => "Hispanic or Latino",
            Race::White => "White",
            Race::BlackOrAfricanAmerican => "Black or African American",
            Race::NativeHawaiianOrPacificIslander => "Native Hawaiian or Pacific Islander",
            Race::Asian => "Asian",
            Race::NativeAmericanOrAlaskaNative => "Native American or Alaska Native",
            Race::TwoOrMoreRaces => "Two or More Races",
        }
    }

    /// A vendor's answer: Greenhouse's descriptions ("Black or African
    /// American"), Lever's ("White (Not Hispanic or Latino)"), unified-API
    /// enums (`HISPANIC_OR_LATINO`). Declined or unrecognised: `None`.
    pub fn from_answer(s: &str) -> Option<Race> {
        let n = normalize(s);
        let n = n
            .trim_end_matches("(not hispanic or latino)")
            .trim_end_matches("not hispanic or latino")
            .trim();
        if n.contains("decline") || n.contains("wish to answer") || n.contains("prefer not") {
            return None;
        }
        if n.starts_with("hispanic") || n == "latino" || n == "latina" || n == "latinx" {
            return Some(Race::HispanicOrLatino);
        }
        if n.starts_with("two or more") {
            return Some(Race::TwoOrMoreRaces);
        }
        if n.starts_with("white") {
            return Some(Race::White);
        }
        if n.starts_with("black") {
            return Some(Race::BlackOrAfricanAmerican);
        }
        if n.starts_with("native hawaiian") || n.contains("pacific islander") {
            return Some(Race::NativeHawaiianOrPacificIslander);
        }
        if n.starts_with("asian") {
            return Some(Race::Asian);
        }
        if n.starts_with("american indian")
            || n.starts_with("native american")
            || n.contains("alaska")
        {
            return Some(Race::NativeAmericanOrAlaskaNative);
        }
        None
    }
}

fn normalize(s: &str) -> String {
    let lowered: String = s
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One person's voluntary self-identification, as far as it maps onto the
/// EEO-1 categories. Used for audits only: never passed to the scorer, never
/// stored in the ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Demographics {
    pub sex: Option<Sex>,
    pub race: Option<Race>,
}

impl Demographics {
    pub fn from_answers(sex: Option<&str>, race: Option<&str>) -> Self {
        Demographics {
            sex: sex.and_then(Sex::from_answer),
            race: race.and_then(Race::from_answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_answers_map_onto_eeo1_categories() {
        assert_eq!(Sex::from_answer("Female"), Some(Sex::Female));
        assert_eq!(Sex::from_answer("MALE"), Some(Sex::Male));
        assert_eq!(Sex::from_answer("Decline To Self Identify"), None);
        assert_eq!(Sex::from_answer("Non-binary"), None);
        assert_eq!(
            Race::from_answer("White (Not Hispanic or Latino)"),
            Some(Race::White)
        );
        assert_eq!(
            Race::from_answer("BLACK_OR_AFRICAN_AMERICAN"),
            Some(Race::BlackOrAfricanAmerican)
        );
        assert_eq!(
            Race::from_answer("American Indian or Alaskan Native"),
            Some(Race::NativeAmericanOrAlaskaNative)
        );
        assert_eq!(
            Race::from_answer("Native Hawaiian or Other Pacific Islander"),
            Some(Race::NativeHawaiianOrPacificIslander)
        );
        assert_eq!(
            Race::from_answer("Hispanic or Latino"),
            Some(Race::HispanicOrLatino)
        );
        assert_eq!(
            Race::from_answer("Two or More Races"),
            Some(Race::TwoOrMoreRaces)
        );
        assert_eq!(Race::from_answer("Decline To Self Identify"), None);
        assert_eq!(Race::from_answer("I don't wish to answer"), None);
        assert_eq!(Race::from_answer(""), None);
    }
}
