//! Opaque list cursors, pipe-syntax timestamp filters, id lists and
//! id-descending pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// An opaque list cursor: the first request's filters, the page size and the
/// last id returned (lists go by id descending).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "q")]
    pub params: Vec<(String, String)>,
    #[serde(rename = "n")]
    pub per_page: usize,
    #[serde(rename = "a")]
    pub after: u64,
}

impl Cursor {
    /// URL-safe base64 without padding: needs no escaping in a query string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Result<Cursor, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| "cursor is not valid".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "cursor is not valid".to_string())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A pipe-syntax timestamp filter: `gte|2024-01-01T00:00:00Z|lte|2024-02-01T00:00:00Z`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeFilter(pub Vec<(CmpOp, DateTime<Utc>)>);

impl TimeFilter {
    pub fn parse(s: &str) -> Result<TimeFilter, String> {
        let parts: Vec<&str> = s.split('|').collect();
        if !parts.len().is_multiple_of(2) || parts.is_empty() {
            return Err(format!(
                "'{s}' must be operator|timestamp pairs, e.g. gte|2024-01-01T00:00:00Z"
            ));
        }
        let mut out = Vec::new();
        for pair in parts.chunks(2) {
            let op = match pair[0].trim().to_ascii_lowercase().as_str() {
                "gt" => CmpOp::Gt,
                "gte" => CmpOp::Gte,
                "lt" => CmpOp::Lt,
                "lte" => CmpOp::Lte,
                other => {
                    return Err(format!(
                        "unknown operator '{other}'; use one of gt, gte, lt, lte"
                    ));
                }
            };
            out.push((op, parse_timestamp(pair[1])?));
        }
        Ok(TimeFilter(out))
    }

    pub fn matches(&self, t: DateTime<Utc>) -> bool {
        self.0.iter().all(|&(op, v)| match op {
            CmpOp::Gt => t > v,
            CmpOp::Gte => t >= v,
            CmpOp::Lt => t < v,
            CmpOp::Lte => t <= v,
        })
    }
}

/// RFC 3339 or a bare date. A `+` offset decoded from a query string as a
/// space is put back.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!("'{s}' is not an ISO 8601 timestamp"))
}

/// A comma-separated id list of at most `max` ids.
pub fn parse_id_list(s: &str, max: usize) -> Result<Vec<u64>, String> {
    let ids: Vec<u64> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<u64>().map_err(|_| format!("'{x}' is not an id")))
        .collect::<Result<_, _>>()?;
    if ids.len() > max {
        return Err(format!("at most {max} ids may be given, got {}", ids.len()));
    }
    Ok(ids)
}

/// One page of `items` (sorted by id ascending) in id-descending order,
/// starting below `after`. Returns the page and, when more match, the last id
/// on it (the next cursor's position).
pub fn page_desc<T>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    after: Option<u64>,
    per_page: usize,
    pred: impl Fn(&T) -> bool,
) -> (Vec<&T>, Option<u64>) {
    let end = match after {
        Some(a) => items.partition_point(|x| id(x) < a),
        None => items.len(),
    };
    let mut it = items[..end].iter().rev().filter(|x| pred(x));
    let page: Vec<&T> = it.by_ref().take(per_page).collect();
    let more = page.len() == per_page && it.next().is_some();
    let next = if more {
        page.last().map(|x| id(x))
    } else {
        None
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            params: vec![
                ("updated_at".into(), "gte|2025-01-01T00:00:00Z".into()),
                ("job_ids".into(), "1,2".into()),
            ],
            per_page: 50,
            after: 90_000_123,
        };
        let s = c.encode();
        assert!(
            s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        );
        assert_eq!(Cursor::decode(&s), Ok(c));
        assert!(Cursor::decode("not a cursor!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{}")).is_err());
    }

    #[test]
    fn time_filters() {
        let f = TimeFilter::parse("gte|2025-01-01T00:00:00Z|lt|2025-02-01T00:00:00.000Z")
            .expect("parse");
        assert_eq!(f.0.len(), 2);
        let t = |s: &str| parse_timestamp(s).expect("ts");
        assert!(f.matches(t("2025-01-01T00:00:00Z")));
        assert!(f.matches(t("2025-01-31T23:59:59Z")));
        assert!(!f.matches(t("2025-02-01T00:00:00Z")));
        assert!(!f.matches(t("2024-12-31T23:59:59Z")));
        // '+' decoded as space from a query string.
        assert_eq!(t("2025-01-01T01:00:00 01:00"), t("2025-01-01T00:00:00Z"));
        assert_eq!(t("2025-01-01"), t("2025-01-01T00:00:00Z"));
        assert!(TimeFilter::parse("2025-01-01").is_err());
        assert!(TimeFilter::parse("after|2025-01-01").is_err());
        assert!(TimeFilter::parse("gte|yesterday").is_err());
        let g = TimeFilter::parse("gt|2025-01-01T00:00:00Z").expect("parse");
        assert!(!g.matches(t("2025-01-01T00:00:00Z")));
    }

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("1, 2,3", 50), Ok(vec![1, 2, 3]));
        assert!(parse_id_list("1,x", 50).is_err());
        let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        assert!(parse_id_list(&many.join(","), 50).is_err());
    }

    #[test]
    fn paging_desc() {
        let items: Vec<u64> = (1..=10).collect();
        let (p, next) = page_desc(&items, |x| *x, None, 4, |_| true);
        assert_eq!(p, vec![&10, &9, &8, &7]);
        assert_eq!(next, Some(7));
        let (p, next) = page_desc(&items, |x| *x, Some(7), 4, |_| true);
        assert_eq!(p, vec![&6, &5, &4, &3]);
        let (p, next2) = page_desc(&items, |x| *x, next, 4, |_| true);
        assert_eq!(p, vec![&2, &1]);
        assert_eq!(next2, None);
        // Exactly full last page: no next.
        let (_, n) = page_desc(&items, |x| *x, None, 10, |_| true);
        assert_eq!(n, None);
        let (p, _) = page_desc(&items, |x| *x, None, 3, |x| x % 2 == 0);
        assert_eq!(p, vec![&10, &8, &6]);
    }
}
