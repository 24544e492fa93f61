//! The dispatcher: leases due outbox rows (one per conversation, so replies keep their
//! order), shapes each to what its channel renders, sends it, and records the attempt. On
//! shutdown it stops leasing and finishes the sends in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::retry::RetryPolicy;
use super::shaping::shape;
use crate::conversation::channel_directory::ChannelDirectory;
use crate::conversation::live::{LiveEvent, LiveHub};
use crate::conversation::model::PHONE_PREFIX;
use crate::conversation::model::{Channel, ChannelKind};
use crate::conversation::pipeline::now_ms;
use crate::leased_work::{self, LeasedWork, LoopSettings};
use crate::plugins::PluginCallError;
use crate::plugins::registry::PluginRegistry;
use crate::plugins::types as wit;
use crate::store::{AttemptResult, DeliveryAttempt, OutboxItem, Store, StoreError};

/// How replies are delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Sends in flight at once. Default 64.
    pub concurrency: usize,
    /// How long a dispatcher owns a row before another may retry it, in seconds.
    /// Default 15: longer than a channel plugin's send deadline (5 s).
    pub lease_secs: u64,
    /// How often the outbox is checked for due retries when nothing woke the dispatcher,
    /// in milliseconds. Default 500.
    pub poll_ms: u64,
    /// Backoff and dead-lettering.
    pub retry: RetryPolicy,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            concurrency: 64,
            lease_secs: 15,
            poll_ms: 500,
            retry: RetryPolicy::default(),
        }
    }
}

/// What one send attempt came to, before it is logged.
struct Sent {
    result: AttemptResult,
    provider_response: Option<String>,
}

/// Sends the outbox.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    plugins: Option<Arc<PluginRegistry>>,
    live: Arc<LiveHub>,
    config: DeliveryConfig,
    wake: Arc<Notify>,
    /// Where each row's channel is looked up (one store read per channel per few seconds,
    /// not per send).
    channels: Arc<ChannelDirectory>,
}

impl Dispatcher {
    /// A dispatcher over `store`, woken early by `wake` (notified when a turn commits),
    /// finding channels in `channels`.
    pub fn new(
        store: Arc<dyn Store>,
        plugins: Option<Arc<PluginRegistry>>,
        live: Arc<LiveHub>,
        config: DeliveryConfig,
        wake: Arc<Notify>,
        channels: Arc<ChannelDirectory>,
    ) -> Self {
        Self {
            channels,
            store,
            plugins,
            live,
            config,
            wake,
        }
    }

    /// Delivers until `shutdown`, then waits for the sends in flight.
    pub async fn run(self, shutdown: CancellationToken) {
        let settings = LoopSettings {
            concurrency: self.config.concurrency,
            poll: Duration::from_millis(self.config.poll_ms.max(10)),
            wake: Arc::clone(&self.wake),
        };
        leased_work::run(Arc::new(self), settings, shutdown).await;
    }
}

impl LeasedWork for Dispatcher {
    type Item = OutboxItem;

    async fn claim(&self, free: usize) -> Vec<OutboxItem> {
        let lease_ms =
            i64::try_from(self.config.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let limit = u32::try_from(free).unwrap_or(u32::MAX);
        self.store
            .outbox_claim(now_ms(), lease_ms, limit)
            .await
            .unwrap_or_else(|error| {
                tracing::error!(%error, "cannot read the outbox");
                Vec::new()
            })
    }

    async fn handle(&self, item: OutboxItem) {
        self.deliver(item).await;
    }
}

impl Dispatcher {
    async fn deliver(&self, item: OutboxItem) {
        let started = Instant::now();
        let row = &item.row;
        let sent = match self.send(&item).await {
            Ok(sent) => sent,
            Err(error) => Sent {
                result: self.failure(
                    row.id,
                    row.budget_attempts(),
                    format!("store: {error}"),
                    None,
                ),
                provider_response: None,
            },
        };
        match &sent.result {
            AttemptResult::Sent { .. } => {
                tracing::debug!(outbox = row.id, attempt = row.attempts, "reply delivered");
            }
            AttemptResult::Retry {
                reason,
                at_ms,
                in_doubt,
            } => {
                tracing::warn!(outbox = row.id, attempt = row.attempts, %reason, retry_at_ms = at_ms, in_doubt, "delivery failed, will retry");
            }
            AttemptResult::Dead { reason } => {
                tracing::error!(outbox = row.id, attempt = row.attempts, %reason, "delivery given up (dead letter)");
            }
        }
        let attempt = DeliveryAttempt {
            outbox_id: row.id,
            attempt: row.attempts,
            result: sent.result,
            provider_response: sent.provider_response,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            at_ms: now_ms(),
        };
        if let Err(error) = self.store.outbox_record_attempt(&attempt).await {
            tracing::error!(outbox = row.id, %error, "cannot record the delivery; the lease will expire and it is sent again");
        }
    }

