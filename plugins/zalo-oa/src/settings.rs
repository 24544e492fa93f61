//! The channel's configuration as a call reads it (the app, the token pair the admin
//! pasted, the API hosts), and the credentials one call works with.

use std::hash::BuildHasher;

use loa_sdk::{config, log};

use crate::SEND_BUDGET_MS;
use crate::credentials::Credentials;
use crate::oauth;
use crate::token::{self, Configured};

/// Zalo's OpenAPI host, when the channel sets no `api_base_url`.
const DEFAULT_API_BASE_URL: &str = "https://openapi.zalo.me";

/// Zalo's ZNS (template message) host, when the channel sets no `zns_base_url`.
const DEFAULT_ZNS_BASE_URL: &str = "https://business.openapi.zalo.me";

/// The channel's configuration, read once per send.
pub struct Settings {
    app_id: String,
    app_secret_key: String,
    configured: Configured,
    /// Zalo's OpenAPI host, no trailing `/` ([`DEFAULT_API_BASE_URL`] unless set).
    pub api_base_url: String,
    oauth_base_url: String,
    /// ZNS's host, no trailing `/` ([`DEFAULT_ZNS_BASE_URL`] unless set).
    pub zns_base_url: String,
}

impl Settings {
    /// The tokens of `channel_id` for one call named `call` (a conversation, a template's
    /// tracking id) that began at `started` and has [`SEND_BUDGET_MS`].
    pub fn credentials(&self, channel_id: &str, call: &str, started: u64) -> Credentials {
        Credentials {
            channel_id: channel_id.to_owned(),
            app_id: self.app_id.clone(),
            app_secret_key: self.app_secret_key.clone(),
            oauth_base_url: self.oauth_base_url.clone(),
            configured: self.configured.clone(),
            holder: holder_id(call, started),
            deadline_ms: started.saturating_add(SEND_BUDGET_MS),
        }
    }

    /// Reads the channel's config; `Err` says which required key is missing.
    pub fn load() -> Result<Self, String> {
        let required = |key: &str| {
            config::require(key)
                .map(|value| value.trim().to_owned())
                .map_err(|error| format!("{} (see the zalo-oa plugin's README)", error.message()))
        };
        let expires_at_ms = config::get("access_token_expires_at")
            .filter(|value| !value.trim().is_empty())
            .and_then(|value| {
                token::parse_expires_at(&value)
                    .inspect_err(|reason| {
                        log::warn(
                            "access_token_expires_at ignored",
                            &[("reason", reason.as_str())],
                        );
                    })
                    .ok()
            });
        Ok(Self {
            app_id: required("app_id")?,
            app_secret_key: required("app_secret_key")?,
            configured: Configured {
                access_token: config::get("access_token").unwrap_or_default(),
                refresh_token: required("refresh_token")?,
                expires_at_ms,
            },
            api_base_url: base_url("api_base_url", DEFAULT_API_BASE_URL),
            oauth_base_url: base_url("oauth_base_url", oauth::DEFAULT_OAUTH_BASE_URL),
            zns_base_url: base_url("zns_base_url", DEFAULT_ZNS_BASE_URL),
        })
    }
}

fn base_url(key: &str, default: &str) -> String {
    config::get_or(key, default)
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// Names one send in a refresh lease: the conversation, the time and a random number
/// (two instances may send at the same millisecond).
fn holder_id(conversation_id: &str, now_ms: u64) -> String {
    let random = std::collections::hash_map::RandomState::new().hash_one(now_ms);
    format!("{conversation_id}@{now_ms}#{random:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_holders_differ_between_sends() {
        assert_ne!(holder_id("cv_1", 5), holder_id("cv_2", 5));
        assert!(holder_id("cv_1", 5).starts_with("cv_1@5#"));
    }
}
