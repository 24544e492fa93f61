//! Installed plugins, tenant plugin settings and the breaker.

use std::collections::BTreeMap;
use std::sync::Arc;

use loa::store::{BreakerTrip, InstalledPlugin, Store, TenantPluginSettings};

use crate::seed::T0;

crate::contract!(
    installed_plugins_list_by_name_then_semver,
    tenant_plugin_settings_round_trip_and_are_replaced,
    the_breaker_is_recorded_and_reset_without_touching_settings,
    migrating_again_applies_nothing,
);

fn installed(name: &str, version: &str, sha256: &str) -> InstalledPlugin {
    InstalledPlugin {
        name: name.into(),
        version: version.parse().expect("version"),
        kind: "tool".into(),
        description: format!("{name} plugin"),
        sha256: sha256.into(),
        installed_at_ms: T0,
    }
}

async fn installed_plugins_list_by_name_then_semver(store: Arc<dyn Store>) {
    assert!(store.installed_plugins().await.expect("list").is_empty());
    for plugin in [
        installed("zalo-oa", "1.10.0", "aa"),
        installed("order-status", "0.2.0", "bb"),
        installed("zalo-oa", "1.9.0", "cc"),
    ] {
        store
            .record_installed_plugin(&plugin)
            .await
            .expect("record");
    }
    let reinstalled = installed("zalo-oa", "1.9.0", "dd");
    store
        .record_installed_plugin(&reinstalled)
        .await
        .expect("record again");

    let listed = store.installed_plugins().await.expect("list");
    assert_eq!(
        listed,
        [
            installed("order-status", "0.2.0", "bb"),
            reinstalled,
            installed("zalo-oa", "1.10.0", "aa"),
        ]
    );
}

fn settings(tenant: &str, plugin: &str) -> TenantPluginSettings {
    TenantPluginSettings {
        tenant_id: tenant.into(),
        plugin: plugin.into(),
        pinned_version: Some("1.2.3".parse().expect("version")),
        enabled: true,
        config: BTreeMap::from([
            ("api_key".to_owned(), "k-123".to_owned()),
            ("greeting".to_owned(), "Xin chào \"bạn\"".to_owned()),
        ]),
        http_grants: vec!["api.shop.vn".into(), "cdn.shop.vn".into()],
        breaker: None,
    }
}

async fn tenant_plugin_settings_round_trip_and_are_replaced(store: Arc<dyn Store>) {
    assert_eq!(
        store
            .tenant_plugin("may", "order-status")
            .await
            .expect("read"),
        None
    );
    let mut stored = settings("may", "order-status");
    store.put_tenant_plugin(&stored).await.expect("put");
    store
        .put_tenant_plugin(&settings("lua", "order-status"))
        .await
        .expect("other tenant");
    assert_eq!(
        store
            .tenant_plugin("may", "order-status")
            .await
            .expect("read"),
        Some(stored.clone())
    );

    stored.pinned_version = None;
    stored.enabled = false;
    stored.config = BTreeMap::new();
    stored.http_grants = Vec::new();
    stored.breaker = Some(BreakerTrip {
        reason: "trap".into(),
        failures: 5,
        opened_at_ms: T0,
    });
    store.put_tenant_plugin(&stored).await.expect("replace");
    assert_eq!(
        store
            .tenant_plugin("may", "order-status")
            .await
            .expect("read"),
        Some(stored)
    );
    assert_eq!(
        store
            .tenant_plugin("lua", "order-status")
            .await
            .expect("read"),
        Some(settings("lua", "order-status"))
    );
    assert_eq!(
        store
            .tenant_plugin("may", "business-hours")
            .await
            .expect("read"),
        None
    );
}

async fn the_breaker_is_recorded_and_reset_without_touching_settings(store: Arc<dyn Store>) {
    let trip = BreakerTrip {
        reason: "plugin 'order-status' ran out of time (500 ms)".into(),
        failures: 5,
        opened_at_ms: T0,
    };
    store
        .record_breaker("may", "never-configured", Some(&trip))
        .await
        .expect("trip");
    let unconfigured = store
        .tenant_plugin("may", "never-configured")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(unconfigured.breaker.as_ref(), Some(&trip));
    assert!(!unconfigured.enabled && unconfigured.config.is_empty());

    let configured = settings("may", "order-status");
    store.put_tenant_plugin(&configured).await.expect("put");
    store
        .record_breaker("may", "order-status", Some(&trip))
        .await
        .expect("trip");
    let tripped = store
        .tenant_plugin("may", "order-status")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        tripped,
        TenantPluginSettings {
            breaker: Some(trip),
            ..configured.clone()
        }
    );

    store
        .record_breaker("may", "order-status", None)
        .await
        .expect("reset");
    assert_eq!(
        store
            .tenant_plugin("may", "order-status")
            .await
            .expect("read"),
        Some(configured)
    );
}

async fn migrating_again_applies_nothing(store: Arc<dyn Store>) {
    assert_eq!(store.migrate().await.expect("migrate"), 0);
    assert_eq!(store.migrate().await.expect("migrate"), 0);
}
