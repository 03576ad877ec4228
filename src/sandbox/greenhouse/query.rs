//! List parameters, filters and paging: cursor-only follow-ups, pipe-syntax
//! timestamp filters, id lists of at most 50, `Link: rel="next"`.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Actor;
use super::auth::require_site_admin;
use crate::sandbox::cursors::{Cursor, TimeFilter, page_desc, parse_id_list};
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::query_pairs;

/// Maximum ids in an id-list filter.
const MAX_IDS: usize = 50;
const MAX_PER_PAGE: usize = 500;
const DEFAULT_PER_PAGE: usize = 100;

/// A list request after cursor resolution: the filters of the first request,
/// the page size and the position. As an extractor it also checks that the
/// caller is a Site Admin.
pub(super) struct ListReq {
    pub params: Vec<(String, String)>,
    pub per_page: usize,
    pub after: Option<u64>,
    /// The list's path, for `Link`.
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ListReq {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // The guard put the actor there; without one the route is unguarded.
        let actor = parts
            .extensions
            .get::<Actor>()
            .copied()
            .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no actor"))?;
        require_site_admin(&actor)?;
        let mut req = ListReq::parse(parts.uri.query().map(str::to_string))?;
        req.path = parts.uri.path().to_string();
        Ok(req)
    }
}

impl ListReq {
    pub fn parse(raw: Option<String>) -> Result<ListReq, ApiError> {
        let pairs = query_pairs(raw.as_deref());
        if let Some((_, c)) = pairs.iter().find(|(k, _)| k == "cursor") {
            if pairs.len() != 1 {
                return Err(ApiError::unprocessable(
                    "When the cursor parameter is present it must be the only query parameter.",
                ));
            }
            let cur = Cursor::decode(c)
                .map_err(|_| ApiError::unprocessable("The cursor is invalid or expired."))?;
            if !(1..=MAX_PER_PAGE).contains(&cur.per_page) {
                return Err(ApiError::unprocessable("The cursor is invalid or expired."));
            }
            return Ok(ListReq {
                params: cur.params,
                per_page: cur.per_page,
                after: Some(cur.after),
                path: String::new(),
            });
        }
        let mut per_page = DEFAULT_PER_PAGE;
        let mut params = Vec::new();
        for (k, v) in pairs {
            if k == "per_page" {
                per_page = v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::unprocessable(format!(
                            "per_page must be an integer between 1 and {MAX_PER_PAGE}"
                        ))
                    })?;
            } else {
                params.push((k, v));
            }
        }
        Ok(ListReq {
            params,
            per_page,
            after: None,
            path: String::new(),
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean filter: `true` or `false`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" => Ok(Some(true)),
            Some(v) if v == "false" => Ok(Some(false)),
            Some(_) => Err(ApiError::unprocessable(format!(
                "{key} must be true or false"
            ))),
        }
    }

    /// A comma-separated list of values, each trimmed and mapped.
    pub fn list<T>(&self, key: &str, each: impl Fn(&str) -> T) -> Option<Vec<T>> {
        self.get(key).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(each)
                .collect()
        })
    }

    pub fn ids(&self, key: &str) -> Result<Option<Vec<u64>>, ApiError> {
        self.get(key)
            .map(|v| {
                parse_id_list(v, MAX_IDS)
                    .map_err(|e| ApiError::unprocessable(format!("{key}: {e}")))
            })
            .transpose()
    }

    pub fn time(&self, key: &str) -> Result<Option<TimeFilter>, ApiError> {
        self.get(key)
            .map(|v| {
                TimeFilter::parse(v).map_err(|e| ApiError::unprocessable(format!("{key}: {e}")))
            })
            .transpose()
    }

    /// The common filters: `ids`, `created_at`, `updated_at`.
    pub fn common(&self) -> Result<Common, ApiError> {
        Ok(Common {
            ids: self.ids("ids")?,
            created: self.time("created_at")?,
            updated: self.time("updated_at")?,
        })
    }

    /// One page of `items` (ascending by `id`) newest first: those `keep`
    /// selects, rendered, with `Link: rel="next"` when more remain.
    pub fn page<T>(
        &self,
        base: &str,
        items: &[T],
        id: impl Fn(&T) -> u64,
        keep: impl Fn(&T) -> bool,
        render: impl FnMut(&T) -> Value,
    ) -> Response {
        let (page, next) = page_desc(items, id, self.after, self.per_page, keep);
        self.respond(base, page.into_iter().map(render).collect(), next)
    }

    /// The response: a bare array, with `Link: rel="next"` when more remain.
    fn respond(&self, base: &str, items: Vec<Value>, next: Option<u64>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(after) = next {
            let cursor = Cursor {
                params: self.params.clone(),
                per_page: self.per_page,
                after,
            }
            .encode();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "<{base}{}?cursor={cursor}>; rel=\"next\"",
                self.path
            )) {
                headers.insert(header::LINK, v);
            }
        }
        (StatusCode::OK, headers, Json(Value::Array(items))).into_response()
    }
}

pub(super) struct Common {
    ids: Option<Vec<u64>>,
    created: Option<TimeFilter>,
    updated: Option<TimeFilter>,
}

impl Common {
    pub fn matches(&self, id: u64, created: DateTime<Utc>, updated: DateTime<Utc>) -> bool {
        self.ids.as_ref().is_none_or(|v| v.contains(&id))
            && self.created.as_ref().is_none_or(|f| f.matches(created))
            && self.updated.as_ref().is_none_or(|f| f.matches(updated))
    }
}

pub(super) fn in_list(list: &Option<Vec<u64>>, id: u64) -> bool {
    list.as_ref().is_none_or(|v| v.contains(&id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_must_be_alone() {
        let c = Cursor {
            params: vec![("job_ids".into(), "1".into())],
            per_page: 5,
            after: 10,
        }
        .encode();
        let r = ListReq::parse(Some(format!("cursor={c}"))).expect("cursor");
        assert_eq!((r.per_page, r.after), (5, Some(10)));
        assert_eq!(r.get("job_ids"), Some("1"));
        assert!(ListReq::parse(Some(format!("cursor={c}&per_page=5"))).is_err());
        assert!(ListReq::parse(Some("cursor=%%%".into())).is_err());
    }

    #[test]
    fn per_page_bounds() {
        assert_eq!(ListReq::parse(None).map(|r| r.per_page).ok(), Some(100));
        assert!(ListReq::parse(Some("per_page=0".into())).is_err());
        assert!(ListReq::parse(Some("per_page=501".into())).is_err());
        assert_eq!(
            ListReq::parse(Some("per_page=500".into()))
                .map(|r| r.per_page)
                .ok(),
            Some(500)
        );
    }

    #[test]
    fn plus_in_timestamps_survives() {
        let r = ListReq::parse(Some("updated_at=gte|2025-01-01T00:00:00%2B01:00".into()))
            .expect("parse");
        assert!(r.time("updated_at").expect("time").is_some());
    }
}
