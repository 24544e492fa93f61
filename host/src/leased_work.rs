//! The loop shared by the inbox workers and the outbox dispatcher: lease work from the
//! store up to the free slots, run each item on its own task, wake up early when told
//! (an insert, a finished item) or at the poll interval, and on shutdown stop leasing and
//! wait for the items in flight.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Work handed out by lease.
pub(crate) trait LeasedWork: Send + Sync + 'static {
    /// One leased item.
    type Item: Send + 'static;
    /// Leases at most `wanted` items (none on error: the caller retries at the next poll).
    fn claim(&self, wanted: usize) -> impl Future<Output = Vec<Self::Item>> + Send;
    /// Handles one item to the end (recording success or failure itself).
    fn handle(&self, item: Self::Item) -> impl Future<Output = ()> + Send;
}

/// Most items leased by one claim. A claim holds the store's writer while it marks its
/// rows (~50 µs each on SQLite), and a webhook that arrives meanwhile waits for it: 64 rows
/// at once held webhooks up by milliseconds. With more free slots the loop claims again
/// at once.
const MAX_CLAIM: usize = 8;

/// How the loop runs.
pub(crate) struct LoopSettings {
    /// Items in flight at once.
    pub concurrency: usize,
    /// Longest wait between two claims when nothing wakes the loop.
    pub poll: Duration,
    /// Notified when new work may be there.
    pub wake: Arc<Notify>,
}

/// Runs `work` until `shutdown`, then waits for the items in flight.
pub(crate) async fn run<W: LeasedWork>(
    work: Arc<W>,
    settings: LoopSettings,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let tracker = TaskTracker::new();
    loop {
        // Registered before the claim so a wake-up between claim and wait is not lost.
        let woken = settings.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let wanted = slots.available_permits().min(MAX_CLAIM);
        let claimed = if wanted == 0 {
            Vec::new()
        } else {
            work.claim(wanted).await
        };
        let full_batch = !claimed.is_empty() && claimed.len() == wanted;
        for item in claimed {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let work = Arc::clone(&work);
            let wake = Arc::clone(&settings.wake);
            tracker.spawn(async move {
                work.handle(item).await;
                drop(permit);
                // The next item of the same customer or conversation may wait on this one.
                wake.notify_one();
            });
        }
        if full_batch {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = &mut woken => {}
            () = tokio::time::sleep(settings.poll) => {}
        }
    }
    tracker.close();
    tracker.wait().await;
}
