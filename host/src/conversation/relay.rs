//! Live events between host instances sharing one PostgreSQL database. Every event this
//! instance publishes goes out as a small note (`NOTIFY`); every note another instance
//! sends is read back from the store and delivered to this instance's listeners (the
//! widget's sockets, the console's feeds). So a customer on instance A and an operator on
//! instance B see each other live, with no broker but the database.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::live::{LiveEvent, LiveHub, RelayNote, TenantEvent};
use crate::store::{LiveRelay, Store, StoreError};

/// A note with the instance that sent it (so an instance ignores its own).
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The sending instance.
    o: String,
    #[serde(flatten)]
    note: RelayNote,
}

/// Wait before listening again after the listening connection failed; doubles up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Relays `live`'s events through `relay` until `shutdown`. Returns at once when the
/// store has no relay (SQLite).
pub fn start(store: Arc<dyn Store>, live: Arc<LiveHub>, shutdown: CancellationToken) {
    let Some(relay) = store.live_relay() else {
        return;
    };
    let origin = crate::store::new_id("in");
    let (notes, outgoing) = mpsc::unbounded_channel();
    live.relay_to(notes);
    tokio::spawn(send_notes(
        Arc::clone(&relay),
        origin.clone(),
        outgoing,
        shutdown.clone(),
    ));
    tokio::spawn(hear_notes(store, relay, live, origin, shutdown));
}

/// Sends this instance's notes, in order.
async fn send_notes(
    relay: Arc<dyn LiveRelay>,
    origin: String,
    mut outgoing: mpsc::UnboundedReceiver<RelayNote>,
    shutdown: CancellationToken,
) {
    loop {
        let note = tokio::select! {
            () = shutdown.cancelled() => return,
            note = outgoing.recv() => match note {
                Some(note) => note,
                None => return,
            },
        };
        let envelope = Envelope {
            o: origin.clone(),
            note,
        };
        let Ok(payload) = serde_json::to_string(&envelope) else {
            continue;
        };
        if let Err(error) = relay.notify(&payload).await {
            // The other instances' listeners catch up from the store (consoles on
            // reconnect, widgets on their next message); this instance goes on.
            tracing::warn!(%error, "live relay: a note could not be sent");
        }
    }
}

/// Listens for the other instances' notes, reconnecting with backoff.
async fn hear_notes(
    store: Arc<dyn Store>,
    relay: Arc<dyn LiveRelay>,
    live: Arc<LiveHub>,
    origin: String,
    shutdown: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        match relay.listen().await {
            Ok(mut listener) => {
                tracing::info!("live relay: listening for other instances");
                backoff = FIRST_BACKOFF;
                loop {
                    let payload = tokio::select! {
                        () = shutdown.cancelled() => return,
                        payload = listener.notes.recv() => payload,
                    };
                    let Some(payload) = payload else { break };
                    if let Err(error) = replay(store.as_ref(), &live, &origin, &payload).await {
                        tracing::warn!(%error, "live relay: a note could not be replayed");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "live relay: cannot listen"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Delivers the event a note of another instance names to this instance's listeners.
async fn replay(
    store: &dyn Store,
    live: &LiveHub,
    origin: &str,
    payload: &str,
) -> Result<(), StoreError> {
    let Ok(envelope) = serde_json::from_str::<Envelope>(payload) else {
        tracing::debug!(payload, "live relay: ignoring a note of another version");
        return Ok(());
    };
    if envelope.o == origin {
        return Ok(());
    }
    match envelope.note {
        RelayNote::Message { t, c, i } => {
            if let Some(message) = store.message(&t, i).await? {
                live.deliver_for(&t, &c, LiveEvent::Message(Arc::new(message)));
            }
        }
        RelayNote::State { t, c } => {
            if let Some(conversation) = store.conversation(&t, &c).await? {
                live.deliver_for(&t, &c, LiveEvent::State(Arc::new(conversation)));
            }
        }
        RelayNote::Typing { t, c, on } => live.deliver_for(&t, &c, LiveEvent::Typing(on)),
        RelayNote::Presence { t, u } => {
            let present = store.presence(&t, 0).await?;
            if let Some(presence) = present.into_iter().find(|entry| entry.user_id == u) {
                live.deliver_tenant(&t, TenantEvent::Presence(Arc::new(presence)));
            }
        }
    }
    Ok(())
}
