//! The bot's middleware plugins around a turn: `on-inbound` before the orchestrator (may
//! rewrite, reply, hand over or drop) and `on-outbound` on every reply. A middleware that
//! fails is skipped with a warning: a broken plugin must not silence the shop's bot.

use std::sync::Arc;

use super::Content;
use super::model::{Bot, Contact, Conversation};
use crate::plugins::registry::PluginRegistry;
use crate::plugins::types as wit;
use crate::plugins::{PluginKind, TenantPlugin};

/// The bot's middleware plugins, bound for its tenant, in the bot's order.
pub struct MiddlewareChain {
    registry: Option<Arc<PluginRegistry>>,
    plugins: Vec<TenantPlugin>,
}

/// What the inbound middleware decided, folded over the chain.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundDecision {
    /// Go on to the orchestrator with this message; send `replies_first` before its answer.
    Continue {
        /// The (possibly rewritten) message.
        message: Content,
        /// Replies a middleware sent and then let the bot go on.
        replies_first: Vec<Content>,
    },
    /// A middleware answered; the bot does not run.
    Reply {
        /// Every reply, in order.
        replies: Vec<Content>,
        /// The plugin that answered.
        by: String,
    },
    /// A middleware asked for a person.
    Handover {
        /// Its reason, shown to the operator.
        reason: String,
        /// Replies sent before.
        replies: Vec<Content>,
        /// The plugin that asked.
        by: String,
    },
    /// A middleware dropped the message.
    Drop {
        /// Its reason, for the log.
        reason: String,
        /// The plugin that dropped it.
        by: String,
    },
}

impl MiddlewareChain {
    /// Binds the bot's enabled middleware plugins; one that cannot be loaded is skipped and
    /// logged.
    pub async fn for_bot(registry: Option<&Arc<PluginRegistry>>, bot: &Bot) -> Self {
        Self {
            registry: registry.cloned(),
            plugins: super::bot_plugins::bound_if(registry, bot, PluginKind::Middleware).await,
        }
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// Runs `on-inbound` of every middleware in order.
    pub async fn inbound(&self, context: &wit::CallContext, message: Content) -> InboundDecision {
        let mut message = message;
        let mut replies = Vec::new();
        let Some(registry) = &self.registry else {
            return InboundDecision::Continue {
                message,
                replies_first: replies,
            };
        };
        for plugin in &self.plugins {
            let report = registry
                .engine()
                .on_inbound(plugin, context, &message.clone().into())
                .await;
            let by = plugin.plugin.id();
            match report.outcome {
                Ok(wit::Verdict::Continue(rewritten)) => message = rewritten.into(),
                Ok(wit::Verdict::ReplyAndContinue(reply)) => replies.push(reply.into()),
                Ok(wit::Verdict::Reply(reply)) => {
                    replies.push(reply.into());
                    return InboundDecision::Reply { replies, by };
                }
                Ok(wit::Verdict::Handover(reason)) => {
                    return InboundDecision::Handover {
                        reason,
                        replies,
                        by,
                    };
                }
                Ok(wit::Verdict::Drop(reason)) => return InboundDecision::Drop { reason, by },
                Err(error) => tracing::warn!(
                    tenant = %context.tenant_id, plugin = %by, %error,
                    "middleware on-inbound failed; going on without it"
                ),
            }
        }
        InboundDecision::Continue {
            message,
            replies_first: replies,
        }
    }

    /// Runs `on-outbound` of every middleware in order on one reply.
    pub async fn outbound(&self, context: &wit::CallContext, reply: Content) -> Content {
        let Some(registry) = &self.registry else {
            return reply;
        };
        let mut reply = reply;
        for plugin in &self.plugins {
            let report = registry
                .engine()
                .on_outbound(plugin, context, &reply.clone().into())
                .await;
            match report.outcome {
                Ok(adjusted) => reply = adjusted.into(),
                Err(error) => tracing::warn!(
                    tenant = %context.tenant_id, plugin = %plugin.plugin.id(), %error,
                    "middleware on-outbound failed; reply sent as it was"
                ),
            }
        }
        reply
    }
}

/// The call context middleware and tools see for a conversation.
pub fn call_context(bot: &Bot, conversation: &Conversation, contact: &Contact) -> wit::CallContext {
    wit::CallContext {
        tenant_id: bot.tenant_id.clone(),
        bot_id: bot.id.clone(),
        conversation_id: Some(conversation.id.clone()),
        channel_id: Some(conversation.channel_id.clone()),
        locale: Some(conversation.language.clone()),
        contact: Some(wit::ContactRef {
            channel_user_id: contact.channel_user_id.clone(),
            display_name: contact.display_name.clone(),
        }),
    }
}
