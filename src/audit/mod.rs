//! Bias audits as NYC Local Law 144 and DCWP's rules define them: pure maths
//! ([`rates`], [`stats`], [`fairness`]), the report ([`report`]) and the
//! categories people self-identify in ([`categories`]).
//!
//! Demographic data is read for an audit only, joined in memory with the
//! ledger's decisions, and dropped: it never reaches the scorer and is never
//! written to the ledger; the report holds counts, not people.

pub mod categories;
pub mod fairness;
pub mod rates;
pub mod report;
pub mod stats;

pub use categories::{Demographics, Race, Sex};
pub use rates::{AuditConfig, AuditResult, Outcome, Sample, audit};
