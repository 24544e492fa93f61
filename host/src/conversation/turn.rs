//! One turn: an inbox event becomes a stored customer message, then (when the bot holds
//! the conversation) middleware, the orchestrator and outbound middleware, and finally
//! one atomic commit of the replies, their outbox rows, the decision and the state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Notify;

use super::agent::Agent;
use super::cache::TtlCache;
use super::channel_directory::ChannelDirectory;
use super::handover::{Notice, Trigger, notice, phrases, too_many_misses};
use super::live::{LiveEvent, LiveHub};
use super::middleware::{InboundDecision, MiddlewareChain, call_context};
use super::model::{Bot, ChannelKind, NewMessage, Sender, SessionState, TurnDecision};
use super::orchestrator::Orchestrator;
use super::pipeline::now_ms;
use super::{Content, InboundEvent, InboundKind};
use crate::knowledge::service::Knowledge;
use crate::llm::LlmClient;
use crate::plugins::registry::PluginRegistry;
use crate::store::{
    ConversationOpening, HandoverNote, InboxEvent, Store, StoreError, TurnCommit, TurnCommitted,
};

/// Why a turn could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    /// The store failed; the event is retried.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event cannot be handled as stored (it is given up).
    #[error("unprocessable event: {0}")]
    Unprocessable(String),
}

/// Runs turns. Shared by every inbox worker.
pub struct TurnRunner {
    store: Arc<dyn Store>,
    orchestrator: Orchestrator,
    plugins: Option<Arc<PluginRegistry>>,
    live: Arc<LiveHub>,
    outbox_wake: Arc<Notify>,
    bots: TtlCache<Bot>,
    channels: Arc<ChannelDirectory>,
}

/// How long a bot's settings are trusted before they are read again. 5 s: an admin's
/// change applies almost at once; a busy bot does not read them on every message.
const SETTINGS_TTL: Duration = Duration::from_secs(5);

impl TurnRunner {
    /// A runner writing to `store`, announcing to `live`, waking the dispatcher with
    /// `outbox_wake`. Without `plugins`, bots run no middleware and their LLM gets no tools;
    /// without `knowledge`, only exact FAQ matches answer; bots with an LLM reach it
    /// through `llm`; channels are looked up in `channels`.
    pub fn new(
        store: Arc<dyn Store>,
        plugins: Option<Arc<PluginRegistry>>,
        live: Arc<LiveHub>,
        outbox_wake: Arc<Notify>,
        knowledge: Option<Arc<Knowledge>>,
        llm: LlmClient,
        channels: Arc<ChannelDirectory>,
    ) -> Self {
        Self {
            orchestrator: Orchestrator::new(Arc::clone(&store), knowledge)
                .with_agent(Arc::new(Agent::new(llm, plugins.clone()))),
            store,
            plugins,
            live,
            outbox_wake,
            bots: TtlCache::new(SETTINGS_TTL),
            channels,
        }
    }

    /// The orchestrator (to drop cached FAQs after an import).
    pub fn orchestrator(&self) -> &Orchestrator {
        &self.orchestrator
    }

    /// Drops what this runner keeps of a bot (its settings, FAQ and knowledge) after an
    /// admin changed it, so the next turn here uses the change. Other instances see it
    /// within their cache's 5 s.
    pub fn forget_bot(&self, bot_id: &str) {
        self.bots.invalidate(bot_id);
        self.orchestrator.invalidate(bot_id);
    }

