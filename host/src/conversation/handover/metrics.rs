//! Handover figures for dashboards, computed from the stored history (so every instance
//! agrees and nothing is lost on a restart): how many handovers by trigger, how long
//! customers waited for a person, and how long an operator took to first reply after
//! taking a conversation.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::conversation::model::SessionState;
use crate::store::HandoverEvent;

/// A distribution of durations, ms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Durations {
    /// How many.
    pub count: u64,
    /// Median.
    pub p50_ms: Option<i64>,
    /// 90th percentile.
    pub p90_ms: Option<i64>,
    /// Longest.
    pub max_ms: Option<i64>,
    /// Mean.
    pub mean_ms: Option<i64>,
}

impl Durations {
    /// The distribution of `samples`.
    pub fn of(mut samples: Vec<i64>) -> Self {
        samples.sort_unstable();
        let count = samples.len();
        if count == 0 {
            return Self::default();
        }
        // Nearest rank: the smallest sample with at least q of them at or below it.
        let rank = |q: f64| {
            let index = ((q * count as f64).ceil() as usize).clamp(1, count) - 1;
            samples[index]
        };
        let total: i64 = samples.iter().sum();
        Self {
            count: count as u64,
            p50_ms: Some(rank(0.5)),
            p90_ms: Some(rank(0.9)),
            max_ms: samples.last().copied(),
            mean_ms: Some(total / count as i64),
        }
    }
}

/// The figures of a tenant over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HandoverMetrics {
    /// Changes of hands by trigger (`customer_asked`, `low_confidence`, `operator_took`…).
    pub by_trigger: BTreeMap<String, u64>,
    /// From queued (`waiting`) to taken, cancelled or closed: waits that ended in the period.
    pub waiting: Durations,
    /// From an operator's take to their first reply, for takes in the period that got one.
    pub first_reply: Durations,
}

/// The figures of `events` (oldest first, as the store lists them).
pub fn compute(events: &[HandoverEvent]) -> HandoverMetrics {
    let mut by_trigger = BTreeMap::new();
    let mut queued_at: HashMap<&str, i64> = HashMap::new();
    let mut waits = Vec::new();
    let mut first_replies = Vec::new();
    for event in events {
        *by_trigger.entry(event.trigger.clone()).or_insert(0) += 1;
        let conversation = event.conversation_id.as_str();
        if event.from_state == SessionState::Waiting
            && let Some(since) = queued_at.remove(conversation)
        {
            waits.push(event.at_ms - since);
        }
        if event.to_state == SessionState::Waiting {
            queued_at.insert(conversation, event.at_ms);
        }
        if event.to_state == SessionState::Human
            && let Some(replied) = event.first_reply_ms
        {
            first_replies.push(replied - event.at_ms);
        }
    }
    HandoverMetrics {
        by_trigger,
        waiting: Durations::of(waits),
        first_reply: Durations::of(first_replies),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionState::{Bot, Closed, Human, Waiting};

    fn event(
        conversation: &str,
        from: SessionState,
        to: SessionState,
        trigger: &str,
        at_ms: i64,
        first_reply_ms: Option<i64>,
    ) -> HandoverEvent {
        HandoverEvent {
            id: at_ms,
            conversation_id: conversation.into(),
            from_state: from,
            to_state: to,
            trigger: trigger.into(),
            actor: "x".into(),
            reason: None,
            at_ms,
            first_reply_ms,
        }
    }

    #[test]
    fn waits_pair_the_queueing_with_what_ended_it_per_conversation() {
        let events = [
            event("a", Bot, Waiting, "customer_asked", 1_000, None),
            event("b", Bot, Waiting, "low_confidence", 2_000, None),
            event("a", Waiting, Human, "operator_took", 31_000, Some(36_000)),
            event("b", Waiting, Bot, "customer_cancelled", 4_000, None),
            event("a", Human, Closed, "operator_closed", 90_000, None),
            // Still waiting at the end: not a finished wait.
            event("c", Bot, Waiting, "customer_asked", 95_000, None),
            // Taken straight from the bot, never answered.
            event("d", Bot, Human, "operator_took", 96_000, None),
        ];
        let metrics = compute(&events);
        assert_eq!(metrics.by_trigger["customer_asked"], 2);
        assert_eq!(metrics.by_trigger["operator_took"], 2);
        assert_eq!(metrics.waiting.count, 2);
        assert_eq!(metrics.waiting.max_ms, Some(30_000));
        assert_eq!(metrics.waiting.p50_ms, Some(2_000));
        assert_eq!(metrics.waiting.mean_ms, Some(16_000));
        assert_eq!(metrics.first_reply.count, 1);
        assert_eq!(metrics.first_reply.p90_ms, Some(5_000));
    }

    #[test]
    fn no_events_no_figures() {
        let metrics = compute(&[]);
        assert!(metrics.by_trigger.is_empty());
        assert_eq!(metrics.waiting, Durations::default());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let spread = Durations::of((1..=10).map(|n| n * 100).collect());
        assert_eq!(
            (spread.p50_ms, spread.p90_ms, spread.max_ms),
            (Some(500), Some(900), Some(1_000))
        );
    }
}
