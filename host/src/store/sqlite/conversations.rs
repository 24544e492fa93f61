//! SQLite side of [`ConversationStore`](crate::store::ConversationStore).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::backend;
use super::cached::CachedStatements;
use crate::conversation::Content;
use crate::conversation::model::{
    Bot, Channel, Contact, Conversation, Direction, FaqEntry, Message, NewMessage, SessionState,
    Tenant,
};
use crate::store::codec::{LIVE_DELIVERY_NOTE, decode, encode, live_delivery, new_id};
use crate::store::{ConversationOpening, StoreError, StoredDecision, TurnCommit, TurnCommitted};

pub(super) fn put_tenant(connection: &Connection, tenant: &Tenant) -> Result<(), StoreError> {
    connection
        .execute_cached(
            "INSERT INTO tenants (id, name, created_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            params![tenant.id, tenant.name, tenant.created_at_ms],
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn tenant(connection: &Connection, id: &str) -> Result<Option<Tenant>, StoreError> {
    connection
        .query_row_cached(
            "SELECT id, name, created_at_ms FROM tenants WHERE id = ?1",
            [id],
            |row| {
                Ok(Tenant {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    created_at_ms: row.get(2)?,
                })
            },
        )
        .optional()
        .map_err(backend)
}

/// Fails when `id` already belongs to another tenant in `table`.
fn check_owner(
    connection: &Connection,
    table: &str,
    id: &str,
    tenant_id: &str,
) -> Result<(), StoreError> {
    let owner: Option<String> = connection
        .query_row_cached(
            &format!("SELECT tenant_id FROM {table} WHERE id = ?1"),
            [id],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    match owner {
        Some(owner) if owner != tenant_id => Err(StoreError::Conflict(format!(
            "id '{id}' is taken by another tenant"
        ))),
        _ => Ok(()),
    }
}

pub(super) fn put_bot(connection: &mut Connection, bot: &Bot) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    check_owner(&transaction, "bots", &bot.id, &bot.tenant_id)?;
    transaction
        .execute_cached(
            "INSERT INTO bots (id, tenant_id, name, settings_json, widget_secret, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                 settings_json = excluded.settings_json, widget_secret = excluded.widget_secret",
            params![
                bot.id,
                bot.tenant_id,
                bot.name,
                encode(&bot.settings)?,
                bot.widget_secret,
                bot.created_at_ms
            ],
        )
        .map_err(backend)?;
    transaction.commit().map_err(backend)
}

pub(super) const BOT_COLUMNS: &str =
    "id, tenant_id, name, settings_json, widget_secret, created_at_ms";

/// A bot row with its settings still JSON (decoded by [`bot_from_raw`], outside rusqlite's
/// closure: JSON errors are store errors).
pub(super) type RawBot = (String, String, String, String, String, i64);

pub(super) fn raw_bot(row: &Row<'_>) -> rusqlite::Result<RawBot> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

pub(super) fn bot_from_raw(
    (id, tenant_id, name, settings, widget_secret, created_at_ms): RawBot,
) -> Result<Bot, StoreError> {
    Ok(Bot {
        id,
        tenant_id,
        name,
        settings: decode(&settings)?,
        widget_secret,
        created_at_ms,
    })
}

pub(super) fn bot(connection: &Connection, id: &str) -> Result<Option<Bot>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = ?1"),
            [id],
            raw_bot,
        )
        .optional()
        .map_err(backend)?
        .map(bot_from_raw)
        .transpose()
}

pub(super) fn put_channel(
    connection: &mut Connection,
    channel: &Channel,
) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    check_owner(&transaction, "channels", &channel.id, &channel.tenant_id)?;
    transaction
        .execute_cached(
            "INSERT INTO channels (id, tenant_id, bot_id, kind_json, secrets_json, enabled, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, kind_json = excluded.kind_json,
                 secrets_json = excluded.secrets_json, enabled = excluded.enabled",
            params![
                channel.id,
                channel.tenant_id,
                channel.bot_id,
                encode(&channel.kind)?,
                encode(&channel.secrets)?,
                channel.enabled,
                channel.created_at_ms
            ],
        )
        .map_err(backend)?;
    transaction.commit().map_err(backend)
}