    /// Handles one inbox event. Safe to run again for the same event.
    pub async fn run(&self, event: &InboxEvent) -> Result<(), TurnError> {
        let started = Instant::now();
        let inbound: InboundEvent = serde_json::from_str(&event.payload)
            .map_err(|error| TurnError::Unprocessable(format!("payload: {error}")))?;
        let channel = self.channels.get(&event.channel_id).await?.ok_or_else(|| {
            TurnError::Unprocessable(format!("channel '{}' is gone", event.channel_id))
        })?;
        let bot = self
            .bots
            .get_or_load(&channel.bot_id, self.store.bot(&channel.bot_id))
            .await?
            .ok_or_else(|| TurnError::Unprocessable(format!("bot '{}' is gone", channel.bot_id)))?;
        let typed = matches!(inbound.kind, InboundKind::Message(_));
        let (content, question) = match inbound.kind {
            InboundKind::Message(content) => {
                let question = content.text.clone().unwrap_or_default();
                (content, question)
            }
            // The button's title is what the customer "said"; its payload matters once
            // flows or tools read it.
            InboundKind::Postback { title, .. } => (Content::text(title.clone()), title),
            // Follows, reads and raw events carry nothing to answer (yet).
            InboundKind::Follow
            | InboundKind::Unfollow
            | InboundKind::Read(_)
            | InboundKind::Other(_) => {
                self.store.inbox_finish(event.id).await?;
                return Ok(());
            }
        };
        let language = inbound
            .locale
            .filter(|locale| bot.settings.languages.contains(locale))
            .unwrap_or_else(|| bot.settings.default_language().to_owned());
        let (contact, conversation) = self
            .store
            .open_conversation(&ConversationOpening {
                tenant_id: bot.tenant_id.clone(),
                bot_id: bot.id.clone(),
                channel_id: channel.id.clone(),
                channel_user_id: event.channel_user_id.clone(),
                display_name: inbound.display_name.clone(),
                language,
                now_ms: now_ms(),
            })
            .await?;
        let (stored, _) = self
            .store
            .record_inbound(&conversation, &event.channel_message_id, &content, now_ms())
            .await?;
        self.live.publish_for(
            &conversation.tenant_id,
            &conversation.id,
            LiveEvent::Message(Arc::new(stored)),
        );
        // "2" under a reply whose choices this channel showed as numbered lines is the
        // second button pressed: the bot answers the choice (the history keeps the "2").
        let chosen = match typed {
            true => {
                super::choices::numbered_choice(
                    &*self.store,
                    self.plugins.as_deref(),
                    &channel,
                    &conversation,
                    &question,
                )
                .await
            }
            false => None,
        };
        let (content, question) = match chosen {
            Some(choice) => (Content::text(choice.title.clone()), choice.title),
            None => (content, question),
        };

        let mut turn = TurnCommit {
            tenant_id: bot.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            channel_id: channel.id.clone(),
            key: format!("inbox:{}", event.id),
            inbox_event_id: Some(event.id),
            replies: Vec::new(),
            decision: None,
            // The widget reads its replies from the store: nothing for the dispatcher.
            delivered_live: channel.kind == ChannelKind::Widget,
            state_before: conversation.state,
            state: conversation.state,
            handover: None,
            consecutive_misses: conversation.consecutive_misses,
            now_ms: 0,
        };
        let handover = &bot.settings.handover;
        if conversation.state == SessionState::Waiting && phrases::cancels_waiting(&question) {
            // The customer no longer wants a person: the bot has the conversation again.
            turn.state = SessionState::Bot;
            turn.handover = Some(moved(Trigger::CustomerCancelled, "contact", None));
            turn.consecutive_misses = 0;
            turn.replies = vec![notice(&bot, &conversation.language, Notice::Cancelled)];
            turn.now_ms = now_ms();
            turn.decision = Some(handover_decision(Trigger::CustomerCancelled, None, started));
            return self.commit(turn, &conversation.id).await;
        }
        if conversation.state != SessionState::Bot {
            // A person holds the conversation (or will): the message is for them, and the
            // bot stays silent — no reply, no typing indicator.
            turn.now_ms = now_ms();
            self.store.commit_turn(&turn).await?;
            return Ok(());
        }
        self.live
            .publish_for(&bot.tenant_id, &conversation.id, LiveEvent::Typing(true));
        let context = call_context(&bot, &conversation, &contact);
        let middleware = MiddlewareChain::for_bot(self.plugins.as_ref(), &bot).await;
        let decided = middleware.inbound(&context, content).await;
        let (replies, decision) = match decided {
            InboundDecision::Continue {
                message,
                replies_first,
            } => {
                let question = message.text.clone().unwrap_or(question);
                // After the middleware: a business-hours plugin answering "no staff now"
                // outside hours keeps the conversation from being queued at all.
                if let Some(phrase) = phrases::asks_for_person(&question, &handover.phrases) {
                    turn.state = SessionState::Waiting;
                    turn.handover = Some(moved(
                        Trigger::CustomerAsked,
                        "contact",
                        Some(format!("asked: {phrase}")),
                    ));
                    let decision = handover_decision(Trigger::CustomerAsked, Some(phrase), started);
                    (replies_first, decision)
                } else {
                    let answer = self
                        .orchestrator
                        .answer_with(&bot, &conversation, &question, Some(&context))
                        .await?;
                    turn.consecutive_misses = if answer.decision.confident {
                        0
                    } else {
                        conversation.consecutive_misses.saturating_add(1)
                    };
                    let mut replies = replies_first;
                    if answer.grounds.wants_human {
                        // The knowledge tier heard a request for a person the phrase list
                        // missed ("cho mik gap nv that dc k"): queue it, no bot answer.
                        turn.state = SessionState::Waiting;
                        turn.consecutive_misses = 0;
                        turn.handover = Some(moved(
                            Trigger::CustomerAsked,
                            "knowledge",
                            Some("intent: wants a person".to_owned()),
                        ));
                    } else if let Some(asked) = &answer.grounds.tool_handover {
                        // A tool's result needs staff (a refund to approve …): the model's
                        // answer, if it gave one, goes out first, then the conversation queues.
                        if answer.decision.confident {
                            replies.push(answer.reply);
                        }
                        turn.state = SessionState::Waiting;
                        turn.consecutive_misses = 0;
                        turn.handover = Some(moved(
                            Trigger::Tool,
                            &format!("plugin:{}", asked.plugin),
                            Some(asked.reason.clone()),
                        ));
                    } else if let Some(faq) = &answer.grounds.faq_hands_over {
                        // An FAQ entry tagged `handover` answers and then queues (a complaint,
                        // a custom order): the shop decides in its FAQ.
                        replies.push(answer.reply);
                        turn.state = SessionState::Waiting;
                        turn.consecutive_misses = 0;
                        turn.handover = Some(moved(
                            Trigger::CustomerAsked,
                            "knowledge",
                            Some(format!("faq: {faq}")),
                        ));
                    } else if too_many_misses(
                        turn.consecutive_misses,
                        handover.low_confidence_turns,
                    ) {
                        // The bot keeps missing: a person answers instead of another "sorry".
                        turn.state = SessionState::Waiting;
                        turn.handover = Some(moved(
                            Trigger::LowConfidence,
                            "bot",
                            Some(format!(
                                "{} turns in a row without a confident answer",
                                turn.consecutive_misses
                            )),
                        ));
                        turn.consecutive_misses = 0;
                    } else {
                        replies.push(answer.reply);
                    }
                    (replies, answer.decision)
                }
            }
            InboundDecision::Reply { replies, by } => (
                replies,
                middleware_decision("middleware", json!({"replied_by": by}), started),
            ),
            InboundDecision::Handover {
                reason,
                replies,
                by,
            } => {
                turn.state = SessionState::Waiting;
                turn.handover = Some(moved(
                    Trigger::Middleware,
                    &format!("plugin:{by}"),
                    Some(reason.clone()),
                ));
                (
                    replies,
                    middleware_decision(
                        "handover",
                        json!({"asked_by": by, "reason": reason}),
                        started,
                    ),
                )
            }
            InboundDecision::Drop { reason, by } => {
                tracing::info!(plugin = %by, %reason, "message dropped by middleware");
                (
                    Vec::new(),
                    middleware_decision(
                        "dropped",
                        json!({"dropped_by": by, "reason": reason}),
                        started,
                    ),
                )
            }
        };
        let mut adjusted = Vec::with_capacity(replies.len());
        for reply in replies {
            let reply = middleware.outbound(&context, reply).await;
            if !reply.is_empty() {
                adjusted.push(NewMessage {
                    sender: Sender::Bot,
                    content: reply,
                });
            }
        }
        if turn.state == SessionState::Waiting {
            // The host's own words, after whatever the bot or a plugin said.
            adjusted.push(notice(&bot, &conversation.language, Notice::Waiting));
        }
        turn.replies = adjusted;
        turn.decision = Some(TurnDecision {
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ..decision
        });
        turn.now_ms = now_ms();
        let committed = self.commit(turn, &conversation.id).await;
        self.live
            .publish_for(&bot.tenant_id, &conversation.id, LiveEvent::Typing(false));
        committed
    }

