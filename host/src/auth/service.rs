//! The flows the admin API and the CLI call: the [`AuthService`] over the store, its
//! errors, and what a login returns. The flows themselves are in [`super::sessions`]
//! (login, refresh, logout, access tokens, password change), [`super::users`] (accounts)
//! and [`super::api_keys`].

use std::sync::Arc;

use super::config::AuthConfig;
use super::master_key::MasterKey;
use super::password::{PasswordHashError, PasswordPolicyError};
use super::tokens::AccessTokens;
use crate::store::{Store, StoreError, User};

/// Why an authentication step failed. The HTTP layer maps each to a status: 401 for the
/// credential and token errors, 403 for `Disabled`, 409 `EmailTaken`, 404 `NotFound`,
/// 400 `InvalidEmail`/`InvalidName`, 422 `WeakPassword`, 503 `Store`, 500 `Internal`.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong email or password (the same error for both, on purpose).
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// The account is disabled.
    #[error("this account is disabled")]
    Disabled,
    /// The access or refresh token has expired: refresh, or log in again.
    #[error("the token has expired")]
    TokenExpired,
    /// The token or key is not valid; the reason is safe to show.
    #[error("invalid token: {0}")]
    TokenInvalid(String),
    /// A refresh token was used twice: the whole login was revoked (it may have been stolen).
    #[error("this refresh token was already used; the session is revoked, log in again")]
    RefreshReused,
    /// The new password breaks the policy.
    #[error(transparent)]
    WeakPassword(#[from] PasswordPolicyError),
    /// The email is not an email address.
    #[error("invalid email: {0}")]
    InvalidEmail(String),
    /// The display name is too long or has control characters.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// Another account has this email.
    #[error("an account with this email exists")]
    EmailTaken,
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing, randomness or signing failed: a fault of the host, not of the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<PasswordHashError> for AuthError {
    fn from(error: PasswordHashError) -> Self {
        Self::Internal(error.to_string())
    }
}

/// What a login or a refresh returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When it expires, ms since the Unix epoch.
    pub access_expires_at_ms: i64,
    /// Exchange it at the refresh endpoint for new tokens; usable once.
    pub refresh_token: String,
    /// When it expires, ms since the Unix epoch.
    pub refresh_expires_at_ms: i64,
    /// Who logged in.
    pub user_id: String,
}

/// The person behind a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessIdentity {
    /// Their account, as stored now.
    pub user: User,
    /// The refresh family (login) the token belongs to.
    pub session_family: String,
}

/// Reads the time in ms since the Unix epoch.
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Accounts, logins, tokens and API keys over the store. Cheap to share behind an `Arc`.
pub struct AuthService {
    pub(super) store: Arc<dyn Store>,
    pub(super) tokens: AccessTokens,
    pub(super) config: AuthConfig,
    clock: Clock,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// A service signing tokens with a key derived from `master`.
    pub fn new(store: Arc<dyn Store>, master: &MasterKey, config: AuthConfig) -> Self {
        Self {
            store,
            tokens: AccessTokens::new(master),
            config,
            clock: Arc::new(crate::conversation::pipeline::now_ms),
        }
    }

    /// The same service reading the time from `clock` (tests move time forward).
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The `[auth]` settings it runs with.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Now, ms since the Unix epoch; each flow reads it once.
    pub(super) fn now_ms(&self) -> i64 {
        (self.clock)()
    }
}

/// Runs CPU-heavy work (argon2) off the async runtime's threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AuthError::Internal(format!("password work stopped: {error}")))
}

#[cfg(test)]
pub(super) mod testing {
    //! A service over a real in-memory SQLite store, with a clock the test moves.

    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// 2025-06-15 in ms: any fixed time works.
    pub const START_MS: i64 = 1_750_000_000_000;
    /// A password that passes the default policy.
    pub const PASSWORD: &str = "correct horse battery";

    /// The service, its store, and the clock (ms) it reads.
    pub struct Fixture {
        pub service: AuthService,
        pub store: Arc<dyn Store>,
        pub clock: Arc<AtomicI64>,
    }

    impl Fixture {
        pub fn new() -> Self {
            let store: Arc<dyn Store> =
                Arc::new(SqliteStore::in_memory().expect("in-memory store"));
            let clock = Arc::new(AtomicI64::new(START_MS));
            let read = Arc::clone(&clock);
            let service = AuthService::new(
                Arc::clone(&store),
                &MasterKey::from_bytes([42; 32]),
                AuthConfig::default(),
            )
            .with_clock(move || read.load(Ordering::SeqCst));
            Self {
                service,
                store,
                clock,
            }
        }

        /// Moves the clock forward.
        pub fn advance_ms(&self, ms: i64) {
            self.clock.fetch_add(ms, Ordering::SeqCst);
        }

        /// A user with [`PASSWORD`].
        pub async fn user(&self, email: &str) -> User {
            self.service
                .create_user(email, "", Some(PASSWORD))
                .await
                .expect("user created")
        }
    }
}
