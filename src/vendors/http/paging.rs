//! Listings that span pages by next-page URLs the vendor hands out
//! (Greenhouse's `Link: rel="next"`, Workable's `paging.next`). They are
//! followed as given, but only on the first page's origin, so the token never
//! goes to another host, and never round a loop.

use std::collections::HashSet;
use std::future::Future;

use serde::de::DeserializeOwned;
use url::Url;

use super::headers::next_link;
use super::transport::{VendorHttp, decode};
use crate::vendors::VendorError;

/// How many pages a listing may have before we suspect a cursor loop.
pub const MAX_PAGES: usize = 100_000;

/// How many records one listing may return: far beyond any tenant this
/// operator is built for, and a bound on what a vendor can make it hold.
pub const MAX_RECORDS: usize = 500_000;

/// Pure: whether a listing at `path` that has returned `records` may go on.
pub fn within_records(path: &str, records: usize) -> Result<(), VendorError> {
    if records > MAX_RECORDS {
        return Err(VendorError::Decode(format!(
            "{path}: more than {MAX_RECORDS} records in one listing; narrow spec.scope"
        )));
    }
    Ok(())
}

/// Every page from `first` on. `page` fetches one URL and returns its items
/// and the next-page reference, absolute or relative to that URL (`None` on
/// the last page); `what` names the reference in errors (`"next link"`).
pub async fn follow_next<T, F, Fut>(
    first: Url,
    what: &str,
    mut page: F,
) -> Result<Vec<T>, VendorError>
where
    F: FnMut(Url) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), VendorError>>,
{
    let origin = first.origin();
    let mut out = Vec::new();
    let mut url = first;
    let mut seen = HashSet::new();
    for _ in 0..MAX_PAGES {
        let (items, next) = page(url.clone()).await?;
        out.extend(items);
        within_records(url.path(), out.len())?;
        let Some(next) = next else {
            return Ok(out);
        };
        let next = url
            .join(&next)
            .map_err(|e| VendorError::Decode(format!("invalid {what}: {e}")))?;
        // The bearer token must not follow a link to another host.
        if next.origin() != origin {
            return Err(VendorError::Decode(format!(
                "{what} points to another origin ({})",
                next.origin().ascii_serialization()
            )));
        }
        if !seen.insert(next.to_string()) {
            return Err(VendorError::Decode(format!("{}: paging loops", url.path())));
        }
        url = next;
    }
    Err(VendorError::Decode(format!(
        "{}: more than {MAX_PAGES} pages",
        url.path()
    )))
}

impl VendorHttp {
    /// GETs a bare-JSON-array listing and every following page named by
    /// `Link: <…>; rel="next"`, followed exactly as given.
    pub async fn get_link_paged<T: DeserializeOwned>(
        &self,
        first: Url,
    ) -> Result<Vec<T>, VendorError> {
        follow_next(first, "next link", |url| async move {
            let resp = self.send(|| self.client().get(url.clone())).await?;
            let next = next_link(resp.headers());
            let page: Vec<T> = decode(resp).await?;
            Ok((page, next))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Pages served from a fixed map of URL to (items, next).
    async fn run(
        pages: &[(&str, &[u32], Option<&str>)],
    ) -> (Result<Vec<u32>, VendorError>, Vec<String>) {
        let mut asked = Vec::new();
        let got = follow_next(url(pages[0].0), "next link", |u: Url| {
            asked.push(u.to_string());
            let found = pages.iter().find(|p| p.0 == u.as_str()).copied();
            async move {
                let (_, items, next) = found.expect("a known page");
                Ok((items.to_vec(), next.map(str::to_string)))
            }
        })
        .await;
        (got, asked)
    }

    #[test]
    fn records_per_listing_are_capped() {
        assert!(within_records("/v3/candidates", MAX_RECORDS).is_ok());
        let e = within_records("/v3/candidates", MAX_RECORDS + 1).unwrap_err();
        assert!(e.to_string().contains("narrow spec.scope"), "{e}");
    }

    #[tokio::test]
    async fn pages_are_followed_relative_or_absolute_until_none() {
        let (got, asked) = run(&[
            ("http://127.0.0.1:1/v3/jobs", &[1, 2], Some("/v3/jobs?c=2")),
            (
                "http://127.0.0.1:1/v3/jobs?c=2",
                &[3],
                Some("http://127.0.0.1:1/v3/jobs?c=3"),
            ),
            ("http://127.0.0.1:1/v3/jobs?c=3", &[], None),
        ])
        .await;
        assert_eq!(got.unwrap(), vec![1, 2, 3]);
        assert_eq!(asked.len(), 3);
    }

    #[tokio::test]
    async fn another_origin_is_not_followed() {
        for next in ["http://127.0.0.2:1/v3/jobs?c=2", "https://127.0.0.1:1/x"] {
            let (got, asked) = run(&[("http://127.0.0.1:1/v3/jobs", &[1], Some(next))]).await;
            match got {
                Err(VendorError::Decode(m)) => {
                    assert!(m.starts_with("next link points to another origin"), "{m}")
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(asked.len(), 1);
        }
    }

    #[tokio::test]
    async fn a_loop_is_an_error() {
        let (got, _) = run(&[
            ("http://127.0.0.1:1/a", &[1], Some("/b")),
            ("http://127.0.0.1:1/b", &[2], Some("/a")),
        ])
        .await;
        // /a is the first page, never recorded as a next URL: /a -> /b -> /a -> /b loops.
        match got {
            Err(VendorError::Decode(m)) => assert_eq!(m, "/a: paging loops"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unparseable_next_is_an_error() {
        let (got, _) = run(&[("http://127.0.0.1:1/a", &[1], Some("http://[::1"))]).await;
        match got {
            Err(VendorError::Decode(m)) => assert!(m.starts_with("invalid next link: "), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
