//! A tenant's API keys: found by id for authentication, listed and revoked per tenant.

use std::sync::Arc;

use loa::store::{ApiKey, Store, StoreError};

use crate::seed::{T0, shop};

crate::contract!(
    a_key_is_found_by_id_whatever_its_tenant,
    a_tenant_lists_only_its_keys_newest_first,
    a_tenant_revokes_only_its_own_live_keys,
    last_use_is_recorded_at_most_once_a_minute,
    a_key_of_an_unknown_tenant_or_a_taken_id_is_refused,
);

pub fn key(tenant: &str, id: &str, created_at_ms: i64) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        name: format!("key {id}"),
        prefix: format!("loa_{id}"),
        secret_hash: format!("sha256-of-{id}"),
        scopes: vec!["messages:send".to_owned(), "knowledge:write".to_owned()],
        created_by: "user:us_lan".to_owned(),
        created_at_ms,
        last_used_at_ms: None,
        revoked_at_ms: None,
    }
}

async fn a_key_is_found_by_id_whatever_its_tenant(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    let may = key("may", "ak_may", T0);
    let lua = key("lua", "ak_lua", T0);
    store.create_api_key(&may).await.expect("create");
    store.create_api_key(&lua).await.expect("create");
    assert_eq!(store.api_key("ak_may").await.expect("key"), Some(may));
    assert_eq!(store.api_key("ak_lua").await.expect("key"), Some(lua));
    assert_eq!(store.api_key("ak_nobody").await.expect("key"), None);
}

async fn a_tenant_lists_only_its_keys_newest_first(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    for (tenant, id, at) in [
        ("may", "ak_old", T0),
        ("may", "ak_new", T0 + 2_000),
        ("lua", "ak_lua", T0 + 1_000),
        ("may", "ak_mid", T0 + 1_000),
    ] {
        store
            .create_api_key(&key(tenant, id, at))
            .await
            .expect("create");
    }
    store
        .revoke_api_key("may", "ak_old", T0 + 3_000)
        .await
        .expect("revoke");
    let keys = store.api_keys("may").await.expect("keys");
    let ids: Vec<_> = keys.iter().map(|key| key.id.as_str()).collect();
    assert_eq!(ids, ["ak_new", "ak_mid", "ak_old"], "revoked keys included");
    assert_eq!(keys[2].revoked_at_ms, Some(T0 + 3_000));
    assert_eq!(keys[0].scopes, ["messages:send", "knowledge:write"]);
    assert!(store.api_keys("nowhere").await.expect("keys").is_empty());
}

async fn a_tenant_revokes_only_its_own_live_keys(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .create_api_key(&key("lua", "ak_lua", T0))
        .await
        .expect("create");
    store
        .create_api_key(&key("may", "ak_may", T0))
        .await
        .expect("create");

    assert!(
        !store
            .revoke_api_key("may", "ak_lua", T0 + 1)
            .await
            .expect("revoke"),
        "another tenant's key"
    );
    let lua = store.api_key("ak_lua").await.expect("key").expect("exists");
    assert_eq!(lua.revoked_at_ms, None, "left live");

    assert!(
        store
            .revoke_api_key("may", "ak_may", T0 + 2)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_api_key("may", "ak_may", T0 + 3)
            .await
            .expect("revoke again"),
        "already revoked"
    );
    let may = store.api_key("ak_may").await.expect("key").expect("exists");
    assert_eq!(may.revoked_at_ms, Some(T0 + 2));
    assert!(
        !store
            .revoke_api_key("may", "ak_nobody", T0)
            .await
            .expect("revoke unknown")
    );
}

async fn last_use_is_recorded_at_most_once_a_minute(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    store
        .create_api_key(&key("may", "ak_may", T0))
        .await
        .expect("create");
    let last_used = |store: Arc<dyn Store>| async move {
        store
            .api_key("ak_may")
            .await
            .expect("key")
            .expect("exists")
            .last_used_at_ms
    };
    store.touch_api_key("ak_may", T0 + 10).await.expect("touch");
    assert_eq!(last_used(Arc::clone(&store)).await, Some(T0 + 10));
    store
        .touch_api_key("ak_may", T0 + 30_000)
        .await
        .expect("touch");
    assert_eq!(
        last_used(Arc::clone(&store)).await,
        Some(T0 + 10),
        "within the minute: no write"
    );
    store
        .touch_api_key("ak_may", T0 + 60_010)
        .await
        .expect("touch");
    assert_eq!(last_used(Arc::clone(&store)).await, Some(T0 + 60_010));
    store
        .touch_api_key("ak_nobody", T0)
        .await
        .expect("an unknown key is no error");
}

async fn a_key_of_an_unknown_tenant_or_a_taken_id_is_refused(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .create_api_key(&key("may", "ak_may", T0))
        .await
        .expect("create");
    for refused in [key("nowhere", "ak_x", T0), key("lua", "ak_may", T0)] {
        let error = store.create_api_key(&refused).await.expect_err("refused");
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    }
    let kept = store.api_key("ak_may").await.expect("key").expect("exists");
    assert_eq!(kept.tenant_id, "may");
}
