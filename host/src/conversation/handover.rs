//! Handover between the bot and people: the state machine of who holds a conversation
//! (`bot` → `waiting` → `human` → `bot` or `closed`, and `waiting` → `bot` when the
//! customer cancels), what triggers each move, and the per-bot settings and notices.
//! This module decides; the store applies a decision atomically and guarded
//! (`crate::store::HandoverStore`), so two operators taking one conversation at once
//! cannot both win.

pub mod desk;
pub mod metrics;
pub mod phrases;
pub mod settings;
pub mod timers;

use super::Content;
use super::model::{Bot, NewMessage, Sender, SessionState};

pub use settings::{HandoverSettings, HandoverTexts, Notice};

/// Why a conversation changes hands: stored with every change and counted by metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The customer asked for a person.
    CustomerAsked,
    /// The bot missed this many turns in a row.
    LowConfidence,
    /// A middleware plugin asked for a person.
    Middleware,
    /// A tool's result asked for a person.
    Tool,
    /// An operator took it from the console.
    OperatorTook,
    /// The operator gave it back to the bot.
    OperatorGaveBack,
    /// An operator closed it.
    OperatorClosed,
    /// The customer no longer wants to wait.
    CustomerCancelled,
    /// Nobody wrote for the bot's idle time while a person held it.
    HumanIdle,
}

impl Trigger {
    /// Every trigger, for metrics.
    pub const ALL: [Trigger; 9] = [
        Self::CustomerAsked,
        Self::LowConfidence,
        Self::Middleware,
        Self::Tool,
        Self::OperatorTook,
        Self::OperatorGaveBack,
        Self::OperatorClosed,
        Self::CustomerCancelled,
        Self::HumanIdle,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerAsked => "customer_asked",
            Self::LowConfidence => "low_confidence",
            Self::Middleware => "middleware",
            Self::Tool => "tool",
            Self::OperatorTook => "operator_took",
            Self::OperatorGaveBack => "operator_gave_back",
            Self::OperatorClosed => "operator_closed",
            Self::CustomerCancelled => "customer_cancelled",
            Self::HumanIdle => "human_idle",
        }
    }

    /// The state this trigger moves to, and the states it may move from.
    pub fn transition(self) -> (&'static [SessionState], SessionState) {
        use SessionState::{Bot, Closed, Human, Waiting};
        match self {
            Self::CustomerAsked | Self::LowConfidence | Self::Middleware | Self::Tool => {
                (&[Bot], Waiting)
            }
            // An operator may step in while the bot still answers (they watch the live list).
            Self::OperatorTook => (&[Bot, Waiting], Human),
            Self::OperatorGaveBack | Self::HumanIdle => (&[Human], Bot),
            Self::OperatorClosed => (&[Bot, Waiting, Human], Closed),
            Self::CustomerCancelled => (&[Waiting], Bot),
        }
    }

    /// The notice the customer gets when this trigger moves their conversation.
    pub fn notice(self) -> Option<Notice> {
        match self {
            Self::CustomerAsked | Self::LowConfidence | Self::Middleware | Self::Tool => {
                Some(Notice::Waiting)
            }
            Self::OperatorTook => Some(Notice::Taken),
            Self::OperatorGaveBack | Self::HumanIdle => Some(Notice::Returned),
            Self::OperatorClosed => Some(Notice::Closed),
            Self::CustomerCancelled => Some(Notice::Cancelled),
        }
    }
}

/// Why a move is refused before it reaches the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a conversation that is {from} cannot be {verb}", from = .from.as_str(), verb = .trigger.refused_verb())]
pub struct Refused {
    /// The state it is in.
    pub from: SessionState,
    /// What was tried.
    pub trigger: Trigger,
}

impl Trigger {
    fn refused_verb(self) -> &'static str {
        match self {
            Self::CustomerAsked | Self::LowConfidence | Self::Middleware | Self::Tool => {
                "handed to a person"
            }
            Self::OperatorTook => "taken over",
            Self::OperatorGaveBack => "given back",
            Self::OperatorClosed => "closed",
            Self::CustomerCancelled => "cancelled",
            Self::HumanIdle => "returned for idleness",
        }
    }
}

/// The state after `trigger` moves a conversation that is `from`, or why it cannot.
pub fn next_state(from: SessionState, trigger: Trigger) -> Result<SessionState, Refused> {
    let (allowed, to) = trigger.transition();
    if allowed.contains(&from) {
        Ok(to)
    } else {
        Err(Refused { from, trigger })
    }
}

/// A notice to the customer in `language`, in the bot's words, written by the host.
pub fn notice(bot: &Bot, language: &str, which: Notice) -> NewMessage {
    NewMessage {
        sender: Sender::System,
        content: Content::text(bot.settings.handover.texts.text(which, language).to_owned()),
    }
}

/// After a turn the bot answered: hand over when it has now missed `limit` turns in a row
/// (`0`: never).
pub fn too_many_misses(consecutive_misses: u32, limit: u32) -> bool {
    limit > 0 && consecutive_misses >= limit
}

#[cfg(test)]
mod tests {
    use super::SessionState::{Bot, Closed, Human, Waiting};
    use super::*;

    #[test]
    fn the_machine_moves_only_along_its_edges() {
        let states = [Bot, Waiting, Human, Closed];
        let mut edges = Vec::new();
        for trigger in Trigger::ALL {
            for from in states {
                if let Ok(to) = next_state(from, trigger) {
                    edges.push((from, to));
                }
            }
        }
        edges.sort_by_key(|(from, to)| (from.as_str(), to.as_str()));
        edges.dedup();
        assert_eq!(
            edges,
            [
                (Bot, Closed),
                (Bot, Human),
                (Bot, Waiting),
                (Human, Bot),
                (Human, Closed),
                (Waiting, Bot),
                (Waiting, Closed),
                (Waiting, Human),
            ]
        );
    }

    #[test]
    fn a_closed_conversation_moves_nowhere_and_the_refusal_says_why() {
        for trigger in Trigger::ALL {
            let refused = next_state(Closed, trigger).expect_err("closed is final");
            assert!(
                refused
                    .to_string()
                    .starts_with("a conversation that is closed cannot be")
            );
        }
        let refused = next_state(Waiting, Trigger::OperatorGaveBack).expect_err("not held");
        assert_eq!(
            refused.to_string(),
            "a conversation that is waiting cannot be given back"
        );
    }

    #[test]
    fn every_move_tells_the_customer_and_has_a_distinct_name() {
        let mut names: Vec<_> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Trigger::ALL.len());
        assert!(
            Trigger::ALL
                .iter()
                .all(|trigger| trigger.notice().is_some())
        );
    }

    #[test]
    fn misses_hand_over_at_the_limit_and_never_with_zero() {
        assert!(!too_many_misses(1, 2));
        assert!(too_many_misses(2, 2));
        assert!(too_many_misses(3, 2));
        assert!(!too_many_misses(99, 0));
    }
}
