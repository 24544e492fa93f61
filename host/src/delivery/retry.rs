//! When to try a failed delivery again: exponential backoff with jitter, the provider's
//! `Retry-After` respected, and a cap on attempts after which the reply is dead-lettered.

use serde::Deserialize;

/// Retry policy of the dispatcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts before a reply is dead-lettered. Default 8 (about 8 minutes of retries
    /// with the defaults below: long enough to ride out a provider's short outage).
    pub max_attempts: u32,
    /// Delay after the first failure, in milliseconds; doubles each attempt. Default 2000.
    pub base_delay_ms: u64,
    /// Longest delay between attempts, in milliseconds. Default 300000 (5 minutes).
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay_ms: 2_000,
            max_delay_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    /// Delay before the attempt after `attempt` (1-based) failed, never shorter than what
    /// the provider asked for. `seed` spreads retries of different rows apart (up to +25%)
    /// so a burst of failures does not come back as a burst.
    pub fn delay_ms(&self, attempt: u32, retry_after_ms: Option<u64>, seed: u64) -> u64 {
        let exponent = attempt.saturating_sub(1).min(32);
        let backoff = self
            .base_delay_ms
            .saturating_mul(1u64 << exponent)
            .min(self.max_delay_ms);
        // Knuth's multiplicative hash: cheap, and spreads consecutive seeds.
        let spread = seed.wrapping_mul(2_654_435_761) % 1000;
        let jitter = backoff / 4 * spread / 1000;
        (backoff + jitter).max(retry_after_ms.unwrap_or(0))
    }

    /// Whether `attempt` (1-based) was the last one allowed.
    pub fn exhausted(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::RetryPolicy;

    #[test]
    fn delay_doubles_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay_ms: 1000,
            max_delay_ms: 8000,
        };
        let delays: Vec<u64> = (1..=6)
            .map(|attempt| policy.delay_ms(attempt, None, 0))
            .collect();
        assert_eq!(delays, vec![1000, 2000, 4000, 8000, 8000, 8000]);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let policy = RetryPolicy::default();
        for seed in 0..200 {
            let delay = policy.delay_ms(1, None, seed);
            assert!((2000..=2500).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn retry_after_from_the_provider_wins_when_longer() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms(1, Some(60_000), 0), 60_000);
    }

    #[test]
    fn attempts_run_out_at_the_maximum() {
        let policy = RetryPolicy::default();
        assert!(!policy.exhausted(7));
        assert!(policy.exhausted(8));
    }
}
