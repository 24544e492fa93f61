//! Logins: password login, refresh-token rotation (a reused token revokes its whole
//! family), logout, access-token checks, password change.

use super::credentials::{is_refresh_token, new_refresh_token, sha256_hex};
use super::password::{
    MAX_PASSWORD_BYTES, check_policy, hash_password, verify_dummy, verify_password,
};
use super::service::{AccessIdentity, AuthError, AuthService, Tokens, blocking};
use super::tokens::TokenError;
use crate::store::{RefreshSession, User, new_id};

impl AuthService {
    /// Logs in with email and password. An unknown email, a wrong password and an invited
    /// user who has not set one all fail the same way, in the same time.
    pub async fn login(&self, email: &str, password: &str) -> Result<Tokens, AuthError> {
        let now = self.now_ms();
        let user = self
            .store
            .user_by_email(&email.trim().to_lowercase())
            .await?;
        let (password, hash) = (
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        );
        let matches = blocking(move || match hash {
            // Longer than any accepted password: no need to hash a megabyte to say no.
            _ if password.len() > MAX_PASSWORD_BYTES => {
                verify_dummy("");
                Ok(false)
            }
            Some(hash) => verify_password(&password, &hash),
            None => {
                verify_dummy(&password);
                Ok(false)
            }
        })
        .await?;
        let user = match (user, matches) {
            (Some(user), Ok(true)) => user,
            (Some(user), Err(error)) => {
                tracing::error!(user = %user.id, %error, "stored password hash is unreadable");
                return Err(AuthError::InvalidCredentials);
            }
            _ => return Err(AuthError::InvalidCredentials),
        };
        if user.disabled {
            return Err(AuthError::Disabled);
        }
        let (session, tokens) = self.issue(&user, &new_id("rf"), now)?;
        self.store.insert_refresh_session(&session).await?;
        tracing::info!(user = %user.id, family = %session.family_id, "logged in");
        Ok(tokens)
    }

