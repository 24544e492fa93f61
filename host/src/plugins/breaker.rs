//! Circuit breaker per (tenant, plugin): a plugin that keeps failing is switched off for that
//! tenant, with the reason kept, until the cool-off passes or someone re-enables it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::{BreakerTrip, Store};

/// The breaker's view of one (tenant, plugin).
#[derive(Debug, Clone, Default)]
struct BreakerState {
    consecutive_failures: u32,
    /// Set while open.
    trip: Option<BreakerTrip>,
    /// A trial call after the cool-off is under way; others stay refused until it ends.
    trial_in_flight: bool,
}

/// What the breaker says about a call about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Closed,
    /// Go ahead: this is the one trial call after the cool-off.
    Trial,
    /// Refused: the plugin is switched off for this tenant.
    Open(BreakerTrip),
}

/// Breaker states by tenant, then plugin. Nested rather than keyed by a `(String, String)`
/// pair so the lookups every call makes (admit, record success) borrow the names instead of
/// allocating two keys each.
type States = HashMap<String, HashMap<String, BreakerState>>;

/// All breakers of one engine.
pub struct Breakers {
    threshold: u32,
    cool_off: Duration,
    store: Arc<dyn Store>,
    states: Mutex<States>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

impl Breakers {
    pub(crate) fn new(threshold: u32, cool_off: Duration, store: Arc<dyn Store>) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_off,
            store,
            states: Mutex::default(),
        }
    }

    fn states(&self) -> std::sync::MutexGuard<'_, States> {
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seeds a breaker from its persisted trip the first time this engine sees the pair, so
    /// a plugin switched off before a restart stays off.
    pub fn seed(&self, tenant: &str, plugin: &str, trip: Option<&BreakerTrip>) {
        let mut states = self.states();
        states
            .entry(tenant.to_owned())
            .or_default()
            .entry(plugin.to_owned())
            .or_insert_with(|| BreakerState {
                consecutive_failures: trip.map(|trip| trip.failures).unwrap_or_default(),
                trip: trip.cloned(),
                trial_in_flight: false,
            });
    }

    /// Whether a call may start now.
    pub fn admit(&self, tenant: &str, plugin: &str) -> Admission {
        let mut states = self.states();
        let Some(state) = state_mut(&mut states, tenant, plugin) else {
            return Admission::Closed;
        };
        let Some(trip) = &state.trip else {
            return Admission::Closed;
        };
        let cooled_off = now_ms() - trip.opened_at_ms >= self.cool_off.as_millis() as i64;
        if cooled_off && !state.trial_in_flight {
            state.trial_in_flight = true;
            return Admission::Trial;
        }
        Admission::Open(trip.clone())
    }

    /// Records a call that worked: the breaker closes and the failure count restarts.
    pub async fn record_success(&self, tenant: &str, plugin: &str) {
        let was_open = {
            let mut states = self.states();
            match state_mut(&mut states, tenant, plugin) {
                Some(state) => {
                    let was_open = state.trip.is_some();
                    *state = BreakerState::default();
                    was_open
                }
                None => false,
            }
        };
        if was_open {
            tracing::info!(
                tenant,
                plugin,
                "plugin breaker closed after a good trial call"
            );
            self.persist(tenant, plugin, None).await;
        }
    }

    /// Records a failure; returns the trip when this failure switched the plugin off.
    pub async fn record_failure(
        &self,
        tenant: &str,
        plugin: &str,
        reason: &str,
    ) -> Option<BreakerTrip> {
        let trip = {
            let mut states = self.states();
            let state = states
                .entry(tenant.to_owned())
                .or_default()
                .entry(plugin.to_owned())
                .or_default();
            state.consecutive_failures += 1;
            state.trial_in_flight = false;
            if state.consecutive_failures < self.threshold {
                return None;
            }
            let trip = BreakerTrip {
                reason: reason.to_owned(),
                failures: state.consecutive_failures,
                opened_at_ms: now_ms(),
            };
            state.trip = Some(trip.clone());
            trip
        };
        tracing::warn!(
            tenant,
            plugin,
            failures = trip.failures,
            reason,
            "plugin switched off for this tenant by its circuit breaker"
        );
        self.persist(tenant, plugin, Some(&trip)).await;
        Some(trip)
    }

    /// Switches the plugin back on for the tenant (`loa plugin enable`).
    pub async fn reset(&self, tenant: &str, plugin: &str) {
        if let Some(plugins) = self.states().get_mut(tenant) {
            plugins.remove(plugin);
        }
        self.persist(tenant, plugin, None).await;
    }

    /// Consecutive failures so far (for status displays).
    pub fn failures(&self, tenant: &str, plugin: &str) -> u32 {
        self.states()
            .get(tenant)
            .and_then(|plugins| plugins.get(plugin))
            .map(|state| state.consecutive_failures)
            .unwrap_or_default()
    }

    async fn persist(&self, tenant: &str, plugin: &str, trip: Option<&BreakerTrip>) {
        if let Err(error) = self.store.record_breaker(tenant, plugin, trip).await {
            // The in-memory breaker still protects this process; only the restart case is lost.
            tracing::error!(tenant, plugin, %error, "could not persist plugin breaker state");
        }
    }
}

