//! PostgreSQL side of [`ConversationStore`]: tenants, bots, channels, the FAQ and
//! conversations here; messages and turns in [`super::turns`].

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::tokio_postgres::Row;

use super::error::database;
use super::statements::{column, counter, execute, query_one, query_opt};
use super::tenant_scope::in_tenant;
use super::{PostgresStore, directory, turns};
use crate::conversation::Content;
use crate::conversation::model::{
    Bot, Channel, Contact, Conversation, FaqEntry, Message, SessionState, Tenant,
};
use crate::store::codec::new_id;
use crate::store::{
    ConversationOpening, ConversationStore, StoreError, StoredDecision, TurnCommit, TurnCommitted,
};

pub(super) const CONVERSATION_COLUMNS: &str = "c.id, c.tenant_id, c.bot_id, c.channel_id, c.contact_id, \
    c.state, c.language, c.consecutive_misses, c.last_activity_ms, c.created_at_ms, c.assigned_to, \
    c.state_changed_at_ms";

pub(super) fn conversation_from_row(row: &Row) -> Result<Conversation, StoreError> {
    let state: &str = column(row, "state")?;
    Ok(Conversation {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        bot_id: column(row, "bot_id")?,
        channel_id: column(row, "channel_id")?,
        contact_id: column(row, "contact_id")?,
        state: SessionState::parse(state)
            .ok_or_else(|| StoreError::Corrupt(format!("conversation state '{state}'")))?,
        assigned_to: column(row, "assigned_to")?,
        state_changed_at_ms: column(row, "state_changed_at_ms")?,
        language: column(row, "language")?,
        consecutive_misses: counter(row, "consecutive_misses")?,
        last_activity_ms: column(row, "last_activity_ms")?,
        created_at_ms: column(row, "created_at_ms")?,
    })
}

const CONTACT_COLUMNS: &str =
    "id, tenant_id, channel_id, channel_user_id, display_name, created_at_ms";

fn contact_from_row(row: &Row) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: column(row, "id")?,
        tenant_id: column(row, "tenant_id")?,
        channel_id: column(row, "channel_id")?,
        channel_user_id: column(row, "channel_user_id")?,
        display_name: column(row, "display_name")?,
        created_at_ms: column(row, "created_at_ms")?,
    })
}

/// Finds or creates the open conversation of `contact` inside the opening's transaction.
async fn find_or_start<C: GenericClient>(
    client: &C,
    opening: &ConversationOpening,
    contact: &Contact,
) -> Result<Conversation, StoreError> {
    let existing = query_opt(
        client,
        &format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c
             WHERE c.contact_id = $1 AND c.state <> 'closed'"
        ),
        &[&contact.id],
    )
    .await?;
    if let Some(row) = existing {
        return conversation_from_row(&row);
    }
    let conversation = opening.new_conversation(&contact.id);
    execute(
        client,
        "INSERT INTO conversations (id, tenant_id, bot_id, channel_id, contact_id, state,
                                    language, consecutive_misses, last_activity_ms, created_at_ms,
                                    state_changed_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8, $8)",
        &[
            &conversation.id,
            &conversation.tenant_id,
            &conversation.bot_id,
            &conversation.channel_id,
            &conversation.contact_id,
            &conversation.state.as_str(),
            &conversation.language,
            &conversation.created_at_ms,
        ],
    )
    .await?;
    Ok(conversation)
}

