//! Rate limits of the HTTP surface (governor, keyed, in memory per process): logins per
//! client IP and per account (brute force), token refreshes per IP, the admin API per
//! caller (API key or user) and channel webhooks per channel. A refused request gets 429
//! with `Retry-After` in whole seconds.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use super::ApiError;

/// How many requests each limited route takes. Every limit is a sustained rate per minute
/// plus a burst; set a rate to 0 to turn that limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Login attempts per minute from one client IP. Default 20 (a shop's office behind
    /// one NAT logs in a few people; a password-guessing script is slowed to a crawl).
    pub login_per_ip_per_minute: u32,
    /// Login attempts per minute for one account (email), from anywhere. Default 5.
    pub login_per_account_per_minute: u32,
    /// Token refreshes and logouts per minute from one client IP. Default 60.
    pub token_per_ip_per_minute: u32,
    /// Admin API requests per minute of one caller (an API key, or a user). Default 600.
    pub admin_per_caller_per_minute: u32,
    /// Burst of the admin API limit. Default 100.
    pub admin_burst: u32,
    /// Webhook requests per minute of one channel. Default 6000 (100 a second: a busy OA
    /// at a sale; a flood beyond it is refused before any plugin runs).
    pub webhook_per_channel_per_minute: u32,
    /// Burst of the webhook limit. Default 500.
    pub webhook_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            login_per_ip_per_minute: 20,
            login_per_account_per_minute: 5,
            token_per_ip_per_minute: 60,
            admin_per_caller_per_minute: 600,
            admin_burst: 100,
            webhook_per_channel_per_minute: 6000,
            webhook_burst: 500,
        }
    }
}

/// One keyed limit, or none when its rate is 0.
struct Limit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

/// Checks between sweeps of keys that are full again (so one-off IPs do not pile up).
const SWEEP_EVERY: u64 = 4096;

impl Limit {
    fn new(per_minute: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Self { limiter }
    }

    /// `Err(wait)` when `key` is over its limit.
    fn check(&self, key: &str, checks: &AtomicU64) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Which limit to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// A login from this IP.
    LoginIp,
    /// A login for this account.
    LoginAccount,
    /// A token refresh or logout from this IP.
    TokenIp,
    /// An admin API request of this caller.
    AdminCaller,
    /// A webhook of this channel.
    Webhook,
}

/// Every limit of the process.
pub struct RateLimits {
    login_ip: Limit,
    login_account: Limit,
    token_ip: Limit,
    admin: Limit,
    webhook: Limit,
    checks: AtomicU64,
}

impl RateLimits {
    /// The limits `config` asks for.
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            login_ip: Limit::new(
                config.login_per_ip_per_minute,
                config.login_per_ip_per_minute,
            ),
            login_account: Limit::new(
                config.login_per_account_per_minute,
                config.login_per_account_per_minute,
            ),
            token_ip: Limit::new(
                config.token_per_ip_per_minute,
                config.token_per_ip_per_minute,
            ),
            admin: Limit::new(config.admin_per_caller_per_minute, config.admin_burst),
            webhook: Limit::new(config.webhook_per_channel_per_minute, config.webhook_burst),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request of `key` from `which` limit, or the 429 to answer.
    pub fn check(&self, which: Limited, key: &str) -> Result<(), TooManyRequests> {
        let limit = match which {
            Limited::LoginIp => &self.login_ip,
            Limited::LoginAccount => &self.login_account,
            Limited::TokenIp => &self.token_ip,
            Limited::AdminCaller => &self.admin,
            Limited::Webhook => &self.webhook,
        };
        limit.check(key, &self.checks).map_err(|wait| {
            tracing::warn!(limit = ?which, key, wait_ms = wait.as_millis() as u64, "rate limited");
            TooManyRequests { wait }
        })
    }
}

/// A 429 answer: `Retry-After` (whole seconds, at least 1) and the JSON error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRequests {
    /// How long until one more request is allowed.
    pub wait: Duration,
}

impl TooManyRequests {
    /// `Retry-After` in whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0)
    }
}

impl IntoResponse for TooManyRequests {
    fn into_response(self) -> Response {
        let seconds = self.retry_after_secs().max(1);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {seconds} s"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }
}

impl From<TooManyRequests> for ApiError {
    /// For handlers returning `ApiError`: the status and message, without `Retry-After`.
    /// Prefer returning [`TooManyRequests`] itself where the header matters.
    fn from(refused: TooManyRequests) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests; retry in {} s",
                refused.retry_after_secs().max(1)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_burst_is_refused_with_a_wait_and_others_are_not() {
        let limits = RateLimits::new(&RateLimitConfig {
            login_per_account_per_minute: 3,
            ..RateLimitConfig::default()
        });
        for _ in 0..3 {
            assert!(limits.check(Limited::LoginAccount, "a@may.vn").is_ok());
        }
        let refused = limits
            .check(Limited::LoginAccount, "a@may.vn")
            .expect_err("the fourth in a minute is refused");
        // 3 a minute: one more every 20 s.
        assert!(
            (1..=20).contains(&refused.retry_after_secs()),
            "{refused:?}"
        );
        assert!(limits.check(Limited::LoginAccount, "b@may.vn").is_ok());
        assert!(limits.check(Limited::LoginIp, "a@may.vn").is_ok());
    }

    #[test]
    fn a_rate_of_zero_turns_the_limit_off() {
        let limits = RateLimits::new(&RateLimitConfig {
            webhook_per_channel_per_minute: 0,
            ..RateLimitConfig::default()
        });
        for _ in 0..10_000 {
            assert!(limits.check(Limited::Webhook, "zalo-may").is_ok());
        }
    }

    #[test]
    fn the_refusal_is_429_with_retry_after() {
        let response = TooManyRequests {
            wait: Duration::from_millis(1500),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