    /// A retry, or a dead letter once attempts run out.
    fn failure(
        &self,
        id: i64,
        attempt: u32,
        reason: String,
        retry_after_ms: Option<u64>,
    ) -> AttemptResult {
        if self.config.retry.exhausted(attempt) {
            return AttemptResult::Dead {
                reason: format!("{reason} (gave up after {attempt} attempts)"),
            };
        }
        let delay = self
            .config
            .retry
            .delay_ms(attempt, retry_after_ms, id.unsigned_abs());
        AttemptResult::Retry {
            reason,
            at_ms: now_ms().saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
            in_doubt: false,
        }
    }

    async fn send(&self, item: &OutboxItem) -> Result<Sent, StoreError> {
        let row = &item.row;
        let Some(channel) = self.channels.get(&row.channel_id).await? else {
            return Ok(dead(format!(
                "channel '{}' no longer exists",
                row.channel_id
            )));
        };
        match &channel.kind {
            ChannelKind::Widget => {
                // The message is stored; a visitor not connected now gets it on resume.
                self.live.publish_for(
                    &row.tenant_id,
                    &row.conversation_id,
                    LiveEvent::Message(Arc::new(item.message.clone())),
                );
                Ok(Sent {
                    result: AttemptResult::Sent {
                        provider_message_id: None,
                    },
                    provider_response: None,
                })
            }
            ChannelKind::Plugin { plugin } => {
                self.send_through_plugin(item, &channel, plugin).await
            }
        }
    }

    async fn send_through_plugin(
        &self,
        item: &OutboxItem,
        channel: &Channel,
        plugin: &str,
    ) -> Result<Sent, StoreError> {
        let row = &item.row;
        let Some(registry) = &self.plugins else {
            return Ok(dead("this host runs without plugins".into()));
        };
        let Some(conversation) = self
            .store
            .conversation(&row.tenant_id, &row.conversation_id)
            .await?
        else {
            return Ok(dead(format!(
                "conversation '{}' is gone",
                row.conversation_id
            )));
        };
        let Some(contact) = self
            .store
            .contact(&row.tenant_id, &conversation.contact_id)
            .await?
        else {
            return Ok(dead(format!(
                "contact '{}' is gone",
                conversation.contact_id
            )));
        };
        let bound = match registry
            .bind_with_overrides(&row.tenant_id, plugin, None, &channel.secrets)
            .await
        {
            Ok(bound) => bound,
            Err(error) => {
                return Ok(Sent {
                    result: self.failure(
                        row.id,
                        row.budget_attempts(),
                        format!("plugin: {error}"),
                        None,
                    ),
                    provider_response: None,
                });
            }
        };
        let target = wit::ConversationRef {
            tenant_id: row.tenant_id.clone(),
            bot_id: channel.bot_id.clone(),
            channel_id: channel.id.clone(),
            conversation_id: conversation.id.clone(),
            contact: wit::ContactRef {
                channel_user_id: contact.channel_user_id.clone(),
                display_name: contact.display_name.clone(),
            },
        };
        if let Some(template) = &item.message.content.template {
            let template = wit::TemplateMessage {
                channel_id: channel.id.clone(),
                template_id: template.id.clone(),
                // A template goes to a phone number (`phone:84…` as the contact's id).
                recipient: contact
                    .channel_user_id
                    .strip_prefix(PHONE_PREFIX)
                    .unwrap_or(&contact.channel_user_id)
                    .to_owned(),
                params: template
                    .params
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
                tracking_id: format!("loa-{}", row.id),
            };
            let report = registry.engine().send_template(&bound, &template).await;
            return Ok(self.outcome(row, report.outcome));
        }
        // Shaped to what the channel renders: a plugin never gets what it cannot show.
        let capabilities = match registry.engine().channel_capabilities(&bound).await {
            Ok(capabilities) => capabilities,
            Err(error) => {
                return Ok(Sent {
                    result: self.failure(
                        row.id,
                        row.budget_attempts(),
                        format!("plugin capabilities: {error}"),
                        None,
                    ),
                    provider_response: None,
                });
            }
        };
        let shaped = shape(&item.message.content, &capabilities, &conversation.language);
        let message: wit::Message = shaped.content.into();
        if let Some(started_ms) = item.lost_send_started_ms {
            // A host stopped during this row's last send: the customer may have it already.
            let (tenant, conversation_id, id) =
                (&row.tenant_id, &row.conversation_id, item.message.id);
            let around = self
                .store
                .provider_ids_before(tenant, conversation_id, id)
                .await?;
            let unfinished = wit::UnfinishedSend {
                started_ms: started_ms.max(0).unsigned_abs(),
                previous_message_id: self
                    .store
                    .delivered_before(tenant, conversation_id, id)
                    .await?,
                last_message_id: around.last,
                channel_message_ids: around.channel,
            };
            let check = registry
                .engine()
                .check_sent(&bound, &target, &message, &unfinished)
                .await;
            if let Some(arrived) = arrived_before(row.id, check.outcome) {
                return Ok(arrived);
            }
        }
        let report = registry.engine().send(&bound, &target, &message).await;
        Ok(self.outcome(row, report.outcome))
    }

