//! One visitor's WebSocket: `hello` → history, then messages in (into the durable inbox,
//! acked once stored) and the conversation's live events out, skipping anything the
//! visitor has already seen so a resume never shows a message twice.

use std::sync::atomic::Ordering;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use governor::clock::{Clock, DefaultClock};
use tokio::sync::broadcast::{self, error::RecvError};

use super::frames::{ClientFrame, MessageFrame, ServerFrame, SignedUser, parse};
use super::identity::{is_valid_visitor_id, new_visitor_id, verify_user};
use crate::conversation::live::LiveEvent;
use crate::conversation::model::{Bot, BotTexts, Channel, Conversation, Message};
use crate::conversation::pipeline::now_ms;
use crate::conversation::{Content, InboundEvent, InboundKind};
use crate::http::AppState;
use crate::store::{ConversationOpening, NewInboxEvent, StoreError};

/// Longest `client_id` accepted (a UUID is 36).
const MAX_CLIENT_ID: usize = 100;
/// WebSocket close code "service restart": the widget reconnects (to another instance).
const CLOSE_SERVICE_RESTART: u16 = 1012;

/// Who the socket speaks for, once `hello` arrived.
struct Visitor {
    channel_user_id: String,
    display_name: Option<String>,
    language: String,
}

struct Session {
    state: AppState,
    bot: Bot,
    channel: Channel,
    visitor: Option<Visitor>,
    conversation: Option<Conversation>,
    live: Option<broadcast::Receiver<LiveEvent>>,
    /// Highest message id the visitor has (seen before or sent on this socket).
    last_sent_id: i64,
}

/// What to do after handling something.
enum Next {
    Continue,
    Close,
}

/// Serves one socket until the visitor leaves or the host shuts down.
pub(super) async fn run(state: AppState, bot: Bot, channel: Channel, mut socket: WebSocket) {
    let shutdown = state.shutdown.clone();
    let mut session = Session {
        state,
        bot,
        channel,
        visitor: None,
        conversation: None,
        live: None,
        last_sent_id: 0,
    };
    loop {
        let next = tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(WsMessage::Text(text))) => session.on_text(&mut socket, text.as_str()).await,
                Some(Ok(WsMessage::Binary(_))) => {
                    send(&mut socket, &ServerFrame::error("bad_frame", "frames are JSON text, not binary", None)).await
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => Next::Continue,
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => Next::Close,
            },
            event = next_live(&mut session.live) => session.on_live(&mut socket, event).await,
            () = shutdown.cancelled() => {
                let _ = socket
                    .send(WsMessage::Close(Some(CloseFrame {
                        code: CLOSE_SERVICE_RESTART,
                        reason: "server restarting".into(),
                    })))
                    .await;
                Next::Close
            }
        };
        if let Next::Close = next {
            return;
        }
    }
}

