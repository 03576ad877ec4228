//! List parameters and paging: `limit` (default 50, at most 100),
//! `since_id`/`max_id` windows over ascending hex ids, `created_after` /
//! `updated_after` in the formats Workable takes, and an absolute
//! `paging.next` that is absent on the last page.

use axum::Json;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::errors::unprocessable;
use crate::sandbox::cursors::parse_timestamp;
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::query_pairs;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// Query parameters of a list request.
pub(super) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<String>) -> Query {
        Query {
            pairs: query_pairs(raw.as_deref()),
        }
    }

    /// The last non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// `limit`: default 50; above 100 means 100.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| n.min(MAX_LIMIT))
                .ok_or_else(|| unprocessable("limit must be a positive integer")),
        }
    }

    /// A hex id parameter (`since_id`, `max_id`) as a number.
    pub fn hex_id(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| {
                (v.len() <= 16)
                    .then(|| u64::from_str_radix(v, 16).ok())
                    .flatten()
                    .ok_or_else(|| unprocessable(format!("{key} is not a valid id")))
            })
            .transpose()
    }

    pub fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(key)
            .map(|v| parse_after(v).map_err(|e| unprocessable(format!("{key}: {e}"))))
            .transpose()
    }

    /// The given filters among `keys`, for the next page's URL.
    pub fn carry<'a>(&'a self, keys: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        keys.iter()
            .filter_map(|k| self.get(k).map(|v| (*k, v)))
            .collect()
    }
}

/// `created_after` / `updated_after`: ISO 8601 basic (`20150708T115616Z`) or
/// extended, or Unix seconds.
pub(super) fn parse_after(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    let bad = || format!("'{t}' is not an ISO 8601 or Unix timestamp");
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or_else(bad);
    }
    // A `+` offset arrives as a space from a query string.
    let t_plus = t.replace(' ', "+");
    for fmt in ["%Y%m%dT%H%M%S%.f%z", "%Y%m%dT%H%M%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(&t_plus, fmt) {
            return Ok(d.with_timezone(&Utc));
        }
    }
    let zless = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'));
    if let Some(naive) = zless.or(Some(t)) {
        for fmt in [
            "%Y%m%dT%H%M%S%.f",
            "%Y%m%dT%H%M%S",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
        ] {
            if let Ok(d) = NaiveDateTime::parse_from_str(naive, fmt) {
                return Ok(d.and_utc());
            }
        }
    }
    parse_timestamp(t).map_err(|_| bad())
}

/// The part of `items` (ascending by `key`) with `since <= key <= max`.
pub(super) fn window<T>(
    items: &[T],
    key: impl Fn(&T) -> u64,
    since: Option<u64>,
    max: Option<u64>,
) -> &[T] {
    let start = since.map_or(0, |s| items.partition_point(|x| key(x) < s));
    let end = max.map_or(items.len(), |m| items.partition_point(|x| key(x) <= m));
    &items[start..end.max(start)]
}

/// Up to `limit` items and the first item of the next page.
pub(super) fn take_page<I: Iterator>(mut it: I, limit: usize) -> (Vec<I::Item>, Option<I::Item>) {
    let page: Vec<I::Item> = it.by_ref().take(limit).collect();
    let next = it.next();
    (page, next)
}

/// `paging.next`: the absolute URL of the next page, `since_id` = its first id.
pub(super) fn next_url(
    base: &str,
    path: &str,
    limit: usize,
    since: &str,
    carry: &[(&str, &str)],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", &limit.to_string());
    q.append_pair("since_id", since);
    for (k, v) in carry {
        q.append_pair(k, v);
    }
    format!("{base}/spi/v3{path}?{}", q.finish())
}

/// `{"<key>": items}` plus `paging` only when more remain.
pub(super) fn list_body(key: &str, items: Vec<Value>, next: Option<String>) -> Json<Value> {
    let mut body = serde_json::Map::new();
    body.insert(key.to_string(), Value::Array(items));
    if let Some(url) = next {
        body.insert("paging".into(), json!({ "next": url }));
    }
    Json(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_formats() {
        let want = DateTime::parse_from_rfc3339("2015-07-08T11:56:16Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("rfc3339");
        for s in [
            "20150708T115616Z",
            "2015-07-08T11:56:16Z",
            "2015-07-08T11:56:16.000Z",
            "2015-07-08T13:56:16+02:00",
            "2015-07-08T13:56:16 02:00",
            "20150708T135616+0200",
            "2015-07-08T11:56:16",
            "1436356576",
        ] {
            assert_eq!(parse_after(s), Ok(want), "{s}");
        }
        assert!(parse_after("yesterday").is_err());
        assert!(parse_after("2015-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn windows_and_pages() {
        let items: Vec<u64> = (1..=10).collect();
        assert_eq!(window(&items, |x| *x, Some(4), Some(7)), &[4, 5, 6, 7]);
        assert_eq!(window(&items, |x| *x, Some(8), Some(3)), &[] as &[u64]);
        let (p, n) = take_page(items.iter(), 4);
        assert_eq!((p.len(), n), (4, Some(&5)));
        let (p, n) = take_page(items.iter(), 10);
        assert_eq!((p.len(), n), (10, None));
    }
}
