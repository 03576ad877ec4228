//! Cutting a pull into bounded batches, so a sync holds one batch of records
//! (and their resumes) at a time instead of the whole tenant.

use std::ops::Range;

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