async fn next_live(
    live: &mut Option<broadcast::Receiver<LiveEvent>>,
) -> Result<LiveEvent, RecvError> {
    match live {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> Next {
    let Ok(json) = serde_json::to_string(frame) else {
        return Next::Continue;
    };
    match socket.send(WsMessage::Text(json.into())).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Close,
    }
}

fn internal(error: &StoreError, client_id: Option<String>) -> ServerFrame {
    tracing::error!(%error, "widget: store error");
    ServerFrame::error(
        "internal",
        "the server could not store this; it will be retried",
        client_id,
    )
}

impl Session {
    fn prefix(&self) -> String {
        self.visitor
            .as_ref()
            .map(|visitor| format!("{}/", visitor.channel_user_id))
            .unwrap_or_default()
    }

    fn frame(&self, message: &Message) -> MessageFrame {
        MessageFrame::new(message, &self.prefix())
    }

    async fn on_text(&mut self, socket: &mut WebSocket, text: &str) -> Next {
        let frame = match parse(text) {
            Ok(frame) => frame,
            Err(error) => {
                return send(socket, &ServerFrame::error(error.code, error.message, None)).await;
            }
        };
        match frame {
            ClientFrame::Ping => send(socket, &ServerFrame::Pong).await,
            ClientFrame::Hello {
                visitor_id,
                last_seen_id,
                lang,
                user,
            } => {
                self.on_hello(socket, visitor_id, last_seen_id, lang, user)
                    .await
            }
            _ if self.visitor.is_none() => {
                send(
                    socket,
                    &ServerFrame::error("hello_required", "send a hello frame first", None),
                )
                .await
            }
            ClientFrame::Typing { .. } => Next::Continue,
            ClientFrame::Message {
                client_id,
                text,
                payload,
            } => match self.on_message(&client_id, text, payload).await {
                Ok(()) => send(socket, &ServerFrame::Ack { client_id }).await,
                Err(error) => send(socket, &error).await,
            },
        }
    }

    async fn on_hello(
        &mut self,
        socket: &mut WebSocket,
        visitor_id: Option<String>,
        last_seen_id: Option<i64>,
        lang: Option<String>,
        user: Option<SignedUser>,
    ) -> Next {
        let visitor_id = visitor_id
            .filter(|id| is_valid_visitor_id(id))
            .unwrap_or_else(new_visitor_id);
        let mut channel_user_id = visitor_id.clone();
        let mut display_name = None;
        if let Some(user) = user {
            if verify_user(&self.bot.widget_secret, &user.id, &user.signature) {
                channel_user_id = format!("u:{}", user.id);
                display_name = user.name;
            } else {
                let refused = ServerFrame::error(
                    "invalid_identity",
                    "the user signature does not match; chatting anonymously",
                    None,
                );
                if let Next::Close = send(socket, &refused).await {
                    return Next::Close;
                }
            }
        }
        let language = lang
            .filter(|lang| self.bot.settings.languages.contains(lang))
            .unwrap_or_else(|| self.bot.settings.default_language().to_owned());
        self.visitor = Some(Visitor {
            channel_user_id,
            display_name,
            language: language.clone(),
        });
        let messages = match self.catch_up_on_hello(last_seen_id).await {
            Ok(messages) => messages,
            Err(error) => return send(socket, &internal(&error, None)).await,
        };
        let ready = ServerFrame::Ready {
            visitor_id,
            conversation_id: self.conversation.as_ref().map(|c| c.id.clone()),
            welcome: BotTexts::pick(&self.bot.settings.texts.welcome, &language).to_owned(),
            messages: messages.iter().map(|message| self.frame(message)).collect(),
        };
        send(socket, &ready).await
    }

    /// Finds the visitor's open conversation, subscribes to it (before reading, so nothing
    /// stored in between is missed) and returns what the visitor has not seen.
    async fn catch_up_on_hello(
        &mut self,
        last_seen_id: Option<i64>,
    ) -> Result<Vec<Message>, StoreError> {
        let Some(visitor) = &self.visitor else {
            return Ok(Vec::new());
        };
        self.conversation = self
            .state
            .store
            .current_conversation(
                &self.bot.tenant_id,
                &self.channel.id,
                &visitor.channel_user_id,
            )
            .await?;
        let Some(conversation) = &self.conversation else {
            self.live = None;
            return Ok(Vec::new());
        };
        self.live = Some(self.state.live.subscribe(&conversation.id));
        let config = &self.state.widget.config;
        let messages = match last_seen_id {
            Some(after) => {
                self.state
                    .store
                    .messages_after(
                        &self.bot.tenant_id,
                        &conversation.id,
                        after,
                        config.resume_limit,
                    )
                    .await?
            }
            None => {
                self.state
                    .store
                    .latest_messages(&self.bot.tenant_id, &conversation.id, config.history_limit)
                    .await?
            }
        };
        self.last_sent_id = messages
            .iter()
            .map(|message| message.id)
            .chain(last_seen_id)
            .max()
            .unwrap_or(0);
        Ok(messages)
    }

    async fn on_message(
        &mut self,
        client_id: &str,
        text: String,
        payload: Option<String>,
    ) -> Result<(), ServerFrame> {
        let client = Some(client_id.to_owned());
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID || client_id.contains('/') {
            return Err(ServerFrame::error(
                "bad_frame",
                format!("client_id must be 1 to {MAX_CLIENT_ID} characters without '/'"),
                client,
            ));
        }
        let config = &self.state.widget.config;
        let length = text.chars().count();
        if length > config.max_text_chars {
            return Err(ServerFrame::error(
                "text_too_long",
                format!(
                    "{length} characters; at most {} per message",
                    config.max_text_chars
                ),
                client,
            ));
        }
        if text.trim().is_empty() && payload.is_none() {
            return Err(ServerFrame::error(
                "empty_message",
                "the message is empty",
                client,
            ));
        }
        let Some(visitor) = &self.visitor else {
            return Err(ServerFrame::error(
                "hello_required",
                "send a hello frame first",
                client,
            ));
        };
        if let Err(not_until) = self
            .state
            .widget
            .limiter
            .check_key(&visitor.channel_user_id)
        {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(ServerFrame::Error {
                code: "rate_limited",
                message: "too many messages at once; wait a moment".into(),
                client_id: client,
                retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
            });
        }
        let channel_user_id = visitor.channel_user_id.clone();
        let event = InboundEvent {
            channel_message_id: format!("{channel_user_id}/{client_id}"),
            channel_user_id: channel_user_id.clone(),
            display_name: visitor.display_name.clone(),
            locale: Some(visitor.language.clone()),
            timestamp_ms: now_ms(),
            kind: match payload {
                Some(payload) => InboundKind::Postback {
                    title: text,
                    payload,
                },
                None => InboundKind::Message(Content::text(text)),
            },
        };
        self.ensure_conversation()
            .await
            .map_err(|error| internal(&error, client.clone()))?;
        let payload = serde_json::to_string(&event)
            .map_err(|error| ServerFrame::error("internal", error.to_string(), client.clone()))?;
        self.state
            .store
            .inbox_insert(&NewInboxEvent {
                tenant_id: self.bot.tenant_id.clone(),
                channel_id: self.channel.id.clone(),
                channel_message_id: event.channel_message_id,
                channel_user_id,
                payload,
                now_ms: now_ms(),
            })
            .await
            .map_err(|error| internal(&error, client))?;
        self.state.inbox_wake.notify_one();
        Ok(())
    }

    /// Opens the visitor's conversation on their first message and follows it, so the
    /// echo and the replies reach this socket.
    async fn ensure_conversation(&mut self) -> Result<(), StoreError> {
        let open = self.conversation.as_ref().is_some_and(|conversation| {
            self.live.is_some()
                && conversation.state != crate::conversation::model::SessionState::Closed
        });
        if open {
            return Ok(());
        }
        let Some(visitor) = &self.visitor else {
            return Ok(());
        };
        let (_, conversation) = self
            .state
            .store
            .open_conversation(&ConversationOpening {
                tenant_id: self.bot.tenant_id.clone(),
                bot_id: self.bot.id.clone(),
                channel_id: self.channel.id.clone(),
                channel_user_id: visitor.channel_user_id.clone(),
                display_name: visitor.display_name.clone(),
                language: visitor.language.clone(),
                now_ms: now_ms(),
            })
            .await?;
        self.live = Some(self.state.live.subscribe(&conversation.id));
        self.conversation = Some(conversation);
        Ok(())
    }

    async fn on_live(
        &mut self,
        socket: &mut WebSocket,
        event: Result<LiveEvent, RecvError>,
    ) -> Next {
        match event {
            Ok(LiveEvent::Typing(on)) => send(socket, &ServerFrame::Typing { on }).await,
            Ok(LiveEvent::State(conversation)) => {
                // Closed by staff: the visitor's next message opens a new conversation.
                self.conversation = Some(conversation.as_ref().clone());
                Next::Continue
            }
            Ok(LiveEvent::Message(message)) if message.id <= self.last_sent_id => Next::Continue,
            // Pushed from the store, in id order, not in the order events arrive: the
            // next question's echo may be announced before the previous answer, and a
            // visitor resuming from the highest id it saw must not skip a lower one.
            Ok(LiveEvent::Message(_)) | Err(RecvError::Lagged(_)) => self.push_missed(socket).await,
            Err(RecvError::Closed) => {
                self.live = None;
                Next::Continue
            }
        }
    }

    async fn push(&mut self, socket: &mut WebSocket, message: &Message) -> Next {
        if message.id <= self.last_sent_id {
            return Next::Continue;
        }
        let every = self.state.widget.config.fault_drop_every_nth_reply;
        if every > 0 && message.sender.kind() != "contact" {
            let pushed = self
                .state
                .widget
                .replies_pushed
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            if pushed.is_multiple_of(every) {
                tracing::warn!(
                    message = message.id,
                    "widget: fault injection drops the socket before a reply"
                );
                return Next::Close;
            }
        }
        let frame = ServerFrame::Message(self.frame(message));
        let next = send(socket, &frame).await;
        if let Next::Continue = next {
            self.last_sent_id = message.id;
        }
        next
    }

    /// Sends every stored message after the last one sent, oldest first.
    async fn push_missed(&mut self, socket: &mut WebSocket) -> Next {
        let Some(conversation) = &self.conversation else {
            return Next::Continue;
        };
        let missed = self
            .state
            .store
            .messages_after(
                &self.bot.tenant_id,
                &conversation.id,
                self.last_sent_id,
                self.state.widget.config.resume_limit,
            )
            .await;
        match missed {
            Ok(missed) => {
                for message in missed {
                    if let Next::Close = self.push(socket, &message).await {
                        return Next::Close;
                    }
                }
                Next::Continue
            }
            Err(error) => send(socket, &internal(&error, None)).await,
        }
    }
}