fn state_mut<'a>(
    states: &'a mut States,
    tenant: &str,
    plugin: &str,
) -> Option<&'a mut BreakerState> {
    states.get_mut(tenant)?.get_mut(plugin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn breakers(cool_off: Duration) -> (Breakers, Arc<dyn Store>) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        (Breakers::new(5, cool_off, Arc::clone(&store)), store)
    }

    #[tokio::test]
    async fn opens_after_five_consecutive_failures_and_persists_the_reason() {
        let (breakers, store) = breakers(Duration::from_secs(300));
        for _ in 0..4 {
            assert!(
                breakers
                    .record_failure("may", "p", "timeout")
                    .await
                    .is_none()
            );
            assert_eq!(breakers.admit("may", "p"), Admission::Closed);
        }
        let trip = breakers
            .record_failure("may", "p", "timeout")
            .await
            .unwrap();
        assert_eq!(trip.failures, 5);
        assert!(matches!(breakers.admit("may", "p"), Admission::Open(t) if t.reason == "timeout"));
        let stored = store.tenant_plugin("may", "p").await.unwrap().unwrap();
        assert_eq!(stored.breaker.unwrap().reason, "timeout");
    }

    #[tokio::test]
    async fn a_success_resets_the_count() {
        let (breakers, _) = breakers(Duration::from_secs(300));
        for _ in 0..4 {
            breakers.record_failure("may", "p", "x").await;
        }
        breakers.record_success("may", "p").await;
        assert!(breakers.record_failure("may", "p", "x").await.is_none());
        assert_eq!(breakers.failures("may", "p"), 1);
    }

    #[tokio::test]
    async fn other_tenants_are_not_affected() {
        let (breakers, _) = breakers(Duration::from_secs(300));
        for _ in 0..5 {
            breakers.record_failure("may", "p", "x").await;
        }
        assert_eq!(breakers.admit("other", "p"), Admission::Closed);
    }

    #[tokio::test]
    async fn after_cool_off_exactly_one_trial_call_is_admitted() {
        let (breakers, _) = breakers(Duration::ZERO);
        for _ in 0..5 {
            breakers.record_failure("may", "p", "x").await;
        }
        assert_eq!(breakers.admit("may", "p"), Admission::Trial);
        assert!(matches!(breakers.admit("may", "p"), Admission::Open(_)));
        breakers.record_success("may", "p").await;
        assert_eq!(breakers.admit("may", "p"), Admission::Closed);
    }

    #[tokio::test]
    async fn reset_reenables_and_clears_the_stored_trip() {
        let (breakers, store) = breakers(Duration::from_secs(300));
        for _ in 0..5 {
            breakers.record_failure("may", "p", "x").await;
        }
        breakers.reset("may", "p").await;
        assert_eq!(breakers.admit("may", "p"), Admission::Closed);
        let stored = store.tenant_plugin("may", "p").await.unwrap().unwrap();
        assert!(stored.breaker.is_none());
    }

    #[tokio::test]
    async fn a_seeded_trip_survives_a_restart() {
        let (breakers, _) = breakers(Duration::from_secs(300));
        let trip = BreakerTrip {
            reason: "oom".into(),
            failures: 5,
            opened_at_ms: now_ms(),
        };
        breakers.seed("may", "p", Some(&trip));
        assert_eq!(breakers.admit("may", "p"), Admission::Open(trip));
    }
}
