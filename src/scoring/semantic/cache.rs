//! A bounded, thread-safe LRU map (the `lru` crate behind a mutex): entries
//! are small and lookups rare next to a forward pass, so one lock is enough.

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

pub struct Bounded<K: Hash + Eq, V: Clone> {
    inner: Mutex<LruCache<K, V>>,
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    /// Holds at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Bounded {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        // A panic elsewhere while holding the lock leaves a consistent map.
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.get(key).cloned()
    }

    pub fn put(&self, key: K, value: V) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.put(key, value);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let c = Bounded::new(2);
        c.put("a", 1);
        c.put("b", 2);
        assert_eq!(c.get(&"a"), Some(1)); // "b" is now the oldest
        c.put("c", 3);
        assert_eq!(c.get(&"b"), None);
        assert_eq!(c.get(&"a"), Some(1));
        assert_eq!(c.get(&"c"), Some(3));
        assert_eq!(c.len(), 2);
        let zero: Bounded<u8, u8> = Bounded::new(0);
        zero.put(1, 1);
        assert_eq!(zero.len(), 1);
    }
}
