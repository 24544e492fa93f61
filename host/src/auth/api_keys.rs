//! API keys of a tenant for the shop's servers: created with the whole key shown once,
//! checked against the stored hash of their secret, last use recorded at most once a minute.

use super::credentials::{hashes_match, new_api_key, parse_api_key, sha256_hex};
use super::roles::Scope;
use super::service::{AuthError, AuthService};
use crate::store::ApiKey;

/// How stale `last_used_at_ms` may be before a request writes it again, in ms. A minute:
/// precise enough to tell a key in use from a forgotten one, and a busy key costs one write
/// a minute instead of one per request.
const TOUCH_INTERVAL_MS: i64 = 60_000;

impl AuthService {
    /// Creates a key for `tenant_id` with `scopes`; returns the stored record and the whole
    /// key, which is shown once and never again. `created_by` is the audit actor
    /// (`user:us_…`, `cli`).
    pub async fn create_api_key(
        &self,
        tenant_id: &str,
        name: &str,
        scopes: &[Scope],
        created_by: &str,
    ) -> Result<(ApiKey, String), AuthError> {
        let now = self.now_ms();
        let new = new_api_key().map_err(|error| AuthError::Internal(error.to_string()))?;
        let mut scopes: Vec<Scope> = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let key = ApiKey {
            id: new.id,
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            prefix: new.prefix,
            secret_hash: new.secret_hash,
            scopes: scopes
                .iter()
                .map(|scope| scope.as_str().to_owned())
                .collect(),
            created_by: created_by.to_owned(),
            created_at_ms: now,
            last_used_at_ms: None,
            revoked_at_ms: None,
        };
        self.store.create_api_key(&key).await?;
        Ok((key, new.full_key))
    }

    /// The live key behind a presented `loa_ak_…` string. Misshapen, unknown, wrong and
    /// revoked keys are all refused as invalid tokens.
    pub async fn authenticate_api_key(&self, full_key: &str) -> Result<ApiKey, AuthError> {
        let now = self.now_ms();
        let invalid = |reason: &str| AuthError::TokenInvalid(reason.to_owned());
        let (id, secret) = parse_api_key(full_key).ok_or_else(|| invalid("not an API key"))?;
        let mut key = self
            .store
            .api_key(id)
            .await?
            .ok_or_else(|| invalid("unknown API key"))?;
        if !hashes_match(&sha256_hex(secret), &key.secret_hash) {
            return Err(invalid("unknown API key"));
        }
        // Only after the secret matched: the key's state is its owner's business.
        if key.revoked_at_ms.is_some() {
            return Err(invalid("this API key was revoked"));
        }
        let stale = key
            .last_used_at_ms
            .is_none_or(|last| now - last >= TOUCH_INTERVAL_MS);
        if stale {
            // Best effort: a failed write must not refuse a valid key.
            match self.store.touch_api_key(&key.id, now).await {
                Ok(()) => key.last_used_at_ms = Some(now),
                Err(error) => tracing::warn!(key = %key.id, %error, "cannot record API key use"),
            }
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::service::testing::Fixture;
    use crate::conversation::model::Tenant;

    async fn fixture_with_tenant() -> Fixture {
        let fixture = Fixture::new();
        let tenant = Tenant {
            id: "may".to_owned(),
            name: "Mây".to_owned(),
            created_at_ms: 0,
        };
        fixture.store.put_tenant(&tenant).await.expect("tenant");
        fixture
    }

    #[tokio::test]
    async fn created_key_authenticates_and_is_stored_hashed() {
        let fixture = fixture_with_tenant().await;
        let scopes = [
            Scope::MessagesSend,
            Scope::KnowledgeWrite,
            Scope::MessagesSend,
        ];
        let (key, full) = fixture
            .service
            .create_api_key("may", "shop backend", &scopes, "cli")
            .await
            .expect("created");
        assert!(
            full.starts_with("loa_ak_") && full.starts_with(&key.prefix),
            "{full}"
        );
        assert_eq!(key.scopes, ["messages:send", "knowledge:write"]);
        let stored = fixture
            .store
            .api_key(&key.id)
            .await
            .expect("read")
            .expect("stored");
        assert!(
            !format!("{stored:?}").contains(&full[full.len() - 64..]),
            "secret not stored"
        );
        let found = fixture
            .service
            .authenticate_api_key(&full)
            .await
            .expect("valid");
        assert_eq!(
            (found.id.as_str(), found.tenant_id.as_str()),
            (key.id.as_str(), "may")
        );
    }

    #[tokio::test]
    async fn wrong_secret_unknown_id_and_garbage_are_refused() {
        let fixture = fixture_with_tenant().await;
        let (_, full) = fixture
            .service
            .create_api_key("may", "k", &[Scope::TenantRead], "cli")
            .await
            .expect("created");
        let last = if full.ends_with('0') { "1" } else { "0" };
        let wrong_secret = format!("{}{last}", &full[..full.len() - 1]);
        let other = new_api_key().expect("key").full_key;
        for presented in [wrong_secret.as_str(), other.as_str(), "loa_ak_nope", ""] {
            let result = fixture.service.authenticate_api_key(presented).await;
            assert!(
                matches!(result, Err(AuthError::TokenInvalid(_))),
                "{presented}: {result:?}"
            );
        }
    }

    #[tokio::test]
    async fn revoked_key_is_refused() {
        let fixture = fixture_with_tenant().await;
        let (key, full) = fixture
            .service
            .create_api_key("may", "k", &[Scope::TenantRead], "cli")
            .await
            .expect("created");
        assert!(
            fixture
                .store
                .revoke_api_key("may", &key.id, 1)
                .await
                .expect("revoke")
        );
        let result = fixture.service.authenticate_api_key(&full).await;
        assert!(
            matches!(result, Err(AuthError::TokenInvalid(ref reason)) if reason.contains("revoked")),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn last_use_is_written_at_most_once_a_minute() {
        let fixture = fixture_with_tenant().await;
        let (key, full) = fixture
            .service
            .create_api_key("may", "k", &[Scope::TenantRead], "cli")
            .await
            .expect("created");
        let stored_last_use = || async {
            let key = fixture
                .store
                .api_key(&key.id)
                .await
                .expect("read")
                .expect("stored");
            key.last_used_at_ms
        };
        let first = fixture
            .service
            .authenticate_api_key(&full)
            .await
            .expect("valid");
        let first_use = first.last_used_at_ms.expect("recorded");
        assert_eq!(stored_last_use().await, Some(first_use));
        fixture.advance_ms(30_000);
        fixture
            .service
            .authenticate_api_key(&full)
            .await
            .expect("valid");
        assert_eq!(
            stored_last_use().await,
            Some(first_use),
            "not written within the minute"
        );
        fixture.advance_ms(31_000);
        fixture
            .service
            .authenticate_api_key(&full)
            .await
            .expect("valid");
        assert_eq!(stored_last_use().await, Some(first_use + 61_000));
    }
}
