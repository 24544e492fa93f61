//! Accounts: creating a user (with a password, or invited without one) and an
//! administrator's password reset.

use super::password::{check_policy, hash_password};
use super::service::{AuthError, AuthService, blocking};
use crate::store::{StoreError, User, new_id};

/// Longest email accepted, in bytes (RFC 5321's path limit).
const MAX_EMAIL_BYTES: usize = 254;
/// Longest display name, in characters.
const MAX_NAME_CHARS: usize = 100;

impl AuthService {
    /// Creates an account. The email is trimmed, lower-cased and checked; an empty name
    /// becomes the part of the email before `@`. With no password the account is invited:
    /// it cannot log in until a password is set.
    pub async fn create_user<'p>(
        &self,
        email: &str,
        display_name: &str,
        password: impl Into<Option<&'p str>>,
    ) -> Result<User, AuthError> {
        let now = self.now_ms();
        let email = normalize_email(email)?;
        let display_name = display_name_or_default(display_name, &email)?;
        if self.store.user_by_email(&email).await?.is_some() {
            return Err(AuthError::EmailTaken);
        }
        let password_hash = match password.into() {
            Some(password) => self.hash_new_password(password).await?,
            None => String::new(),
        };
        let user = User {
            id: new_id("us"),
            email,
            display_name,
            password_hash,
            password_changed_at_ms: now,
            disabled: false,
            created_at_ms: now,
        };
        match self.store.create_user(&user).await {
            Ok(()) => {}
            // Created by someone else since the check above.
            Err(StoreError::Conflict(_)) => return Err(AuthError::EmailTaken),
            Err(error) => return Err(error.into()),
        }
        tracing::info!(user = %user.id, invited = user.password_hash.is_empty(), "user created");
        Ok(user)
    }

    /// Sets a user's password without the current one (an administrator's reset, or the
    /// CLI); every login of theirs is revoked. Returns the account.
    pub async fn set_password_for(&self, email: &str, new: &str) -> Result<User, AuthError> {
        let now = self.now_ms();
        let email = email.trim().to_lowercase();
        let user = self
            .store
            .user_by_email(&email)
            .await?
            .ok_or(AuthError::NotFound)?;
        let hash = self.hash_new_password(new).await?;
        if !self.store.set_password(&user.id, &hash, now).await? {
            return Err(AuthError::NotFound);
        }
        tracing::info!(user = %user.id, "password reset; sessions revoked");
        Ok(user)
    }

    /// Checks a new password against the policy and hashes it.
    async fn hash_new_password(&self, password: &str) -> Result<String, AuthError> {
        check_policy(password, self.config.password_min_length)?;
        let password = password.to_owned();
        Ok(blocking(move || hash_password(&password)).await??)
    }
}

/// The stored form of an email, or why it is not one. Deliberately loose (one `@`, a dot
/// in the domain, no spaces): the only real check of an address is mail arriving there.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    let invalid = |reason: &str| Err(AuthError::InvalidEmail(reason.to_owned()));
    if email.is_empty() {
        return invalid("it is empty");
    }
    if email.len() > MAX_EMAIL_BYTES {
        return invalid("it is longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it contains spaces or control characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("it has no '@'");
    };
    if local.is_empty() || domain.contains('@') {
        return invalid("it needs exactly one '@' with a name before it");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return invalid("the part after '@' is not a domain (like may.vn)");
    }
    Ok(email)
}

