//! The OA's token pair at run time: the key-value store and the OAuth call behind the
//! decisions of `token.rs`. Kept thin on purpose; what can be decided without a host is
//! decided there.

use std::time::Duration;

use loa_sdk::http::Request;
use loa_sdk::{DeliveryError, TransientFailure, clock, kv, log};

use crate::answer;
use crate::oauth::{self, NewPair, RefreshFailure};
use crate::token::{self, Configured, Lease, Step, TokenRecord};

/// Longest wait for the OAuth server. Generous on purpose: the refresh token is spent when
/// Zalo receives it, so giving up on a slow answer loses the new pair for good; a send
/// left without time after a refresh fails transiently, and its retry finds the stored pair.
const REFRESH_TIMEOUT_MS: u64 = 4_000;

/// A call is not started with less time than this left: it would only time out.
const MIN_REQUEST_MS: u64 = 500;

/// How often a send waiting for another's refresh looks at the record again.
const WAIT_STEP_MS: u64 = 100;

/// Cap on the OAuth server's answer: a token pair is well under a KiB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Retry hint when another send holds the refresh lease past this call's time.
const BUSY_RETRY_MS: u64 = 1_000;

/// One channel's tokens, for one `send`.
pub struct Credentials {
    /// The loa channel (kv keys are per channel: a tenant may connect several OAs).
    pub channel_id: String,
    /// The Zalo app's id.
    pub app_id: String,
    /// The Zalo app's secret key, sent to the OAuth server only.
    pub app_secret_key: String,
    /// `oauth_base_url`.
    pub oauth_base_url: String,
    /// The pair in the channel's config.
    pub configured: Configured,
    /// Names this call in a lease it takes.
    pub holder: String,
    /// When this call must be done, ms since the Unix epoch.
    pub deadline_ms: u64,
}

impl Credentials {
    /// The pair to send with: the stored one, seeded from the config when there is none
    /// (or the admin pasted a new refresh token), refreshed first when about to expire.
    pub fn current(&self) -> Result<TokenRecord, DeliveryError> {
        let key = token::record_key(&self.channel_id);
        // A seed and a refresh at most, plus one lost race each.
        for _ in 0..4 {
            let (bytes, stored) = read_record(&key)?;
            match token::next_step(stored.as_ref(), &self.configured, clock::now_ms()) {
                Step::Use(record) => return Ok(record),
                Step::Seed(record) => {
                    if swap(&key, bytes.as_deref(), &record)? {
                        log::info(
                            "Zalo token pair taken from the channel's config",
                            &[("version", &record.version.to_string())],
                        );
                    }
                }
                Step::Refresh(record) => return self.refresh(&record),
            }
        }
        Err(transient(
            "the stored Zalo token pair kept changing during this send".into(),
            None,
        ))
    }

    /// A pair newer than `rejected`, whose access token Zalo refused: another send's, if
    /// one refreshed meanwhile, else a refresh of our own.
    pub fn after_rejection(&self, rejected: &TokenRecord) -> Result<TokenRecord, DeliveryError> {
        self.refresh(rejected)
    }

    /// Refreshes `stale` unless someone else already did, holding the channel's lease so
    /// that the single-use refresh token is spent once.
    fn refresh(&self, stale: &TokenRecord) -> Result<TokenRecord, DeliveryError> {
        let key = token::record_key(&self.channel_id);
        loop {
            let (_, stored) = read_record(&key)?;
            let current = stored.ok_or_else(|| {
                transient(
                    "the stored Zalo token pair vanished during this send".into(),
                    None,
                )
            })?;
            if current.version != stale.version {
                return Ok(current);
            }
            if let Some(mine) = self.take_lease()? {
                let outcome = self.refresh_holding_lease(stale);
                self.release_lease(&mine);
                return outcome;
            }
            if clock::now_ms().saturating_add(WAIT_STEP_MS) >= self.deadline_ms {
                return Err(transient(
                    "another send is refreshing the Zalo access token; this one tries again \
                     shortly"
                        .into(),
                    Some(BUSY_RETRY_MS),
                ));
            }
            std::thread::sleep(Duration::from_millis(WAIT_STEP_MS));
        }
    }

