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

#[cfg(test)]
mod tests {
    use super::*;

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
