//! The running host: HTTP, the inbox workers and the dispatcher over one store, started
//! together and stopped together (stop taking work, finish what is in flight).

use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthService;
use crate::config::HostConfig;
use crate::conversation::channel_directory::ChannelDirectory;
use crate::conversation::handover::desk::HandoverDesk;
use crate::conversation::handover::timers;
use crate::conversation::live::LiveHub;
use crate::conversation::pipeline::InboxWorkers;
use crate::conversation::turn::TurnRunner;
use crate::delivery::{Dispatcher, OutboundDesk};
use crate::http::widget::WidgetState;
use crate::http::{AppState, router};
use crate::knowledge::Knowledge;
use crate::plugins::registry::PluginRegistry;
use crate::store::Store;
use crate::work_runtime::WorkRuntime;

/// Why the host stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
    /// The threads for turns and sends could not be started.
    #[error("cannot start the work threads: {0}")]
    WorkRuntime(std::io::Error),
}

/// Runs the host on `listener` until `shutdown` is cancelled, then drains: new visitors
/// are refused (`/readyz` says draining), sockets are told to reconnect elsewhere, turns
/// and sends in flight finish (at most `http.drain_secs`). `auth` signs and checks the
/// admin API's tokens (built from the master key by the caller, which knows where it is).
pub async fn serve(
    config: &HostConfig,
    store: Arc<dyn Store>,
    auth: Arc<AuthService>,
    plugins: Option<Arc<PluginRegistry>>,
    knowledge: Option<Arc<Knowledge>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let live = LiveHub::new();
    let inbox_wake = Arc::new(Notify::new());
    let outbox_wake = Arc::new(Notify::new());
    let channels = Arc::new(ChannelDirectory::new(Arc::clone(&store)));
    let turns = Arc::new(TurnRunner::new(
        Arc::clone(&store),
        plugins.clone(),
        Arc::clone(&live),
        Arc::clone(&outbox_wake),
        knowledge.clone(),
        crate::llm::LlmClient::new(&config.llm),
        Arc::clone(&channels),
    ));
    // Workers stop on their own token, cancelled only after HTTP stopped accepting, so
    // every message acknowledged to a visitor is still picked up before exit.
    let work_shutdown = CancellationToken::new();
    // Several instances on one PostgreSQL hear each other's live events, until the last
    // turn of the drain is told.
    crate::conversation::relay::start(Arc::clone(&store), Arc::clone(&live), work_shutdown.clone());
    let workers = InboxWorkers::new(
        Arc::clone(&store),
        Arc::clone(&turns),
        config.pipeline.clone(),
        Arc::clone(&inbox_wake),
    );
    let handover = Arc::new(HandoverDesk::new(
        Arc::clone(&store),
        Arc::clone(&live),
        Arc::clone(&outbox_wake),
    ));
    let outbound = Arc::new(OutboundDesk::new(
        Arc::clone(&store),
        Arc::clone(&live),
        Arc::clone(&outbox_wake),
    ));
    let dispatcher = Dispatcher::new(
        Arc::clone(&store),
        plugins.clone(),
        Arc::clone(&live),
        config.delivery.clone(),
        outbox_wake,
        Arc::clone(&channels),
    );
    let work = WorkRuntime::start().map_err(ServeError::WorkRuntime)?;
    let workers_task = work.spawn(workers.run(work_shutdown.clone()));
    let dispatcher_task = work.spawn(dispatcher.run(work_shutdown.clone()));
    let timers_task = work.spawn(timers::run(
        Arc::clone(&store),
        Arc::clone(&handover),
        work_shutdown.clone(),
    ));

    let state = AppState {
        store,
        plugins,
        live,
        inbox_wake,
        widget: Arc::new(WidgetState::new(config.widget.clone())),
        knowledge,
        turns: Arc::clone(&turns),
        handover,
        outbound,
        limits: Arc::new(crate::http::limits::RateLimits::new(
            &config.http.rate_limits,
        )),
        auth,
        channels,
        shutdown: shutdown.clone(),
    };
    let app = router(state, &config.http);
    let http_shutdown = shutdown.clone();
    // No Nagle: a reply is several small frames (ack, echo, answer), and each one after
    // the first would otherwise wait for the client's delayed ACK, 40 ms on Linux.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    // With the peer's address: rate limits per client IP and the audit log need it.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { http_shutdown.cancelled().await })
        .await;
    tracing::info!("HTTP stopped; draining turns and sends");
    work_shutdown.cancel();
    let drain = Duration::from_secs(config.http.drain_secs);
    let drained = tokio::time::timeout(drain, async {
        let _ = workers_task.await;
        let _ = dispatcher_task.await;
        let _ = timers_task.await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            drain_secs = config.http.drain_secs,
            "drain timed out; leases left will be picked up after restart"
        );
    }
    served.map_err(ServeError::Http)
}
