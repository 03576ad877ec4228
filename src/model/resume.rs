//! Parsing of plain-text resumes into structured data.