pub(super) const CHANNEL_COLUMNS: &str =
    "id, tenant_id, bot_id, kind_json, secrets_json, enabled, created_at_ms";

/// A channel row with its kind and secrets still JSON (see [`channel_from_raw`]).
pub(super) type RawChannel = (String, String, String, String, String, bool, i64);

pub(super) fn raw_channel(row: &Row<'_>) -> rusqlite::Result<RawChannel> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

pub(super) fn channel_from_raw(
    (id, tenant_id, bot_id, kind, secrets, enabled, created_at_ms): RawChannel,
) -> Result<Channel, StoreError> {
    Ok(Channel {
        id,
        tenant_id,
        bot_id,
        kind: decode(&kind)?,
        secrets: decode(&secrets)?,
        enabled,
        created_at_ms,
    })
}

pub(super) fn channel(connection: &Connection, id: &str) -> Result<Option<Channel>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1"),
            [id],
            raw_channel,
        )
        .optional()
        .map_err(backend)?
        .map(channel_from_raw)
        .transpose()
}

pub(super) fn replace_faq(
    connection: &mut Connection,
    tenant_id: &str,
    bot_id: &str,
    entries: &[FaqEntry],
) -> Result<(), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    transaction
        .execute_cached(
            "DELETE FROM faq_entries WHERE tenant_id = ?1 AND bot_id = ?2",
            [tenant_id, bot_id],
        )
        .map_err(backend)?;
    for (position, entry) in entries.iter().enumerate() {
        transaction
            .execute_cached(
                "INSERT INTO faq_entries (tenant_id, bot_id, id, position, entry_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![tenant_id, bot_id, entry.id, position as i64, encode(entry)?],
            )
            .map_err(|error| match error.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    StoreError::Conflict(format!("FAQ id '{}' appears twice", entry.id))
                }
                _ => backend(error),
            })?;
    }
    transaction.commit().map_err(backend)
}

pub(super) fn faq_entries(
    connection: &Connection,
    tenant_id: &str,
    bot_id: &str,
) -> Result<Vec<FaqEntry>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT entry_json FROM faq_entries WHERE tenant_id = ?1 AND bot_id = ?2 ORDER BY position",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id, bot_id], |row| row.get::<_, String>(0))
        .map_err(backend)?;
    rows.map(|json| decode(&json.map_err(backend)?)).collect()
}

pub(super) const CONVERSATION_COLUMNS: &str = "id, tenant_id, bot_id, channel_id, contact_id, state, \
    language, consecutive_misses, last_activity_ms, created_at_ms, assigned_to, state_changed_at_ms";

pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<(Conversation, String)> {
    let state: String = row.get(5)?;
    Ok((
        Conversation {
            id: row.get(0)?,
            tenant_id: row.get(1)?,
            bot_id: row.get(2)?,
            channel_id: row.get(3)?,
            contact_id: row.get(4)?,
            state: SessionState::Bot,
            assigned_to: row.get(10)?,
            state_changed_at_ms: row.get(11)?,
            language: row.get(6)?,
            consecutive_misses: row.get(7)?,
            last_activity_ms: row.get(8)?,
            created_at_ms: row.get(9)?,
        },
        state,
    ))
}

pub(super) fn with_state(
    (mut conversation, state): (Conversation, String),
) -> Result<Conversation, StoreError> {
    conversation.state = SessionState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("conversation state '{state}'")))?;
    Ok(conversation)
}

const CONTACT_COLUMNS: &str =
    "id, tenant_id, channel_id, channel_user_id, display_name, created_at_ms";

fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        channel_id: row.get(2)?,
        channel_user_id: row.get(3)?,
        display_name: row.get(4)?,
        created_at_ms: row.get(5)?,
    })
}