    /// What a plugin's answer to a send comes to.
    fn outcome(
        &self,
        row: &crate::store::OutboxRow,
        outcome: Result<Result<wit::DeliveryReceipt, wit::DeliveryError>, PluginCallError>,
    ) -> Sent {
        match outcome {
            Ok(Ok(receipt)) => Sent {
                result: AttemptResult::Sent {
                    provider_message_id: receipt.provider_message_id,
                },
                provider_response: receipt.provider_response,
            },
            Ok(Err(wit::DeliveryError::Transient(failure))) => Sent {
                result: self.failure(
                    row.id,
                    row.budget_attempts(),
                    failure.reason,
                    failure.retry_after_ms,
                ),
                provider_response: None,
            },
            // The request may have reached the provider: the retry asks it first.
            Ok(Err(wit::DeliveryError::InDoubt(failure))) => Sent {
                result: in_doubt(self.failure(
                    row.id,
                    row.budget_attempts(),
                    failure.reason,
                    failure.retry_after_ms,
                )),
                provider_response: None,
            },
            Ok(Err(wit::DeliveryError::Permanent(reason))) => dead(reason),
            // Stopped at its deadline, the plugin may have been waiting for the provider's
            // answer to a request it had sent.
            Err(error @ PluginCallError::Timeout { .. }) => Sent {
                result: in_doubt(self.failure(
                    row.id,
                    row.budget_attempts(),
                    error.to_string(),
                    None,
                )),
                provider_response: None,
            },
            // The plugin itself failed (trap, memory, breaker): maybe fixed later.
            Err(error) => Sent {
                result: self.failure(row.id, row.budget_attempts(), error.to_string(), None),
                provider_response: None,
            },
        }
    }
}

/// `result`, a retry of a send whose outcome is not known (a dead letter stays one).
fn in_doubt(result: AttemptResult) -> AttemptResult {
    match result {
        AttemptResult::Retry { reason, at_ms, .. } => AttemptResult::Retry {
            reason,
            at_ms,
            in_doubt: true,
        },
        other => other,
    }
}

/// What the channel found of a send a stopped host left unfinished: the attempt to record
/// when the message is already there, `None` when it must be sent (again).
fn arrived_before(outbox_id: i64, check: Result<wit::SendCheck, PluginCallError>) -> Option<Sent> {
    match check {
        Ok(wit::SendCheck::Arrived(receipt)) => {
            tracing::info!(
                outbox = outbox_id,
                "the send a stopped host left unfinished arrived; not sending it again"
            );
            let response = receipt.provider_response.unwrap_or_default();
            Some(Sent {
                result: AttemptResult::Sent {
                    provider_message_id: receipt.provider_message_id,
                },
                provider_response: Some(format!(
                    "{ARRIVED_BEFORE_NOTE}{}{response}",
                    if response.is_empty() { "" } else { ": " }
                )),
            })
        }
        Ok(wit::SendCheck::Missing) => {
            tracing::info!(
                outbox = outbox_id,
                "the send a stopped host left unfinished did not arrive; sending it"
            );
            None
        }
        Ok(wit::SendCheck::Unknown(reason)) => {
            tracing::info!(
                outbox = outbox_id,
                %reason,
                "cannot tell whether the send a stopped host left unfinished arrived; sending it again"
            );
            None
        }
        Err(error) => {
            tracing::warn!(
                outbox = outbox_id,
                %error,
                "checking a send a stopped host left unfinished failed; sending it again"
            );
            None
        }
    }
}

/// Starts the delivery log's response of an attempt that found its message already sent.
pub const ARRIVED_BEFORE_NOTE: &str =
    "already at the provider (sent before the host stopped), not sent again";

fn dead(reason: String) -> Sent {
    Sent {
        result: AttemptResult::Dead { reason },
        provider_response: None,
    }
}
