//! The `[auth]` section of the host config: the master key, token lifetimes, password policy.

use serde::Deserialize;

/// How people and keys authenticate.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The master key, base64 of 32 random bytes (`openssl rand -base64 32`). Every other
    /// key (token signing, secrets at rest) is derived from it. Default none: then
    /// `$LOA_MASTER_KEY`, else the file `<data_dir>/master.key`, created (mode 0600) on first
    /// start. Changing it logs everyone out and makes stored secrets unreadable.
    pub master_key: Option<String>,
    /// Lifetime of an access token, in minutes. Default 15: a stolen token is useful for a
    /// short while only; the console refreshes it silently.
    pub access_token_minutes: u64,
    /// Lifetime of a refresh token, in days. Default 30: a person who uses the console at
    /// least monthly stays logged in; each refresh issues a new token with a fresh lifetime.
    pub refresh_token_days: u64,
    /// Shortest password accepted, in characters. Default 10 (OWASP asks for at least 8
    /// with MFA, more without; loa has no MFA yet).
    pub password_min_length: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            access_token_minutes: 15,
            refresh_token_days: 30,
            password_min_length: 10,
        }
    }
}

impl std::fmt::Debug for AuthConfig {
    /// Never prints the master key (configs end up in logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("master_key", &self.master_key.as_ref().map(|_| "********"))
            .field("access_token_minutes", &self.access_token_minutes)
            .field("refresh_token_days", &self.refresh_token_days)
            .field("password_min_length", &self.password_min_length)
            .finish()
    }
}

impl AuthConfig {
    /// Access-token lifetime in ms.
    pub fn access_token_ms(&self) -> i64 {
        minutes_to_ms(self.access_token_minutes)
    }

    /// Refresh-token lifetime in ms.
    pub fn refresh_token_ms(&self) -> i64 {
        minutes_to_ms(self.refresh_token_days.saturating_mul(24 * 60))
    }
}

/// Saturates instead of overflowing on absurd configured values.
fn minutes_to_ms(minutes: u64) -> i64 {
    i64::try_from(minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides_parse() {
        let config: AuthConfig = toml::from_str("access_token_minutes = 5").expect("parses");
        assert_eq!(config.access_token_ms(), 300_000);
        assert_eq!(config.refresh_token_ms(), 30 * 24 * 3_600_000);
        assert_eq!(config.password_min_length, 10);
        assert!(config.master_key.is_none());
    }

    #[test]
    fn unknown_fields_are_refused_and_the_key_is_not_printed() {
        let error = toml::from_str::<AuthConfig>("acces_token_minutes = 5").expect_err("typo");
        assert!(error.to_string().contains("acces_token_minutes"), "{error}");
        let config: AuthConfig = toml::from_str("master_key = \"c2VjcmV0\"").expect("parses");
        assert!(!format!("{config:?}").contains("c2VjcmV0"));
    }
}