pub(super) fn contact(
    connection: &Connection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<Option<Contact>, StoreError> {
    connection
        .query_row_cached(
            &format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = ?1 AND id = ?2"),
            [tenant_id, contact_id],
            contact_from_row,
        )
        .optional()
        .map_err(backend)
}

pub(super) fn open_conversation(
    connection: &mut Connection,
    opening: &ConversationOpening,
) -> Result<(Contact, Conversation), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    transaction
        .execute_cached(
            "INSERT INTO contacts (id, tenant_id, channel_id, channel_user_id, display_name, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (channel_id, channel_user_id) DO UPDATE
                 SET display_name = coalesce(excluded.display_name, contacts.display_name)",
            params![
                new_id("ct"),
                opening.tenant_id,
                opening.channel_id,
                opening.channel_user_id,
                opening.display_name,
                opening.now_ms
            ],
        )
        .map_err(backend)?;
    let contact = transaction
        .query_row_cached(
            &format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE channel_id = ?1 AND channel_user_id = ?2"
            ),
            [&opening.channel_id, &opening.channel_user_id],
            contact_from_row,
        )
        .map_err(backend)?;
    if contact.tenant_id != opening.tenant_id {
        return Err(StoreError::Conflict(format!(
            "channel '{}' belongs to another tenant",
            opening.channel_id
        )));
    }
    let existing = transaction
        .query_row_cached(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations
                 WHERE contact_id = ?1 AND state <> 'closed'"
            ),
            [&contact.id],
            conversation_from_row,
        )
        .optional()
        .map_err(backend)?;
    let conversation = match existing {
        Some(row) => with_state(row)?,
        None => {
            let conversation = opening.new_conversation(&contact.id);
            transaction
                .execute_cached(
                    &format!(
                        "INSERT INTO conversations ({CONVERSATION_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                    ),
                    params![
                        conversation.id,
                        conversation.tenant_id,
                        conversation.bot_id,
                        conversation.channel_id,
                        conversation.contact_id,
                        conversation.state.as_str(),
                        conversation.language,
                        conversation.consecutive_misses,
                        conversation.last_activity_ms,
                        conversation.created_at_ms,
                        conversation.assigned_to,
                        conversation.state_changed_at_ms
                    ],
                )
                .map_err(backend)?;
            conversation
        }
    };
    transaction.commit().map_err(backend)?;
    Ok((contact, conversation))
}

pub(super) fn current_conversation(
    connection: &Connection,
    tenant_id: &str,
    channel_id: &str,
    channel_user_id: &str,
) -> Result<Option<Conversation>, StoreError> {
    connection
        .query_row_cached(
            &format!(
                "SELECT {} FROM conversations c
                 JOIN contacts k ON k.id = c.contact_id
                 WHERE c.tenant_id = ?1 AND k.channel_id = ?2 AND k.channel_user_id = ?3
                   AND c.state <> 'closed'",
                prefixed_conversation_columns()
            ),
            [tenant_id, channel_id, channel_user_id],
            conversation_from_row,
        )
        .optional()
        .map_err(backend)?
        .map(with_state)
        .transpose()
}

pub(super) fn prefixed_conversation_columns() -> String {
    CONVERSATION_COLUMNS
        .split(", ")
        .map(|column| format!("c.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn conversation(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Option<Conversation>, StoreError> {
    connection
        .query_row_cached(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = ?1 AND id = ?2"
            ),
            [tenant_id, conversation_id],
            conversation_from_row,
        )
        .optional()
        .map_err(backend)?
        .map(with_state)
        .transpose()
}

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.tenant_id, m.conversation_id, m.direction, \
    m.sender_json, m.content_json, m.channel_message_id, m.created_at_ms";

/// The raw columns of a message row, decoded by [`message_from_raw`] outside the closure
/// (JSON errors are store errors, not rusqlite errors).
pub(super) type RawMessage = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
);

pub(super) fn raw_message(row: &Row<'_>, offset: usize) -> rusqlite::Result<RawMessage> {
    Ok((
        row.get(offset)?,
        row.get(offset + 1)?,
        row.get(offset + 2)?,
        row.get(offset + 3)?,
        row.get(offset + 4)?,
        row.get(offset + 5)?,
        row.get(offset + 6)?,
        row.get(offset + 7)?,
    ))
}

pub(super) fn message_from_raw(raw: RawMessage) -> Result<Message, StoreError> {
    let (id, tenant_id, conversation_id, direction, sender, content, channel_message_id, created) =
        raw;
    Ok(Message {
        id,
        tenant_id,
        conversation_id,
        direction: match direction.as_str() {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            other => return Err(StoreError::Corrupt(format!("message direction '{other}'"))),
        },
        sender: decode(&sender)?,
        content: decode(&content)?,
        channel_message_id,
        created_at_ms: created,
    })
}