/// The trimmed name, or the email's local part when empty.
fn display_name_or_default(name: &str, email: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AuthError::InvalidName(format!(
            "at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::InvalidName(
            "no control characters (newlines, tabs)".to_owned(),
        ));
    }
    if name.is_empty() {
        return Ok(email.split('@').next().unwrap_or(email).to_owned());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::service::testing::{Fixture, PASSWORD};

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Owner@May.VN ").expect("valid"),
            "owner@may.vn"
        );
        for bad in [
            "",
            "owner",
            "@may.vn",
            "a@b@may.vn",
            "owner@localhost",
            "own er@may.vn",
            "owner@.vn",
        ] {
            assert!(
                matches!(normalize_email(bad), Err(AuthError::InvalidEmail(_))),
                "{bad}"
            );
        }
        let long = format!("{}@may.vn", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
    }

    #[tokio::test]
    async fn created_user_logs_in_and_a_second_one_with_that_email_is_refused() {
        let fixture = Fixture::new();
        let user = fixture
            .service
            .create_user("An@May.vn", "  ", Some(PASSWORD))
            .await
            .expect("created");
        assert_eq!(
            (user.email.as_str(), user.display_name.as_str()),
            ("an@may.vn", "an")
        );
        assert!(user.password_hash.starts_with("$argon2id$"));
        fixture
            .service
            .login("an@may.vn", PASSWORD)
            .await
            .expect("logs in");
        let again = fixture
            .service
            .create_user("AN@may.vn", "An", Some(PASSWORD))
            .await;
        assert!(matches!(again, Err(AuthError::EmailTaken)), "{again:?}");
    }

    #[tokio::test]
    async fn weak_password_bad_email_or_long_name_creates_nothing() {
        let fixture = Fixture::new();
        let weak = fixture
            .service
            .create_user("an@may.vn", "An", Some("short"))
            .await;
        assert!(matches!(weak, Err(AuthError::WeakPassword(_))), "{weak:?}");
        let bad = fixture
            .service
            .create_user("an", "An", Some(PASSWORD))
            .await;
        assert!(matches!(bad, Err(AuthError::InvalidEmail(_))), "{bad:?}");
        let long = "x".repeat(101);
        let named = fixture.service.create_user("an@may.vn", &long, None).await;
        assert!(matches!(named, Err(AuthError::InvalidName(_))), "{named:?}");
        assert!(
            fixture
                .store
                .user_by_email("an@may.vn")
                .await
                .expect("read")
                .is_none()
        );
    }

    #[tokio::test]
    async fn invited_user_cannot_log_in_until_a_password_is_set() {
        let fixture = Fixture::new();
        let user = fixture
            .service
            .create_user("op@may.vn", "Op", None)
            .await
            .expect("invited");
        assert!(user.password_hash.is_empty());
        for attempt in ["", PASSWORD] {
            let login = fixture.service.login("op@may.vn", attempt).await;
            assert!(
                matches!(login, Err(AuthError::InvalidCredentials)),
                "{login:?}"
            );
        }
        fixture
            .service
            .set_password_for("OP@may.vn", PASSWORD)
            .await
            .expect("set");
        fixture
            .service
            .login("op@may.vn", PASSWORD)
            .await
            .expect("logs in now");
    }

    #[tokio::test]
    async fn reset_replaces_the_password_and_ends_sessions() {
        let fixture = Fixture::new();
        fixture.user("an@may.vn").await;
        let tokens = fixture
            .service
            .login("an@may.vn", PASSWORD)
            .await
            .expect("login");
        fixture.advance_ms(2_000);
        fixture
            .service
            .set_password_for("an@may.vn", "a brand new password")
            .await
            .expect("reset");
        let refresh = fixture.service.refresh(&tokens.refresh_token).await;
        assert!(
            matches!(refresh, Err(AuthError::RefreshReused)),
            "{refresh:?}"
        );
        let access = fixture
            .service
            .authenticate_access(&tokens.access_token)
            .await;
        assert!(
            matches!(access, Err(AuthError::TokenInvalid(_))),
            "{access:?}"
        );
        let old = fixture.service.login("an@may.vn", PASSWORD).await;
        assert!(matches!(old, Err(AuthError::InvalidCredentials)));
        fixture
            .service
            .login("an@may.vn", "a brand new password")
            .await
            .expect("new password works");
        let unknown = fixture
            .service
            .set_password_for("who@may.vn", PASSWORD)
            .await;
        assert!(matches!(unknown, Err(AuthError::NotFound)), "{unknown:?}");
        let weak = fixture.service.set_password_for("an@may.vn", "short").await;
        assert!(matches!(weak, Err(AuthError::WeakPassword(_))), "{weak:?}");
    }
}
