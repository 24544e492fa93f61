//! [`SqliteStore`] as a [`ConversationStore`] and a [`QueueStore`]: each method moves its
//! arguments into a job for the writer thread or a reader and runs the matching function.

use async_trait::async_trait;

use super::{SqliteStore, conversations, queue};
use crate::conversation::Content;
use crate::conversation::model::{Bot, Channel, Contact, Conversation, FaqEntry, Message, Tenant};
use crate::store::{
    ConversationOpening, ConversationStore, DeliveryAttempt, InboxEvent, InboxInsert,
    NewInboxEvent, OutboxItem, OutboxRow, ProviderIdsBefore, QueueDepths, QueueStore, StoreError,
    StoredDecision, TurnCommit, TurnCommitted,
};

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.with(move |connection| conversations::put_tenant(connection, &tenant))
            .await
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        let id = id.to_owned();
        self.read_short(move |connection| conversations::tenant(connection, &id))
            .await
    }

    async fn put_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        let bot = self.secrets.seal_bot(bot)?;
        self.with(move |connection| conversations::put_bot(connection, &bot))
            .await
    }

    async fn bot(&self, id: &str) -> Result<Option<Bot>, StoreError> {
        let id = id.to_owned();
        self.read_short(move |connection| conversations::bot(connection, &id))
            .await?
            .map(|bot| self.secrets.open_bot(bot))
            .transpose()
    }

    async fn put_channel(&self, channel: &Channel) -> Result<(), StoreError> {
        let channel = self.secrets.seal_channel(channel)?;
        self.with(move |connection| conversations::put_channel(connection, &channel))
            .await
    }

    async fn channel(&self, id: &str) -> Result<Option<Channel>, StoreError> {
        let id = id.to_owned();
        self.read_short(move |connection| conversations::channel(connection, &id))
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
        let (tenant_id, bot_id, entries) =
            (tenant_id.to_owned(), bot_id.to_owned(), entries.to_vec());
        self.with(move |connection| {
            conversations::replace_faq(connection, &tenant_id, &bot_id, &entries)
        })
        .await
    }

    async fn faq_entries(
        &self,
        tenant_id: &str,
        bot_id: &str,
    ) -> Result<Vec<FaqEntry>, StoreError> {
        let (tenant_id, bot_id) = (tenant_id.to_owned(), bot_id.to_owned());
        self.read(move |connection| conversations::faq_entries(connection, &tenant_id, &bot_id))
            .await
    }

    async fn open_conversation(
        &self,
        opening: &ConversationOpening,
    ) -> Result<(Contact, Conversation), StoreError> {
        let opening = opening.clone();
        self.with(move |connection| conversations::open_conversation(connection, &opening))
            .await
    }

    async fn current_conversation(
        &self,
        tenant_id: &str,
        channel_id: &str,
        channel_user_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let (tenant_id, channel_id, user) = (
            tenant_id.to_owned(),
            channel_id.to_owned(),
            channel_user_id.to_owned(),
        );
        self.read(move |connection| {
            conversations::current_conversation(connection, &tenant_id, &channel_id, &user)
        })
        .await
    }

    async fn contact(
        &self,
        tenant_id: &str,
        contact_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), contact_id.to_owned());
        self.read_short(move |connection| conversations::contact(connection, &tenant_id, &id))
            .await
    }

    async fn conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read_short(move |connection| conversations::conversation(connection, &tenant_id, &id))
            .await
    }

    async fn record_inbound(
        &self,
        conversation: &Conversation,
        channel_message_id: &str,
        content: &Content,
        now_ms: i64,
    ) -> Result<(Message, bool), StoreError> {
        let (conversation, id, content) = (
            conversation.clone(),
            channel_message_id.to_owned(),
            content.clone(),
        );
        self.with(move |connection| {
            conversations::record_inbound(connection, &conversation, &id, &content, now_ms)
        })
        .await
    }

    async fn commit_turn(&self, turn: &TurnCommit) -> Result<TurnCommitted, StoreError> {
        let turn = turn.clone();
        self.with(move |connection| conversations::commit_turn(connection, &turn))
            .await
    }

    async fn messages_after(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| {
            conversations::messages_after(connection, &tenant_id, &id, after_id, limit)
        })
        .await
    }

    async fn latest_messages(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| {
            conversations::latest_messages(connection, &tenant_id, &id, limit)
        })
        .await
    }

    async fn turn_decisions(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<StoredDecision>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| conversations::turn_decisions(connection, &tenant_id, &id))
            .await
    }
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn inbox_insert(&self, event: &NewInboxEvent) -> Result<InboxInsert, StoreError> {
        self.writer.store_inbox_event(event.clone()).await
    }

    async fn inbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<InboxEvent>, StoreError> {
        self.with(move |connection| queue::inbox_claim(connection, now_ms, lease_ms, limit))
            .await
    }

    async fn inbox_release(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: i64,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.with(move |connection| {
            queue::inbox_release(connection, id, &error, retry_at_ms, give_up)
        })
        .await
    }

    async fn inbox_finish(&self, id: i64) -> Result<(), StoreError> {
        self.with(move |connection| queue::mark_inbox_done(connection, id))
            .await
    }

    async fn outbox_claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.with(move |connection| queue::outbox_claim(connection, now_ms, lease_ms, limit))
            .await
    }

    async fn outbox_record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        let attempt = attempt.clone();
        self.with(move |connection| queue::outbox_record_attempt(connection, &attempt))
            .await
    }

    async fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, StoreError> {
        self.read_short(move |connection| queue::outbox_row(connection, id))
            .await
    }

    async fn delivered_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read_short(move |connection| {
            queue::delivered_before(connection, &tenant_id, &id, message_id)
        })
        .await
    }

    async fn provider_ids_before(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        message_id: i64,
    ) -> Result<ProviderIdsBefore, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| {
            queue::provider_ids_before(connection, &tenant_id, &id, message_id)
        })
        .await
    }

    async fn outbox_of_conversation(
        &self,
        tenant_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let (tenant_id, id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |connection| queue::outbox_of_conversation(connection, &tenant_id, &id))
            .await
    }

    async fn delivery_log(&self, outbox_id: i64) -> Result<Vec<DeliveryAttempt>, StoreError> {
        self.read(move |connection| queue::delivery_log(connection, outbox_id))
            .await
    }

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        self.read(|connection| queue::queue_depths(connection))
            .await
    }
}
