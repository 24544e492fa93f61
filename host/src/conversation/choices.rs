//! A customer answering a numbered choice: when the last reply reached a channel with its
//! buttons, chips or cards as numbered lines ([`crate::delivery::shaping`]), an answer that
//! is only a number is that button pressed. The numbering is worked out again from the
//! stored reply and the channel's capabilities, so nothing but the message is stored.

use crate::conversation::content::QuickReply;
use crate::conversation::model::{Channel, ChannelKind, Conversation, Direction};
use crate::delivery::shaping::{choice_number, chosen_option, shape};
use crate::plugins::registry::PluginRegistry;
use crate::store::Store;

/// How far back the last reply is looked for: a turn writes a few messages at most.
const LOOKBACK: u32 = 10;

/// The choice `answer` picks in the conversation's last reply, if it is one.
pub async fn numbered_choice(
    store: &dyn Store,
    plugins: Option<&PluginRegistry>,
    channel: &Channel,
    conversation: &Conversation,
    answer: &str,
) -> Option<QuickReply> {
    // Cheap checks first: most messages are not a bare number.
    choice_number(answer)?;
    let ChannelKind::Plugin { plugin } = &channel.kind else {
        // The widget renders everything: it never numbers choices.
        return None;
    };
    let registry = plugins?;
    let recent = store
        .latest_messages(&conversation.tenant_id, &conversation.id, LOOKBACK)
        .await
        .inspect_err(
            |error| tracing::warn!(%error, "cannot read the last reply for a numbered answer"),
        )
        .ok()?;
    // The newest outbound message before the answer just stored.
    let reply = recent
        .iter()
        .filter(|message| message.direction == Direction::Outbound)
        .max_by_key(|message| message.id)?;
    let bound = registry
        .bind_with_overrides(&channel.tenant_id, plugin, None, &channel.secrets)
        .await
        .inspect_err(|error| tracing::warn!(%error, plugin, "cannot bind the channel plugin for a numbered answer"))
        .ok()?;
    let capabilities = registry
        .engine()
        .channel_capabilities(&bound)
        .await
        .inspect_err(|error| tracing::warn!(%error, plugin, "channel capabilities unknown"))
        .ok()?;
    let shaped = shape(&reply.content, &capabilities, &conversation.language);
    chosen_option(answer, &shaped.options).cloned()
}
