//! `ats-operator ledger export`: a tenant's decisions for an auditor, without
//! personal data.
//!
//! Columns: when, which sync and vendor, the application and job ids, the
//! score with its components and band, the profile generation and scorer
//! version that produced it, what the decision asked for and what became of
//! the write, and beside it what the recruiter decided about the application
//! (its latest outcome: category, stage, reason category, when; appended
//! after the original columns, empty before any). Left out: the candidate id (it names a person across all their
//! applications, and an audit of decisions does not need it), the
//! explanations (strengths and gaps quote the resume), fingerprints and
//! settings. The application id stays: it is the vendor's id of a record,
//! not of a person, and it is what lets an auditor or the tenant find the
//! application a decision was about (for a human review, or a candidate's
//! request); erased candidates' ids are already pseudonyms (`anon-…`).

use std::io::Write;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;

use super::LedgerError;

/// One exported decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportRow {
    #[serde(serialize_with = "micros")]
    pub decided_at: DateTime<Utc>,
    /// The `AtsSync`'s name (the namespace is the export's).
    pub sync: String,
    pub vendor: String,
    pub application_id: String,
    pub job_id: String,
    pub score: u8,
    pub skills: Option<u8>,
    pub experience: Option<u8>,
    pub title: Option<u8>,
    pub education: Option<u8>,
    pub band: String,
    pub profile_generation: i64,
    pub scorer_version: i64,
    /// What the decision asked for: `to_write`, `dry_run`, `no_write_back`, `no_change`.
    pub outcome: String,
    /// What became of the write: `written`, `adopted`, `pending`, `failed`,
    /// `abandoned`, `superseded`, or `none` when nothing was to be written.
    pub write_back: String,
    /// The candidate was deleted or anonymized in the ATS: ids are pseudonyms.
    pub erased: bool,
    /// The application's latest recruiter decision (as of the export, the
    /// same on each of its decisions): `advanced`, `rejected`, `unrejected`,
    /// `hired`; none before any.
    pub recruiter_decision: Option<String>,
    /// The stage it moved to (the vendor's stage id or name).
    pub recruiter_stage: Option<String>,
    /// The rejection reason's category (`rejected`, `withdrew`, `other`).
    pub recruiter_reason: Option<String>,
    /// When, by the vendor's clock (else when the ledger recorded it).
    #[serde(serialize_with = "opt_micros")]
    pub recruiter_decided_at: Option<DateTime<Utc>>,
}

/// The raw columns a backend reads; [`ExportRow::from_raw`] shapes them.
pub(super) struct RawRow {
    pub decided_at: DateTime<Utc>,
    pub sync_key: String,
    pub vendor: String,
    pub application_id: String,
    pub job_id: String,
    pub score_json: String,
    pub band: String,
    pub profile_generation: i64,
    pub scorer_version: i64,
    pub outcome: String,
    /// The latest event about this decision's write, if any.
    pub last_write_event: Option<String>,
    /// The application's latest outcome: category, stage, reason, time.
    pub recruiter_decision: Option<String>,
    pub recruiter_stage: Option<String>,
    pub recruiter_reason: Option<String>,
    pub recruiter_decided_at: Option<DateTime<Utc>>,
}

/// Event kinds that say what became of a write (the export's subquery reads them).
pub(super) const WRITE_EVENT_KINDS: &str =
    "'written', 'written_superseded', 'adopted', 'failed', 'abandoned', 'superseded'";

impl ExportRow {
    pub(super) fn from_raw(r: RawRow) -> Result<ExportRow, LedgerError> {
        let score: crate::model::Score = serde_json::from_str(&r.score_json)?;
        let write_back = match (r.outcome.as_str(), r.last_write_event.as_deref()) {
            ("to_write", None) => "pending",
            ("to_write", Some("written" | "written_superseded")) => "written",
            ("to_write", Some(kind)) => kind,
            _ => "none",
        }
        .to_string();
        let sync = r
            .sync_key
            .split_once('/')
            .map_or(r.sync_key.as_str(), |(_, name)| name)
            .to_string();
        Ok(ExportRow {
            decided_at: r.decided_at,
            sync,
            vendor: r.vendor,
            erased: r.application_id.starts_with(super::pseudonym::PREFIX),
            application_id: r.application_id,
            job_id: r.job_id,
            score: score.score,
            skills: score.components.skills,
            experience: score.components.experience,
            title: score.components.title,
            education: score.components.education,
            band: r.band,
            profile_generation: r.profile_generation,
            scorer_version: r.scorer_version,
            outcome: r.outcome,
            write_back,
            recruiter_decision: r.recruiter_decision,
            recruiter_stage: r.recruiter_stage,
            recruiter_reason: r.recruiter_reason,
            recruiter_decided_at: r.recruiter_decided_at,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl FromStr for ExportFormat {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "jsonl" => Ok(ExportFormat::Jsonl),
            other => Err(LedgerError::BadArgument(format!(
                "--format {other:?}: use csv or jsonl"
            ))),
        }
    }
}

/// Pure: `--since` as RFC 3339 (`2026-01-31T00:00:00Z`).
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, LedgerError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            LedgerError::BadArgument(format!(
                "--since {s:?}: {e}; expected an RFC 3339 time such as 2026-01-31T00:00:00Z"
            ))
        })
}

/// Times at microsecond precision, in UTC (`Z`), as the ledger keeps them.
fn micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn opt_micros<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => micros(t, s),
        None => s.serialize_none(),
    }
}