pub(super) fn message_by_id(connection: &Connection, id: i64) -> Result<Message, StoreError> {
    let raw = connection
        .query_row_cached(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?1"),
            [id],
            |row| raw_message(row, 0),
        )
        .map_err(backend)?;
    message_from_raw(raw)
}

pub(super) fn record_inbound(
    connection: &mut Connection,
    conversation: &Conversation,
    channel_message_id: &str,
    content: &Content,
    now_ms: i64,
) -> Result<(Message, bool), StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let inserted = transaction
        .execute_cached(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, sender_json,
                                   content_json, channel_message_id, created_at_ms)
             VALUES (?1, ?2, ?3, 'inbound', ?4, ?5, ?6, ?7)
             ON CONFLICT (channel_id, channel_message_id) WHERE direction = 'inbound' DO NOTHING",
            params![
                conversation.tenant_id,
                conversation.id,
                conversation.channel_id,
                encode(&crate::conversation::model::Sender::Contact)?,
                encode(content)?,
                channel_message_id,
                now_ms
            ],
        )
        .map_err(backend)?;
    let id: i64 = transaction
        .query_row_cached(
            "SELECT id FROM messages
             WHERE channel_id = ?1 AND channel_message_id = ?2 AND direction = 'inbound'",
            [&conversation.channel_id, channel_message_id],
            |row| row.get(0),
        )
        .map_err(backend)?;
    transaction
        .execute_cached(
            "UPDATE conversations SET last_activity_ms = max(last_activity_ms, ?2) WHERE id = ?1",
            params![conversation.id, now_ms],
        )
        .map_err(backend)?;
    let message = message_by_id(&transaction, id)?;
    transaction.commit().map_err(backend)?;
    Ok((message, inserted == 1))
}

/// Stores `reply` as an outbound message of the conversation and queues it in the outbox
/// under `key` (stored as sent, with its delivery-log line, when the channel delivers
/// from the store). Runs inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(super) fn queue_outbound(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
    channel_id: &str,
    reply: &NewMessage,
    key: &str,
    delivered_live: bool,
    now_ms: i64,
) -> Result<Message, StoreError> {
    connection
        .execute_cached(
            "INSERT INTO messages (tenant_id, conversation_id, channel_id, direction, sender_json,
                                   content_json, channel_message_id, created_at_ms)
             VALUES (?1, ?2, ?3, 'outbound', ?4, ?5, NULL, ?6)",
            params![
                tenant_id,
                conversation_id,
                channel_id,
                encode(&reply.sender)?,
                encode(&reply.content)?,
                now_ms
            ],
        )
        .map_err(backend)?;
    let message_id = connection.last_insert_rowid();
    connection
        .execute_cached(
            "INSERT INTO outbox (tenant_id, channel_id, conversation_id, message_id, idempotency_key,
                                 status, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)",
            params![
                tenant_id,
                channel_id,
                conversation_id,
                message_id,
                key,
                if delivered_live { "sent" } else { "pending" },
                u32::from(delivered_live),
                now_ms
            ],
        )
        .map_err(backend)?;
    if delivered_live {
        let outbox_id = connection.last_insert_rowid();
        connection
            .execute_cached(
                "INSERT INTO delivery_log (outbox_id, attempt, result_json, provider_response, elapsed_ms, at_ms)
                 VALUES (?1, 1, ?2, ?3, 0, ?4)",
                params![outbox_id, encode(&live_delivery())?, LIVE_DELIVERY_NOTE, now_ms],
            )
            .map_err(backend)?;
    }
    message_by_id(connection, message_id)
}

