//! A small read-through cache with a time to live, for what every turn reads and admins
//! rarely change (bots, channels, FAQ indexes): a change shows up within the TTL without a
//! store read per message.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values by key, each trusted for `ttl` after it was loaded.
pub struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> TtlCache<V> {
    /// An empty cache.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<V>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached value of `key`, or what `load` returns (cached when `Some`). Two callers
    /// missing at once both load; the later insert wins, which is harmless here.
    pub async fn get_or_load<E, F>(&self, key: &str, load: F) -> Result<Option<Arc<V>>, E>
    where
        F: Future<Output = Result<Option<V>, E>>,
    {
        if let Some((loaded, value)) = self.lock().get(key)
            && loaded.elapsed() < self.ttl
        {
            return Ok(Some(Arc::clone(value)));
        }
        let Some(value) = load.await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.lock()
            .insert(key.to_owned(), (Instant::now(), Arc::clone(&value)));
        Ok(Some(value))
    }

    /// Forgets `key` (after a change made by this process).
    pub fn invalidate(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_value_is_not_loaded_again() {
        let cache = TtlCache::new(Duration::from_secs(60));
        let first: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(1)) }).await;
        let second: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(2)) }).await;
        assert_eq!(
            (
                first.ok().flatten().map(|v| *v),
                second.ok().flatten().map(|v| *v)
            ),
            (Some(1), Some(1))
        );
    }

    #[tokio::test]
    async fn an_expired_or_invalidated_value_is_loaded_again() {
        let cache = TtlCache::new(Duration::ZERO);
        let _: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(1)) }).await;
        let again: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(2)) }).await;
        assert_eq!(again.ok().flatten().map(|v| *v), Some(2));
        let cache = TtlCache::new(Duration::from_secs(60));
        let _: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(1)) }).await;
        cache.invalidate("a");
        let again: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(3)) }).await;
        assert_eq!(again.ok().flatten().map(|v| *v), Some(3));
    }

    #[tokio::test]
    async fn a_missing_value_is_not_cached() {
        let cache: TtlCache<i32> = TtlCache::new(Duration::from_secs(60));
        let missing: Result<_, ()> = cache.get_or_load("a", async { Ok(None) }).await;
        assert!(missing.ok().flatten().is_none());
        let found: Result<_, ()> = cache.get_or_load("a", async { Ok(Some(4)) }).await;
        assert_eq!(found.ok().flatten().map(|v| *v), Some(4));
    }
}