    /// Exchanges a refresh token for new tokens in the same family. The old token is spent:
    /// presenting it (or any rotated or revoked token) again revokes the whole family.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, AuthError> {
        let now = self.now_ms();
        let session = self.session_of(refresh_token).await?;
        if session.rotated_at_ms.is_some() || session.revoked_at_ms.is_some() {
            return Err(self.reused(&session, now).await);
        }
        if now >= session.expires_at_ms {
            return Err(AuthError::TokenExpired);
        }
        let user = match self.store.user(&session.user_id).await? {
            Some(user) if !user.disabled => user,
            found => {
                self.store
                    .revoke_refresh_family(&session.family_id, now)
                    .await?;
                return Err(match found {
                    Some(_) => AuthError::Disabled,
                    None => AuthError::TokenInvalid("the account no longer exists".to_owned()),
                });
            }
        };
        let (next, tokens) = self.issue(&user, &session.family_id, now)?;
        if !self
            .store
            .rotate_refresh_session(&session.id, &next, now)
            .await?
        {
            // Another request rotated it between our read and our write: same as reuse.
            return Err(self.reused(&session, now).await);
        }
        Ok(tokens)
    }

    /// Ends the login a refresh token belongs to: its family is revoked, and with it every
    /// access token issued in it.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let now = self.now_ms();
        let session = self.session_of(refresh_token).await?;
        self.store
            .revoke_refresh_family(&session.family_id, now)
            .await?;
        tracing::info!(user = %session.user_id, family = %session.family_id, "logged out");
        Ok(())
    }

    /// The person behind an access token: signature, expiry, the account (not disabled,
    /// password not changed since the token was issued) and the login (not logged out).
    pub async fn authenticate_access(&self, token: &str) -> Result<AccessIdentity, AuthError> {
        let now = self.now_ms();
        let claims = self
            .tokens
            .verify(token, now)
            .map_err(|error| match error {
                TokenError::Expired => AuthError::TokenExpired,
                error => AuthError::TokenInvalid(error.to_string()),
            })?;
        let Some(user) = self.store.user(&claims.sub).await? else {
            return Err(AuthError::TokenInvalid(
                "the account no longer exists".to_owned(),
            ));
        };
        if user.disabled {
            return Err(AuthError::Disabled);
        }
        // `iat` has whole seconds: a token from the second of the change passes this check,
        // but the change revoked its family, which the next check catches.
        if claims.iat < user.password_changed_at_ms.div_euclid(1000) {
            return Err(AuthError::TokenInvalid(
                "the password changed since; log in again".to_owned(),
            ));
        }
        if !self.store.refresh_family_live(&claims.sid).await? {
            return Err(AuthError::TokenInvalid(
                "the session has ended; log in again".to_owned(),
            ));
        }
        Ok(AccessIdentity {
            user,
            session_family: claims.sid,
        })
    }

    /// Changes a user's own password after checking the current one; every login of theirs
    /// is revoked (their access tokens stop working too).
    pub async fn change_password(
        &self,
        user_id: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let now = self.now_ms();
        check_policy(new, self.config.password_min_length)?;
        let user = self.store.user(user_id).await?.ok_or(AuthError::NotFound)?;
        let (current, stored, new) = (current.to_owned(), user.password_hash, new.to_owned());
        let hash = blocking(move || match verify_password(&current, &stored) {
            Ok(true) => hash_password(&new).map(Some),
            Ok(false) => Ok(None),
            Err(error) => Err(error),
        })
        .await??
        .ok_or(AuthError::InvalidCredentials)?;
        if !self.store.set_password(user_id, &hash, now).await? {
            return Err(AuthError::NotFound);
        }
        tracing::info!(user = %user_id, "password changed; sessions revoked");
        Ok(())
    }

    /// A new refresh session in `family_id` and the tokens that go with it.
    fn issue(
        &self,
        user: &User,
        family_id: &str,
        now: i64,
    ) -> Result<(RefreshSession, Tokens), AuthError> {
        let (refresh_token, token_hash) =
            new_refresh_token().map_err(|error| AuthError::Internal(error.to_string()))?;
        let session = RefreshSession {
            id: new_id("rt"),
            family_id: family_id.to_owned(),
            user_id: user.id.clone(),
            token_hash,
            created_at_ms: now,
            expires_at_ms: now.saturating_add(self.config.refresh_token_ms()),
            rotated_at_ms: None,
            revoked_at_ms: None,
        };
        let (access_token, access_expires_at_ms) = self
            .tokens
            .issue(&user.id, family_id, now, self.config.access_token_ms())
            .map_err(|error| AuthError::Internal(error.to_string()))?;
        let tokens = Tokens {
            access_token,
            access_expires_at_ms,
            refresh_token,
            refresh_expires_at_ms: session.expires_at_ms,
            user_id: user.id.clone(),
        };
        Ok((session, tokens))
    }

    /// The stored session of a presented refresh token.
    async fn session_of(&self, refresh_token: &str) -> Result<RefreshSession, AuthError> {
        if !is_refresh_token(refresh_token) {
            return Err(AuthError::TokenInvalid("not a refresh token".to_owned()));
        }
        self.store
            .refresh_session_by_hash(&sha256_hex(refresh_token))
            .await?
            .ok_or_else(|| AuthError::TokenInvalid("unknown refresh token".to_owned()))
    }

    /// Revokes the family of a reused token; the error to return.
    async fn reused(&self, session: &RefreshSession, now: i64) -> AuthError {
        tracing::warn!(user = %session.user_id, family = %session.family_id, "refresh token reused; revoking its family");
        match self
            .store
            .revoke_refresh_family(&session.family_id, now)
            .await
        {
            Ok(_) => AuthError::RefreshReused,
            Err(error) => AuthError::Store(error),
        }
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