#[async_trait]
impl ConversationStore for PostgresStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        directory::put_tenant(&self.client().await?, tenant).await
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        directory::tenant(&self.client().await?, id).await
    }

    async fn put_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        let sealed = self.secrets.seal_bot(bot)?;
        directory::put_bot(&self.client().await?, &sealed).await
    }

    async fn bot(&self, id: &str) -> Result<Option<Bot>, StoreError> {
        directory::bot(&self.client().await?, id)
            .await?
            .map(|bot| self.secrets.open_bot(bot))
            .transpose()
    }

    async fn put_channel(&self, channel: &Channel) -> Result<(), StoreError> {
        let sealed = self.secrets.seal_channel(channel)?;
        directory::put_channel(&self.client().await?, &sealed).await
    }

    async fn channel(&self, id: &str) -> Result<Option<Channel>, StoreError> {
        // Every webhook and every send starts here: on the connections kept for it.
        directory::channel(&self.webhook_client().await?, id)
            .await?
            .map(|channel| self.secrets.open_channel(channel))
            .transpose()
    }

    async fn replace_faq(
        &self,
        tenant_id: &str,
        bot_id: &str,
        entries: &[FaqEntry],
    ) -> Result<(), StoreError> {
        in_tenant!(self, tenant_id, |scope| directory::replace_faq(
            &scope, tenant_id, bot_id, entries
        ))
    }

    async fn faq_entries(
        &self,
        tenant_id: &str,
        bot_id: &str,
    ) -> Result<Vec<FaqEntry>, StoreError> {
        in_tenant!(self, tenant_id, |scope| directory::faq_entries(
            &scope, tenant_id, bot_id
        ))
    }

    async fn open_conversation(
        &self,
        opening: &ConversationOpening,
    ) -> Result<(Contact, Conversation), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        // The upsert locks the contact's row until commit, so concurrent openings of one
        // contact (two instances, two workers) queue here and the later one finds the
        // conversation the first created.
        let row = query_one(
            &transaction,
            &format!(
                "INSERT INTO contacts AS k
                 (id, tenant_id, channel_id, channel_user_id, display_name, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (channel_id, channel_user_id) DO UPDATE
                 SET display_name = coalesce(excluded.display_name, k.display_name)
             RETURNING {CONTACT_COLUMNS}"
            ),
            &[
                &new_id("ct"),
                &opening.tenant_id,
                &opening.channel_id,
                &opening.channel_user_id,
                &opening.display_name,
                &opening.now_ms,
            ],
        )
        .await?;
        let contact = contact_from_row(&row)?;
        if contact.tenant_id != opening.tenant_id {
            return Err(StoreError::Conflict(format!(
                "channel '{}' belongs to another tenant",
                opening.channel_id
            )));
        }
        let conversation = find_or_start(&transaction, opening, &contact).await?;
        transaction.commit().await.map_err(database)?;
        Ok((contact, conversation))
    }

    async fn current_conversation(
        &self,
        tenant_id: &str,
        channel_id: &str,
        channel_user_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row: Option<Row> = in_tenant!(self, tenant_id, |scope| query_opt(
            &scope,
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c
                 JOIN contacts k ON k.id = c.contact_id
                 WHERE c.tenant_id = $1 AND k.channel_id = $2 AND k.channel_user_id = $3
                   AND c.state <> 'closed'"
            ),
            &[&tenant_id, &channel_id, &channel_user_id],
        ))?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn contact(
        &self,
        tenant_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let row: Option<Row> = in_tenant!(self, tenant_id, |scope| query_opt(
            &scope,
            &format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2"),
            &[&tenant_id, &contact_id],
        ))?;
        row.as_ref().map(contact_from_row).transpose()
    }

    async fn conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row: Option<Row> = in_tenant!(self, tenant_id, |scope| query_opt(
            &scope,
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c
                 WHERE c.tenant_id = $1 AND c.id = $2"
            ),
            &[&tenant_id, &conversation_id],
        ))?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn record_inbound(
        &self,
        conversation: &Conversation,
        channel_message_id: &str,
        content: &Content,
        now_ms: i64,
    ) -> Result<(Message, bool), StoreError> {
        let mut client = self.client().await?;
        turns::record_inbound(
            &mut client,
            conversation,
            channel_message_id,
            content,
            now_ms,
        )
        .await
    }

    async fn commit_turn(&self, turn: &TurnCommit) -> Result<TurnCommitted, StoreError> {
        turns::commit_turn(&mut self.client().await?, turn).await
    }

    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        in_tenant!(self, tenant_id, |scope| turns::messages_after(
            &scope,
            tenant_id,
            conversation_id,
            after_id,
            limit
        ))
    }

    async fn latest_messages(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        in_tenant!(self, tenant_id, |scope| turns::latest_messages(
            &scope,
            tenant_id,
            conversation_id,
            limit
        ))
    }

    async fn turn_decisions(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<StoredDecision>, StoreError> {
        in_tenant!(self, tenant_id, |scope| turns::turn_decisions(
            &scope,
            tenant_id,
            conversation_id
        ))
    }
}
