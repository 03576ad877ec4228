//! Query strings and paging: repeated parameters, epoch-millisecond
//! filters, `limit` 1..100 and signed `offset` tokens, the
//! `{"data", "hasNext", "next"}` envelope.

use axum::Json;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::Lever;
use super::errors::bad_request;
use super::ids::{self, Kind};
use crate::sandbox::data::GenApplication;
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::query_pairs;

/// Page size bounds of every list.
const MAX_LIMIT: usize = 100;

impl Lever {
    /// One page, after the request's `offset`, of `items` (ascending by the
    /// position `key` gives with its epoch-ms timestamp): those `keep` selects,
    /// rendered, in the envelope. `list` names the list and its positions'
    /// kind in the signed `offset` tokens.
    pub(super) fn list_page<T>(
        &self,
        q: &Query,
        list: (&str, Kind),
        items: &[T],
        key: impl Fn(&T) -> (u64, i64),
        keep: impl Fn(&T) -> bool,
        render: impl FnMut(&T) -> Value,
    ) -> Result<Json<Value>, ApiError> {
        let (name, kind) = list;
        let limit = q.limit()?;
        let after = q.offset(self, name, kind)?;
        let (page, more) = page(items, |x| key(x).0, after, limit, keep);
        let next = more.then(|| page.last()).flatten().map(|x| {
            let (pos, at) = key(x);
            self.cursor(name, kind, pos, at)
        });
        Ok(envelope(page.into_iter().map(render).collect(), next))
    }

    /// [`Lever::list_page`] over all of one opportunity's `items`; the
    /// list's name carries the opportunity, so an `offset` from one
    /// opportunity's list is refused on another's.
    pub(super) fn opportunity_list<T>(
        &self,
        q: &Query,
        a: &GenApplication,
        list: (&str, Kind),
        items: &[T],
        key: impl Fn(&T) -> (u64, i64),
        render: impl FnMut(&T) -> Value,
    ) -> Result<Json<Value>, ApiError> {
        let name = format!("{}:{}", list.0, a.id);
        self.list_page(q, (&name, list.1), items, key, |_| true, render)
    }

    fn sign(&self, list: &str, body: &str) -> String {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.cursor_key) {
            Ok(mut mac) => {
                mac.update(list.as_bytes());
                mac.update(b"|");
                mac.update(body.as_bytes());
                hex::encode(&mac.finalize().into_bytes()[..8])
            }
            Err(_) => String::new(),
        }
    }

    /// An `offset` token for the position after `pos` in `list`:
    /// `<ms>.<uuid>.<signature>`, only URL-safe characters.
    fn cursor(&self, list: &str, kind: Kind, pos: u64, at_ms: i64) -> String {
        let body = format!("{at_ms}.{}", ids::uuid(kind, pos));
        let sig = self.sign(list, &body);
        format!("{body}.{sig}")
    }

    fn decode_cursor(&self, list: &str, kind: Kind, token: &str) -> Result<u64, ApiError> {
        let invalid = || bad_request(format!("Invalid offset token: {token}"));
        let (body, sig) = token.trim().rsplit_once('.').ok_or_else(invalid)?;
        if sig.is_empty() || sig != self.sign(list, body) {
            return Err(invalid());
        }
        let (_, id) = body.split_once('.').ok_or_else(invalid)?;
        ids::parse(kind, id).ok_or_else(invalid)
    }
}