    fn refresh_holding_lease(&self, stale: &TokenRecord) -> Result<TokenRecord, DeliveryError> {
        let key = token::record_key(&self.channel_id);
        // Read again under the lease: a refresh may have finished just before we took it.
        let (bytes, stored) = read_record(&key)?;
        let current = stored.ok_or_else(|| {
            transient(
                "the stored Zalo token pair vanished during this send".into(),
                None,
            )
        })?;
        if current.version != stale.version {
            return Ok(current);
        }
        if current.refresh_token.is_empty() {
            return Err(DeliveryError::Permanent(format!(
                "no Zalo refresh token left to renew the access token. {RECONNECT}"
            )));
        }
        let pair = self.call_oauth(&current.refresh_token)?;
        let now = clock::now_ms();
        let renewed = token::refreshed(&current, &pair, now);
        // Stored before it is used: the old refresh token is spent, and a pair only this
        // call knew would be lost with it.
        if swap(&key, bytes.as_deref(), &renewed)? {
            log::info(
                "Zalo access token refreshed",
                &[
                    ("version", &renewed.version.to_string()),
                    (
                        "expires_in_s",
                        &pair
                            .expires_in_ms
                            .map_or_else(|| "unknown".into(), |ms| (ms / 1000).to_string()),
                    ),
                ],
            );
            return Ok(renewed);
        }
        // Only a new paste in the config changes the record under a held lease; the
        // admin's pair wins.
        log::warn(
            "Zalo token record changed during a refresh; using the stored one",
            &[],
        );
        let (_, stored) = read_record(&key)?;
        stored.ok_or_else(|| {
            transient(
                "the stored Zalo token pair vanished during this send".into(),
                None,
            )
        })
    }

    fn call_oauth(&self, refresh_token: &str) -> Result<NewPair, DeliveryError> {
        let left = self.deadline_ms.saturating_sub(clock::now_ms());
        if left < MIN_REQUEST_MS {
            return Err(transient(
                "no time left in this send to refresh the Zalo access token".into(),
                None,
            ));
        }
        let response = Request::post(oauth::access_token_url(&self.oauth_base_url))
            .header("secret_key", self.app_secret_key.trim())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(oauth::form_body(refresh_token, &self.app_id))
            .timeout(Duration::from_millis(left.min(REFRESH_TIMEOUT_MS)))
            .max_response_bytes(MAX_ANSWER_BYTES)
            .send()
            .map_err(|error| {
                answer::transport_failure("refreshing the Zalo access token", &error)
            })?;
        oauth::interpret(response.status, &response.body).map_err(|failure| match failure {
            RefreshFailure::Refused(reason) => {
                DeliveryError::Permanent(format!("{reason}. {RECONNECT}"))
            }
            RefreshFailure::Unavailable(reason) => transient(reason, None),
        })
    }

    /// Takes the channel's refresh lease if it is free; `Some(bytes)` of our lease.
    fn take_lease(&self) -> Result<Option<Vec<u8>>, DeliveryError> {
        let key = token::lease_key(&self.channel_id);
        let stored = kv::get(&key).map_err(store_failure)?;
        let lease = stored
            .as_deref()
            .and_then(|bytes| serde_json::from_slice::<Lease>(bytes).ok());
        let now = clock::now_ms();
        if !token::lease_is_free(lease.as_ref(), now) {
            return Ok(None);
        }
        let mine = Lease {
            holder: self.holder.clone(),
            until_ms: now.saturating_add(token::LEASE_MS),
        };
        let bytes = serde_json::to_vec(&mine).map_err(|error| {
            DeliveryError::Permanent(format!("cannot encode a refresh lease: {error}"))
        })?;
        let taken =
            kv::compare_and_swap(&key, stored.as_deref(), Some(&bytes)).map_err(store_failure)?;
        Ok(taken.then_some(bytes))
    }

    /// Gives the lease back, if it is still ours; it lapses by itself otherwise.
    fn release_lease(&self, mine: &[u8]) {
        let key = token::lease_key(&self.channel_id);
        if let Err(error) = kv::compare_and_swap(&key, Some(mine), None) {
            log::warn(
                "refresh lease not released; it lapses by itself",
                &[("error", &error.to_string())],
            );
        }
    }
}

/// What an admin does when the refresh token is no good.
const RECONNECT: &str = "Reconnect the OA: authorize the app for the OA again in Zalo for \
    Developers and paste the new access_token and refresh_token into this channel's config";

/// The stored bytes (for compare-and-swap) and the record they hold, if readable.
fn read_record(key: &str) -> Result<(Option<Vec<u8>>, Option<TokenRecord>), DeliveryError> {
    let bytes = kv::get(key).map_err(store_failure)?;
    let record = bytes.as_deref().and_then(|bytes| {
        serde_json::from_slice::<TokenRecord>(bytes)
            .inspect_err(|error| {
                log::warn(
                    "stored Zalo token pair unreadable; seeding again from the config",
                    &[("error", &error.to_string())],
                );
            })
            .ok()
    });
    Ok((bytes, record))
}

/// Writes `record` under `key` if the stored bytes are still `expected`.
fn swap(key: &str, expected: Option<&[u8]>, record: &TokenRecord) -> Result<bool, DeliveryError> {
    let bytes = serde_json::to_vec(record).map_err(|error| {
        DeliveryError::Permanent(format!("cannot encode the token pair: {error}"))
    })?;
    kv::compare_and_swap(key, expected, Some(&bytes)).map_err(store_failure)
}

fn store_failure(error: kv::KvError) -> DeliveryError {
    transient(format!("key-value store: {error}"), None)
}

fn transient(reason: String, retry_after_ms: Option<u64>) -> DeliveryError {
    DeliveryError::Transient(TransientFailure {
        reason,
        retry_after_ms,
    })
}
