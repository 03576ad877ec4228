//! Whether a candidate's resume file could be read, as recorded on the model.
//!
//! The reason of an unreadable file is a short, fixed description of the
//! failure (never a fragment of the file), so it may appear in notes, logs and
//! the ledger.

use serde::{Deserialize, Serialize};

/// A resume file's format, detected from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    Pdf,
    Docx,
    Html,
    Text,
}

impl DocumentFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentFormat::Pdf => "pdf",
            DocumentFormat::Docx => "docx",
            DocumentFormat::Html => "html",
            DocumentFormat::Text => "text",
        }
    }
}

impl std::fmt::Display for DocumentFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of the candidate's resume file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Readability {
    /// The file was read; its text is the resume text.
    Read { format: DocumentFormat },
    /// There was a file but no text could be taken from it (scanned, corrupt,
    /// unsupported, over a limit). The candidate is scored on what else is known.
    Unreadable { reason: String },
    /// No resume file (or none the operator could fetch): not a fault of the file.
    #[default]
    Missing,
}

impl Readability {
    pub fn is_unreadable(&self) -> bool {
        matches!(self, Readability::Unreadable { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shape_and_default() {
        let r = Readability::Read {
            format: DocumentFormat::Pdf,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"state":"read","format":"pdf"}"#
        );
        let u: Readability =
            serde_json::from_str(r#"{"state":"unreadable","reason":"no text"}"#).unwrap();
        assert!(u.is_unreadable());
        assert_eq!(Readability::default(), Readability::Missing);
    }

    #[test]
    fn resume_without_readability_still_deserializes() {
        let r: crate::model::Resume = serde_json::from_str(
            r#"{"url":null,"parsed_text":"x","structured":{"work_experience":[],"education":[],"skills":[]}}"#,
        )
        .unwrap();
        assert_eq!(r.readability, Readability::Missing);
    }
}