/// Writes the rows as they arrive; returns how many. `out` is flushed at the end.
pub async fn write_rows(
    mut rows: BoxStream<'_, Result<ExportRow, LedgerError>>,
    format: ExportFormat,
    out: impl Write,
) -> Result<u64, LedgerError> {
    let io = |e: std::io::Error| LedgerError::Write(e.to_string());
    let mut n = 0u64;
    match format {
        ExportFormat::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            while let Some(row) = rows.next().await {
                let row = row?;
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
            }
            out.flush().map_err(io)?;
        }
        ExportFormat::Csv => {
            let csv_err = |e: csv::Error| LedgerError::Write(e.to_string());
            // Options as empty fields, in the header's order.
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER).map_err(csv_err)?;
            while let Some(row) = rows.next().await {
                let row = row?;
                w.write_record(csv_record(&row)).map_err(csv_err)?;
                n += 1;
            }
            w.flush().map_err(io)?;
        }
    }
    Ok(n)
}

const CSV_HEADER: [&str; 20] = [
    "decided_at",
    "sync",
    "vendor",
    "application_id",
    "job_id",
    "score",
    "skills",
    "experience",
    "title",
    "education",
    "band",
    "profile_generation",
    "scorer_version",
    "outcome",
    "write_back",
    "erased",
    "recruiter_decision",
    "recruiter_stage",
    "recruiter_reason",
    "recruiter_decided_at",
];

fn csv_record(r: &ExportRow) -> [String; 20] {
    let opt = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.decided_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        r.sync.clone(),
        r.vendor.clone(),
        r.application_id.clone(),
        r.job_id.clone(),
        r.score.to_string(),
        opt(r.skills),
        opt(r.experience),
        opt(r.title),
        opt(r.education),
        r.band.clone(),
        r.profile_generation.to_string(),
        r.scorer_version.to_string(),
        r.outcome.clone(),
        r.write_back.clone(),
        r.erased.to_string(),
        text(&r.recruiter_decision),
        text(&r.recruiter_stage),
        text(&r.recruiter_reason),
        r.recruiter_decided_at
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
            .unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(app: &str) -> ExportRow {
        ExportRow {
            decided_at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            sync: "open-jobs".into(),
            vendor: "greenhouse".into(),
            application_id: app.into(),
            job_id: "j-1".into(),
            score: 70,
            skills: Some(80),
            experience: None,
            title: Some(50),
            education: Some(90),
            band: "good_fit".into(),
            profile_generation: 3,
            scorer_version: 1,
            outcome: "to_write".into(),
            write_back: "written".into(),
            erased: false,
            recruiter_decision: None,
            recruiter_stage: None,
            recruiter_reason: None,
            recruiter_decided_at: None,
        }
    }

    async fn render(format: ExportFormat, rows: Vec<ExportRow>) -> String {
        let mut out = Vec::new();
        let stream = futures::stream::iter(rows.into_iter().map(Ok)).boxed();
        write_rows(stream, format, &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn csv_has_a_header_and_one_line_per_decision() {
        let mut decided = row("a3");
        decided.recruiter_decision = Some("rejected".into());
        decided.recruiter_stage = Some("Phone Screen".into());
        decided.recruiter_reason = Some("withdrew".into());
        decided.recruiter_decided_at = Some(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
        let text = render(ExportFormat::Csv, vec![row("a1"), row("a,2"), decided]).await;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], CSV_HEADER.join(","));
        // The original 16 columns first, unchanged; the recruiter's decision after.
        assert!(lines[0].starts_with(
            "decided_at,sync,vendor,application_id,job_id,score,skills,experience,title,education,band,profile_generation,scorer_version,outcome,write_back,erased,"
        ));
        assert_eq!(
            lines[1],
            "2026-03-01T12:00:00.000000Z,open-jobs,greenhouse,a1,j-1,70,80,,50,90,good_fit,3,1,to_write,written,false,,,,"
        );
        assert!(lines[2].contains(",\"a,2\","), "quoted: {}", lines[2]);
        assert!(
            lines[3].ends_with(",false,rejected,Phone Screen,withdrew,2026-03-02T09:00:00.000000Z"),
            "{}",
            lines[3]
        );
    }

    #[tokio::test]
    async fn jsonl_is_one_object_per_line() {
        let text = render(ExportFormat::Jsonl, vec![row("a1"), row("a2")]).await;
        let objs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0]["decided_at"], "2026-03-01T12:00:00.000000Z");
        assert_eq!(objs[1]["application_id"], "a2");
        assert_eq!(objs[0]["experience"], serde_json::Value::Null);
        assert!(objs[0].get("candidate_id").is_none());
        assert_eq!(objs[0]["recruiter_decision"], serde_json::Value::Null);
        assert_eq!(objs[0]["recruiter_decided_at"], serde_json::Value::Null);
    }

    #[test]
    fn bad_arguments_say_what_is_expected() {
        assert_eq!("csv".parse::<ExportFormat>().unwrap(), ExportFormat::Csv);
        let e = "xml".parse::<ExportFormat>().unwrap_err().to_string();
        assert!(e.contains("csv or jsonl"), "{e}");
        let e = parse_since("yesterday").unwrap_err().to_string();
        assert!(e.contains("RFC 3339"), "{e}");
        assert_eq!(
            parse_since("2026-01-31T01:00:00+01:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 31, 0, 0, 0).unwrap()
        );
    }
}