/// Query parameters in order; Lever repeats multi-valued ones (`?tag=a&tag=b`).
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<String>) -> Query {
        Query(query_pairs(raw.as_deref()))
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An epoch-milliseconds parameter.
    pub fn ms(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    bad_request(format!(
                        "{key} must be a timestamp in milliseconds since the epoch"
                    ))
                })
            })
            .transpose()
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.one(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" => Ok(Some(true)),
            Some(v) if v == "false" => Ok(Some(false)),
            Some(_) => Err(bad_request(format!("{key} must be true or false"))),
        }
    }

    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.one("limit") {
            None => Ok(MAX_LIMIT),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad_request(format!(
                        "limit must be an integer between 1 and {MAX_LIMIT}"
                    ))
                }),
        }
    }

    /// The position an `offset` token points after, for `list`.
    pub fn offset(&self, g: &Lever, list: &str, kind: Kind) -> Result<Option<u64>, ApiError> {
        self.one("offset")
            .filter(|o| !o.trim().is_empty())
            .map(|o| g.decode_cursor(list, kind, o))
            .transpose()
    }

    /// Ids of `kind` given under `key`. A UUID this sandbox never issued
    /// matches nothing (`None`); anything that is not a UUID is a 400.
    pub fn ids(&self, key: &str, kind: Kind) -> Result<Vec<Option<u64>>, ApiError> {
        self.all(key)
            .map(|v| match ids::parse(kind, v) {
                Some(id) => Ok(Some(id)),
                None if ids::is_uuid(v) => Ok(None),
                None => Err(bad_request(format!("Invalid {key}: {v}"))),
            })
            .collect()
    }
}

/// Whether `t` lies in the inclusive range `[start, end]` (either open).
pub(super) fn in_range(t: i64, start: Option<i64>, end: Option<i64>) -> bool {
    start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
}

/// One page of `items` (sorted by `pos` ascending) after position `after`,
/// and whether more match beyond it.
pub(super) fn page<T>(
    items: &[T],
    pos: impl Fn(&T) -> u64,
    after: Option<u64>,
    limit: usize,
    pred: impl Fn(&T) -> bool,
) -> (Vec<&T>, bool) {
    let start = after.map_or(0, |a| items.partition_point(|x| pos(x) <= a));
    let mut it = items[start..].iter().filter(|x| pred(x));
    let page: Vec<&T> = it.by_ref().take(limit).collect();
    let more = page.len() == limit && it.next().is_some();
    (page, more)
}

/// The list envelope; the last page has `hasNext: false` and no `next`.
pub(super) fn envelope(data: Vec<Value>, next: Option<String>) -> Json<Value> {
    let mut o = serde_json::Map::new();
    o.insert("data".into(), Value::Array(data));
    o.insert("hasNext".into(), Value::Bool(next.is_some()));
    if let Some(n) = next {
        o.insert("next".into(), Value::String(n));
    }
    Json(Value::Object(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_exclusive_of_the_position_and_exact_about_more() {
        let items: Vec<u64> = (1..=10).collect();
        let (p, more) = page(&items, |x| *x, None, 4, |_| true);
        assert_eq!(p, vec![&1, &2, &3, &4]);
        assert!(more);
        let (p, more) = page(&items, |x| *x, Some(8), 4, |_| true);
        assert_eq!(p, vec![&9, &10]);
        assert!(!more);
        let (_, more) = page(&items, |x| *x, None, 10, |_| true);
        assert!(!more);
        // A position that no longer exists (deleted) still works.
        let (p, _) = page(&items, |x| *x * 10, Some(35), 2, |_| true);
        assert_eq!(p, vec![&4, &5]);
    }

    #[test]
    fn query_parameters() {
        let q = Query::parse(Some("tag=a&tag=b%20c&limit=5&archived=true".into()));
        assert_eq!(q.all("tag").collect::<Vec<_>>(), vec!["a", "b c"]);
        assert_eq!(q.limit().ok(), Some(5));
        assert_eq!(q.bool("archived").ok(), Some(Some(true)));
        assert!(Query::parse(Some("limit=0".into())).limit().is_err());
        assert!(Query::parse(Some("limit=101".into())).limit().is_err());
        assert!(Query::parse(Some("x=1".into())).ms("x").is_ok());
        assert!(Query::parse(Some("x=2024-01-01".into())).ms("x").is_err());
    }
}
