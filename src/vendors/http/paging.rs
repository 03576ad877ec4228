//! Listings that span pages.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use url::Url;

use super::headers::next_link;
use super::transport::{VendorHttp, decode};
use crate::vendors::VendorError;

/// How many pages a listing may have before we suspect a cursor loop.
pub const MAX_PAGES: usize = 100_000;

impl VendorHttp {
    /// GETs a bare-JSON-array listing and every following page named by
    /// `Link: <…>; rel="next"`, followed exactly as given.
    pub async fn get_link_paged<T: DeserializeOwned>(
        &self,
        first: Url,
    ) -> Result<Vec<T>, VendorError> {
        let mut out = Vec::new();
        let mut url = first;
        let origin = url.origin();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let resp = self.send(|| self.client().get(url.clone())).await?;
            let next = next_link(resp.headers());
            let page: Vec<T> = decode(resp).await?;
            out.extend(page);
            let Some(next) = next else {
                return Ok(out);
            };
            let next = url
                .join(&next)
                .map_err(|e| VendorError::Decode(format!("invalid next link: {e}")))?;
            // The bearer token must not follow a link to another host.
            if next.origin() != origin {
                return Err(VendorError::Decode(format!(
                    "next link points to another origin ({})",
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
}
