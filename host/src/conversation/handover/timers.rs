//! The handover timers: a customer waiting past the bot's `busy_after_minutes` is told
//! staff are busy (once per wait); a conversation a person holds with nothing written
//! for the bot's `idle_minutes` goes back to the bot with a notice. The clock is the
//! store's timestamps, so the timers survive a restart, and every instance may run them:
//! the store's guards make each action happen once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Trigger;
use super::desk::{HandoverDesk, Mover};
use crate::conversation::model::{Bot, SessionState};
use crate::conversation::pipeline::now_ms;
use crate::store::{PeopleConversation, Store, StoreError};

/// How often the timers look. 5 s: a notice is at most this late, and one indexed scan
/// of the conversations people hold costs nothing at that rate.
pub const TICK: Duration = Duration::from_secs(5);

/// Conversations looked at per tick; the oldest moves first, the rest on the next ticks.
const BATCH: u32 = 500;

/// What a timer does to one conversation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Tell the waiting customer staff are busy.
    BusyNotice,
    /// Give the idle conversation back to the bot.
    ReturnIdle,
}

/// What is due for `candidate` of `bot` at `now_ms`, if anything.
pub fn due(candidate: &PeopleConversation, bot: &Bot, now_ms: i64) -> Option<Due> {
    let settings = &bot.settings.handover;
    let conversation = &candidate.conversation;
    let minutes = |count: u32| i64::from(count) * 60_000;
    match conversation.state {
        SessionState::Waiting
            if settings.busy_after_minutes > 0
                && candidate.busy_notified_at_ms.is_none()
                && now_ms - conversation.state_changed_at_ms
                    >= minutes(settings.busy_after_minutes) =>
        {
            Some(Due::BusyNotice)
        }
        SessionState::Human
            if settings.idle_minutes > 0
                && now_ms - conversation.last_activity_ms >= minutes(settings.idle_minutes) =>
        {
            Some(Due::ReturnIdle)
        }
        _ => None,
    }
}

/// Runs the timers until `shutdown`.
pub async fn run(store: Arc<dyn Store>, desk: Arc<HandoverDesk>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = tick(store.as_ref(), &desk, now_ms()).await {
            tracing::warn!(%error, "handover timers: store error; trying again next tick");
        }
    }
}

/// One look at every conversation people hold or wait for, acting on what is due at
/// `now_ms`. Returns how many actions it took.
pub async fn tick(
    store: &dyn Store,
    desk: &HandoverDesk,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let mut bots: HashMap<String, Option<Bot>> = HashMap::new();
    let mut acted = 0;
    for candidate in store.people_conversations(BATCH).await? {
        let conversation = &candidate.conversation;
        if !bots.contains_key(&conversation.bot_id) {
            let bot = store.bot(&conversation.bot_id).await?;
            bots.insert(conversation.bot_id.clone(), bot);
        }
        let Some(Some(bot)) = bots.get(&conversation.bot_id) else {
            continue;
        };
        match due(&candidate, bot, now_ms) {
            Some(Due::BusyNotice)
                if desk
                    .tell_busy(conversation, conversation.state_changed_at_ms)
                    .await?
                    .is_some() =>
            {
                acted += 1;
            }
            Some(Due::ReturnIdle) => {
                let minutes = bot.settings.handover.idle_minutes;
                let outcome = desk
                    .apply(
                        conversation,
                        Trigger::HumanIdle,
                        Mover::System,
                        Some(format!("no message for {minutes} min")),
                    )
                    .await?;
                if matches!(outcome, crate::store::MoveOutcome::Moved { .. }) {
                    acted += 1;
                }
            }
            Some(Due::BusyNotice) | None => {}
        }
    }
    Ok(acted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::model::{BotSettings, Conversation};

    fn bot() -> Bot {
        Bot {
            id: "b".into(),
            tenant_id: "t".into(),
            name: "b".into(),
            settings: BotSettings::default(),
            widget_secret: String::new(),
            created_at_ms: 0,
        }
    }

    fn candidate(state: SessionState, changed: i64, active: i64) -> PeopleConversation {
        PeopleConversation {
            conversation: Conversation {
                id: "c".into(),
                tenant_id: "t".into(),
                bot_id: "b".into(),
                channel_id: "ch".into(),
                contact_id: "k".into(),
                state,
                assigned_to: None,
                state_changed_at_ms: changed,
                language: "vi".into(),
                consecutive_misses: 0,
                last_activity_ms: active,
                created_at_ms: 0,
            },
            busy_notified_at_ms: None,
        }
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn a_wait_past_the_busy_time_is_told_once() {
        let bot = bot();
        let waiting = candidate(SessionState::Waiting, 0, 0);
        assert_eq!(due(&waiting, &bot, 5 * MINUTE - 1), None);
        assert_eq!(due(&waiting, &bot, 5 * MINUTE), Some(Due::BusyNotice));
        let told = PeopleConversation {
            busy_notified_at_ms: Some(5 * MINUTE),
            ..waiting
        };
        assert_eq!(due(&told, &bot, 60 * MINUTE), None);
    }

    #[test]
    fn a_held_conversation_returns_after_the_idle_time_since_its_last_message() {
        let bot = bot();
        let held = candidate(SessionState::Human, 0, 10 * MINUTE);
        assert_eq!(due(&held, &bot, 24 * MINUTE), None);
        assert_eq!(due(&held, &bot, 25 * MINUTE), Some(Due::ReturnIdle));
    }

    #[test]
    fn zero_minutes_turn_a_timer_off() {
        let mut bot = bot();
        bot.settings.handover.busy_after_minutes = 0;
        bot.settings.handover.idle_minutes = 0;
        assert_eq!(
            due(&candidate(SessionState::Waiting, 0, 0), &bot, i64::MAX / 2),
            None
        );
        assert_eq!(
            due(&candidate(SessionState::Human, 0, 0), &bot, i64::MAX / 2),
            None
        );
    }
}
