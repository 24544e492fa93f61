//! Records the contract tests build on: a shop (tenant, bot, widget channel), customers,
//! events and turns.
#![allow(dead_code)]

use std::collections::BTreeMap;

use loa::conversation::Content;
use loa::conversation::model::{
    Bot, BotSettings, Channel, ChannelKind, Conversation, NewMessage, Sender, Tenant,
};
use loa::store::{ConversationOpening, NewInboxEvent, Store, TurnCommit};

/// A fixed "now", ms since the Unix epoch; tests move time by adding to it.
pub const T0: i64 = 1_760_000_000_000;

/// One tenant with one bot answering on one channel.
#[derive(Debug, Clone)]
pub struct Shop {
    pub tenant: String,
    pub bot: String,
    pub channel: String,
}

/// Creates tenant `tenant` with bot `{tenant}-bot` on channel `{tenant}-web`.
pub async fn shop(store: &dyn Store, tenant: &str) -> Shop {
    store
        .put_tenant(&Tenant {
            id: tenant.to_owned(),
            name: format!("Shop {tenant}"),
            created_at_ms: T0,
        })
        .await
        .expect("put tenant");
    let shop = Shop {
        tenant: tenant.to_owned(),
        bot: format!("{tenant}-bot"),
        channel: format!("{tenant}-web"),
    };
    store
        .put_bot(&bot(&shop.tenant, &shop.bot))
        .await
        .expect("put bot");
    store
        .put_channel(&channel(&shop.tenant, &shop.bot, &shop.channel))
        .await
        .expect("put channel");
    shop
}

pub fn bot(tenant: &str, id: &str) -> Bot {
    Bot {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        name: format!("Bot {id}"),
        settings: BotSettings::default(),
        widget_secret: "secret".to_owned(),
        created_at_ms: T0,
    }
}

pub fn channel(tenant: &str, bot: &str, id: &str) -> Channel {
    Channel {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        bot_id: bot.to_owned(),
        kind: ChannelKind::Widget,
        secrets: BTreeMap::new(),
        enabled: true,
        created_at_ms: T0,
    }
}

pub fn opening(shop: &Shop, user: &str) -> ConversationOpening {
    ConversationOpening {
        tenant_id: shop.tenant.clone(),
        bot_id: shop.bot.clone(),
        channel_id: shop.channel.clone(),
        channel_user_id: user.to_owned(),
        display_name: None,
        language: "vi".to_owned(),
        now_ms: T0,
    }
}

/// The open conversation of `user` (created if needed).
pub async fn conversation(store: &dyn Store, shop: &Shop, user: &str) -> Conversation {
    store
        .open_conversation(&opening(shop, user))
        .await
        .expect("open conversation")
        .1
}

pub fn text(text: &str) -> Content {
    Content {
        text: Some(text.to_owned()),
        ..Content::default()
    }
}

pub fn reply(words: &str) -> NewMessage {
    NewMessage {
        sender: Sender::Bot,
        content: text(words),
    }
}

/// A turn of `conversation` with `replies`, keyed `key`, leaving its state as it is.
pub fn turn(conversation: &Conversation, key: &str, replies: &[&str]) -> TurnCommit {
    TurnCommit {
        tenant_id: conversation.tenant_id.clone(),
        conversation_id: conversation.id.clone(),
        channel_id: conversation.channel_id.clone(),
        key: key.to_owned(),
        inbox_event_id: None,
        replies: replies.iter().map(|words| reply(words)).collect(),
        decision: None,
        delivered_live: false,
        state_before: conversation.state,
        state: conversation.state,
        handover: None,
        consecutive_misses: 0,
        now_ms: T0,
    }
}

/// Event `message` of customer `user` on the shop's channel, arriving at `T0`.
pub fn event(shop: &Shop, message: &str, user: &str) -> NewInboxEvent {
    NewInboxEvent {
        tenant_id: shop.tenant.clone(),
        channel_id: shop.channel.clone(),
        channel_message_id: message.to_owned(),
        channel_user_id: user.to_owned(),
        payload: format!(r#"{{"message":"{message}","user":"{user}"}}"#),
        now_ms: T0,
    }
}

/// Inserts `event`, expecting it to be new; returns its id.
pub async fn insert(store: &dyn Store, event: &NewInboxEvent) -> i64 {
    match store.inbox_insert(event).await.expect("inbox insert") {
        loa::store::InboxInsert::Inserted(id) => id,
        other => panic!("expected a new event, got {other:?}"),
    }
}
