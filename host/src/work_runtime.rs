//! The runtime the background work runs on: turns and sends get their own worker threads,
//! apart from the ones that answer HTTP. A webhook must be acknowledged in milliseconds
//! whatever the backlog; on one runtime its handler queued behind every runnable turn and
//! send (128 by default), and its latency grew with the load. On threads of their own, the
//! acknowledgements use little CPU, so the kernel's scheduler runs them as soon as they
//! wake, ahead of the threads that are busy with turns.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

/// A multi-threaded tokio runtime owned from async code: it is shut down without blocking
/// (dropping a runtime inside another one would panic).
pub struct WorkRuntime {
    /// Where tasks are spawned.
    handle: Handle,
    /// Taken only by `drop`, to shut it down without blocking.
    runtime: Option<Runtime>,
}

impl WorkRuntime {
    /// One worker thread per core, named `loa-work`.
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .thread_name("loa-work")
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `work` on the work threads.
    pub fn spawn<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(work)
    }
}

impl Drop for WorkRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // The serve loop awaited its tasks before this; whatever is left is abandoned.
            runtime.shutdown_background();
        }
    }
}
