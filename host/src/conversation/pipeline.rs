//! The inbox workers: take events from the durable inbox, oldest first, one customer's
//! events in order and different customers in parallel (bounded), and run each as a turn.
//! A failed turn is retried with backoff; a crash leaves a lease that expires, so another
//! worker (or the restarted host) replays the event, and the turn's idempotency key keeps
//! the replay from answering twice.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::turn::{TurnError, TurnRunner};
use crate::leased_work::{self, LeasedWork, LoopSettings};
use crate::store::{InboxEvent, Store};

/// How the inbox is worked.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Turns run at once (different customers). Default 64: turns mostly wait on the
    /// store and plugins, not the CPU.
    pub workers: usize,
    /// How long a worker owns an event before another may take it over, in seconds; also
    /// how long the events a crashed host was working on wait before they are replayed.
    /// Default 15: longer than a turn (plugin deadlines are seconds), short enough that a
    /// restart answers the stranded messages quickly.
    pub lease_secs: u64,
    /// How often the inbox is checked when nothing woke the workers, in milliseconds.
    /// Default 500: picks up other instances' events and retries soon enough.
    pub poll_ms: u64,
    /// Attempts before an event is given up (status `failed`). Default 5.
    pub max_attempts: u32,
    /// First retry delay after a failed turn, in milliseconds, doubling each time.
    /// Default 1000.
    pub retry_base_ms: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            workers: 64,
            lease_secs: 15,
            poll_ms: 500,
            max_attempts: 5,
            retry_base_ms: 1000,
        }
    }
}

/// Runs the inbox.
pub struct InboxWorkers {
    store: Arc<dyn Store>,
    turns: Arc<TurnRunner>,
    config: PipelineConfig,
    wake: Arc<Notify>,
}

impl InboxWorkers {
    /// Workers over `store`, woken early by `wake` (notified when an event is inserted).
    pub fn new(
        store: Arc<dyn Store>,
        turns: Arc<TurnRunner>,
        config: PipelineConfig,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            turns,
            config,
            wake,
        }
    }

    /// Works the inbox until `shutdown`; then stops taking events and waits for the turns
    /// in flight to finish.
    pub async fn run(self, shutdown: CancellationToken) {
        let settings = LoopSettings {
            concurrency: self.config.workers,
            poll: Duration::from_millis(self.config.poll_ms.max(10)),
            wake: Arc::clone(&self.wake),
        };
        leased_work::run(Arc::new(self), settings, shutdown).await;
    }
}

impl LeasedWork for InboxWorkers {
    type Item = InboxEvent;

    async fn claim(&self, free: usize) -> Vec<InboxEvent> {
        self.claim_events(free).await
    }

    async fn handle(&self, event: InboxEvent) {
        self.process(event).await;
    }
}

impl InboxWorkers {
    async fn claim_events(&self, free: usize) -> Vec<InboxEvent> {
        let lease_ms =
            i64::try_from(self.config.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let limit = u32::try_from(free).unwrap_or(u32::MAX);
        match self.store.inbox_claim(now_ms(), lease_ms, limit).await {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "cannot read the inbox");
                Vec::new()
            }
        }
    }

    async fn process(&self, event: InboxEvent) {
        let id = event.id;
        let attempts = event.attempts;
        let result = self.turns.run(&event).await;
        let Err(error) = result else { return };
        let give_up = !error.is_retryable() || attempts >= self.config.max_attempts;
        let delay = self
            .config
            .retry_base_ms
            .saturating_mul(1 << attempts.saturating_sub(1).min(16));
        let retry_at = now_ms().saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
        if give_up {
            tracing::error!(event = id, attempts, %error, "inbox event given up");
        } else {
            tracing::warn!(event = id, attempts, %error, retry_in_ms = delay, "turn failed, will retry");
        }
        if let Err(store_error) = self
            .store
            .inbox_release(id, &error.to_string(), retry_at, give_up)
            .await
        {
            tracing::error!(event = id, error = %store_error, "cannot release inbox event; its lease will expire");
        }
    }
}

impl TurnError {
    /// Whether trying the event again can help (a store hiccup can; a corrupt event can't).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(_))
    }
}

/// Now, ms since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
