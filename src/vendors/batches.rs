//! Cutting a pull into bounded batches, so a sync holds one batch of records
//! (and their resumes) at a time instead of the whole tenant.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;

use super::{Batches, VendorError};
use crate::model::ChangeSet;

/// Records per batch of a pull (and per checkpoint).
pub const BATCH: usize = 100;

/// Pure: cuts `items` (ordered by `key`) into ranges of about `size`, never
/// between two items with the same key (one candidate's applications, whose
/// resume is fetched once). An empty input gives one empty range, so a pull
/// always yields a batch (it carries the jobs and what is unchanged).
pub fn bounds<T, K: PartialEq>(
    items: &[T],
    size: usize,
    key: impl Fn(&T) -> K,
) -> Vec<Range<usize>> {
    let size = size.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = (start + size).min(items.len());
        while end < items.len() && key(&items[end]) == key(&items[end - 1]) {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// A batched pull: `plan` once (the listings), then `batch` for each of its
/// `ranges`, one at a time. The first batch also gets `extras`: what belongs to
/// the pull rather than to a batch (the unchanged, the deleted).
pub fn stream<'a, P, F, B>(
    plan: F,
    ranges: fn(&P) -> Vec<Range<usize>>,
    extras: fn(&P, &mut ChangeSet),
    batch: B,
) -> Batches<'a>
where
    P: Send + Sync + 'a,
    F: Future<Output = Result<P, VendorError>> + Send + 'a,
    B: Fn(Arc<P>, Range<usize>) -> BoxFuture<'a, Result<ChangeSet, VendorError>> + Send + Sync + 'a,
{
    let batch = Arc::new(batch);
    let s = futures::stream::once(plan).flat_map(move |plan| match plan {
        Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        Ok(plan) => {
            let plan = Arc::new(plan);
            let batch = batch.clone();
            futures::stream::iter(ranges(&plan).into_iter().enumerate())
                .then(move |(i, range)| {
                    let (plan, batch) = (plan.clone(), batch.clone());
                    async move {
                        let mut out = batch(plan.clone(), range).await?;
                        if i == 0 {
                            extras(&plan, &mut out);
                        }
                        Ok(out)
                    }
                })
                .boxed()
        }
    });
    Box::pin(s)
}

/// Applications fetched by id per chunk of a pull by id: Greenhouse's id
/// filters take at most 50, and a chunk's records are held at once.
pub const BY_ID: usize = 50;

/// Pure: `ids` without repeats (first occurrence kept), in chunks of [`BY_ID`].
pub fn id_chunks(ids: &[String]) -> Vec<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<String> = ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect();
    unique.chunks(BY_ID).map(<[String]>::to_vec).collect()
}

/// A pull by id: `fetch` for each chunk of `ids`, one after the other, the
/// results merged (jobs once each).
pub async fn by_id<F, Fut>(ids: &[String], mut fetch: F) -> Result<ChangeSet, VendorError>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: Future<Output = Result<ChangeSet, VendorError>>,
{
    let mut out = ChangeSet::default();
    for chunk in id_chunks(ids) {
        let mut more = fetch(chunk).await?;
        let jobs = std::mem::take(&mut more.jobs);
        for j in jobs {
            if !out.jobs.iter().any(|k| k.id == j.id) {
                out.jobs.push(j);
            }
        }
        out.absorb(more);
    }
    // Not a pull of what changed: nothing to resume, no watermark.
    out.high_watermark = None;
    out.resume_after = None;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_chunks_are_bounded_and_unique() {
        let ids: Vec<String> = (0..120).chain(0..10).map(|i| i.to_string()).collect();
        let chunks = id_chunks(&ids);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![50, 50, 20]
        );
        assert_eq!(chunks[0][0], "0");
        assert_eq!(chunks[2][19], "119");
        assert!(id_chunks(&[]).is_empty());
    }

    #[test]
    fn batches_never_split_a_key() {
        // 251 items; key 99 appears twice, across the first cut.
        let mut keys: Vec<u32> = (0..250).collect();
        keys.insert(100, 99);
        let b = bounds(&keys, 100, |k| *k);
        assert_eq!(b.first(), Some(&(0..101)));
        assert_eq!(b.iter().map(|r| r.len()).sum::<usize>(), keys.len());
        for r in &b {
            if r.end < keys.len() {
                assert_ne!(keys[r.end - 1], keys[r.end]);
            }
        }
        assert_eq!(bounds(&[] as &[u32], 100, |k| *k), vec![0..0]);
        assert_eq!(bounds(&[1, 1, 1], 1, |k| *k), vec![0..3]);
    }
}