pub(super) fn commit_turn(
    connection: &mut Connection,
    turn: &TurnCommit,
) -> Result<TurnCommitted, StoreError> {
    let transaction = connection.savepoint().map_err(backend)?;
    let inserted = transaction
        .execute_cached(
            "INSERT INTO turn_decisions (turn_key, tenant_id, conversation_id, decision_json, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (turn_key) DO NOTHING",
            params![
                turn.key,
                turn.tenant_id,
                turn.conversation_id,
                turn.decision.as_ref().map(encode).transpose()?,
                turn.now_ms
            ],
        )
        .map_err(backend)?;
    if inserted == 0 {
        if let Some(event) = turn.inbox_event_id {
            super::queue::mark_inbox_done(&transaction, event)?;
        }
        transaction.commit().map_err(backend)?;
        return Ok(TurnCommitted::AlreadyCommitted);
    }
    let current =
        conversation(&transaction, &turn.tenant_id, &turn.conversation_id)?.ok_or_else(|| {
            StoreError::Conflict(format!("no conversation '{}'", turn.conversation_id))
        })?;
    if current.state != turn.state_before {
        // An operator moved the conversation while the bot thought: the bot's words are
        // not wanted any more. The decision stays, for the trace.
        if let Some(event) = turn.inbox_event_id {
            super::queue::mark_inbox_done(&transaction, event)?;
        }
        transaction.commit().map_err(backend)?;
        return Ok(TurnCommitted::Superseded {
            state: current.state,
        });
    }
    let mut stored = Vec::with_capacity(turn.replies.len());
    for (index, reply) in turn.replies.iter().enumerate() {
        stored.push(queue_outbound(
            &transaction,
            &turn.tenant_id,
            &turn.conversation_id,
            &turn.channel_id,
            reply,
            &format!("{}:{index}", turn.key),
            turn.delivered_live,
            turn.now_ms,
        )?);
    }
    let moved = turn.state != current.state;
    transaction
        .execute_cached(
            "UPDATE conversations SET state = ?2, consecutive_misses = ?3,
                 last_activity_ms = max(last_activity_ms, ?4),
                 state_changed_at_ms = CASE WHEN ?6 THEN ?4 ELSE state_changed_at_ms END,
                 assigned_to = CASE WHEN ?6 THEN NULL ELSE assigned_to END,
                 busy_notified_at_ms = CASE WHEN ?6 THEN NULL ELSE busy_notified_at_ms END
             WHERE id = ?1 AND tenant_id = ?5",
            params![
                turn.conversation_id,
                turn.state.as_str(),
                turn.consecutive_misses,
                turn.now_ms,
                turn.tenant_id,
                moved
            ],
        )
        .map_err(backend)?;
    if moved && let Some(note) = &turn.handover {
        super::handover::insert_event(&transaction, &current, turn.state, note, turn.now_ms)?;
    }
    if let Some(event) = turn.inbox_event_id {
        super::queue::mark_inbox_done(&transaction, event)?;
    }
    transaction.commit().map_err(backend)?;
    Ok(TurnCommitted::Stored(stored))
}

/// The messages of a conversation after `after_id`, oldest first, at most `limit`. Every
/// turn and widget reads these: the LIMIT is the iteration's, as SQLite re-prepares on each
/// run a statement whose LIMIT is a bound parameter; the index gives the order, so it stops
/// stepping at `limit`.
pub(super) fn messages_after(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
    after_id: i64,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.tenant_id = ?1 AND m.conversation_id = ?2 AND m.id > ?3
             ORDER BY m.id"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, conversation_id, after_id], |row| {
            raw_message(row, 0)
        })
        .map_err(backend)?;
    rows.take(limit as usize)
        .map(|raw| message_from_raw(raw.map_err(backend)?))
        .collect()
}

/// The latest `limit` messages of a conversation, oldest first (limited as
/// [`messages_after`] is).
pub(super) fn latest_messages(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.tenant_id = ?1 AND m.conversation_id = ?2
             ORDER BY m.id DESC"
        ))
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, conversation_id], |row| {
            raw_message(row, 0)
        })
        .map_err(backend)?;
    let mut messages = rows
        .take(limit as usize)
        .map(|raw| message_from_raw(raw.map_err(backend)?))
        .collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}

pub(super) fn turn_decisions(
    connection: &Connection,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Vec<StoredDecision>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT turn_key, conversation_id, decision_json, created_at_ms FROM turn_decisions
             WHERE tenant_id = ?1 AND conversation_id = ?2 AND decision_json IS NOT NULL
             ORDER BY created_at_ms, rowid",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([tenant_id, conversation_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (key, conversation_id, decision, created_at_ms) = row.map_err(backend)?;
        Ok(StoredDecision {
            key,
            conversation_id,
            decision: decode(&decision)?,
            created_at_ms,
        })
    })
    .collect()
}
