//! The channels every webhook, turn and send looks up, read through one short-lived cache:
//! at 2,000 webhooks a second a store read (and the opening of the channel's sealed
//! secrets) per request and per send was a good part of the work.

use std::sync::Arc;
use std::time::Duration;

use super::cache::TtlCache;
use super::model::Channel;
use crate::store::{Store, StoreError};

/// How long a channel is trusted before it is read again. 5 s: a change this process makes
/// applies at once (it calls [`ChannelDirectory::forget`]); one made elsewhere (the CLI,
/// another instance) within seconds.
const CHANNEL_TTL: Duration = Duration::from_secs(5);

/// Channels by id, from the store or from what was read in the last 5 s.
pub struct ChannelDirectory {
    store: Arc<dyn Store>,
    cache: TtlCache<Channel>,
}

impl ChannelDirectory {
    /// Channels of `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: TtlCache::new(CHANNEL_TTL),
        }
    }

    /// The channel `id`, `None` when there is none (an unknown id is not remembered, so a
    /// channel created meanwhile is found on the next request).
    pub async fn get(&self, id: &str) -> Result<Option<Arc<Channel>>, StoreError> {
        self.cache.get_or_load(id, self.store.channel(id)).await
    }

    /// Drops channel `id` after this process changed or deleted it.
    pub fn forget(&self, id: &str) {
        self.cache.invalidate(id);
    }
}
