//! [`LiveRelay`] over PostgreSQL: `pg_notify` on a pooled connection to send, and one
//! dedicated connection per instance that `LISTEN`s (a pooled one would be recycled).

use async_trait::async_trait;
use deadpool_postgres::tokio_postgres::{AsyncMessage, NoTls};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::PostgresStore;
use super::error::database;
use super::statements::execute;
use crate::store::StoreError;
use crate::store::relay::{LiveRelay, RelayListener};

/// The notification channel every instance of one database listens on.
const CHANNEL: &str = "loa_live";
/// Notes a slow instance may hold before the listener drops its connection (and then
/// catches up by listening again; its consoles catch up from the store).
const BACKLOG: usize = 4096;

#[async_trait]
impl LiveRelay for PostgresStore {
    async fn notify(&self, payload: &str) -> Result<(), StoreError> {
        execute(
            &self.client().await?,
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &payload],
        )
        .await?;
        Ok(())
    }

    async fn listen(&self) -> Result<RelayListener, StoreError> {
        let (client, mut connection) = self.config.connect(NoTls).await.map_err(database)?;
        let (sender, notes) = mpsc::channel(BACKLOG);
        let target = self.target.clone();
        // The connection delivers notifications only while it is polled: this task polls
        // it for as long as the listener wants notes.
        tokio::spawn(async move {
            let mut messages =
                futures_util::stream::poll_fn(move |context| connection.poll_message(context));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(note)) => {
                        if sender.try_send(note.payload().to_owned()).is_err() {
                            tracing::warn!(%target, "live relay listener fell behind; reconnecting");
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%target, %error, "live relay connection failed");
                        break;
                    }
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(database)?;
        Ok(RelayListener {
            notes,
            _connection: Box::new(client),
        })
    }
}