    /// Commits `turn`, tells live listeners of its replies and of a change of hands, and
    /// wakes the dispatcher.
    async fn commit(&self, turn: TurnCommit, conversation_id: &str) -> Result<(), TurnError> {
        match self.store.commit_turn(&turn).await? {
            TurnCommitted::Stored(replies) => {
                // The change of hands first, then the notice announcing it (as the desk
                // does for operators' moves).
                if turn.state != turn.state_before
                    && let Some(now) = self
                        .store
                        .conversation(&turn.tenant_id, conversation_id)
                        .await?
                {
                    self.live.publish_for(
                        &turn.tenant_id,
                        conversation_id,
                        LiveEvent::State(Arc::new(now)),
                    );
                }
                // Live listeners (the widget, the console) read the store from their last
                // id on this nudge, without waiting for the dispatcher; channel plugins
                // get replies from it.
                for reply in replies {
                    self.live.publish_for(
                        &turn.tenant_id,
                        conversation_id,
                        LiveEvent::Message(Arc::new(reply)),
                    );
                }
            }
            TurnCommitted::Superseded { state } => {
                tracing::info!(
                    conversation = conversation_id,
                    state = state.as_str(),
                    "turn superseded: the conversation changed hands while the bot answered"
                );
            }
            TurnCommitted::AlreadyCommitted => {}
        }
        self.outbox_wake.notify_one();
        Ok(())
    }
}

/// Why a turn moved its conversation, for the handover history.
fn moved(trigger: Trigger, actor: &str, reason: Option<String>) -> HandoverNote {
    HandoverNote {
        trigger,
        actor: actor.to_owned(),
        reason,
    }
}

/// The decision of a turn that moved the conversation instead of answering.
fn handover_decision(trigger: Trigger, phrase: Option<&str>, started: Instant) -> TurnDecision {
    middleware_decision(
        "handover",
        json!({"trigger": trigger.as_str(), "phrase": phrase}),
        started,
    )
}

fn middleware_decision(
    tier: &str,
    candidates: serde_json::Value,
    started: Instant,
) -> TurnDecision {
    TurnDecision {
        tier: tier.to_owned(),
        confident: true,
        score: None,
        candidates,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        tokens: 0,
    }
}
