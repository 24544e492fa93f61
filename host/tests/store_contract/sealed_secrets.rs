//! Channel secrets and plugin config values at rest: sealed with the master key's
//! `SecretBox`, so the database's own columns hold no plaintext, and read back as given.

use std::collections::BTreeMap;
use std::sync::Arc;

use loa::auth::SecretBox;
use loa::auth::master_key::MasterKey;
use loa::store::{Store, StoreError, TenantPluginSettings};

use crate::Fixture;
use crate::seed::{channel, shop};

const CHANNEL_SECRET: &str = "zalo-oa-secret-7731";
const PLUGIN_SECRET: &str = "sk-live-order-api-5521";

fn secret_box(seed: u8) -> Arc<SecretBox> {
    Arc::new(SecretBox::new(&MasterKey::from_bytes([seed; 32])))
}

fn settings() -> TenantPluginSettings {
    TenantPluginSettings {
        tenant_id: "may".into(),
        plugin: "order-status".into(),
        enabled: true,
        config: BTreeMap::from([
            ("api_key".to_owned(), PLUGIN_SECRET.to_owned()),
            ("shop_url".to_owned(), "https://may.vn".to_owned()),
        ]),
        ..TenantPluginSettings::default()
    }
}

/// Writes a channel with a secret and plugin settings through `store`.
async fn write_secrets(store: &dyn Store) -> loa::conversation::model::Channel {
    let may = shop(store, "may").await;
    let mut zalo = channel("may", &may.bot, "may-zalo");
    zalo.secrets = BTreeMap::from([("oa_secret".to_owned(), CHANNEL_SECRET.to_owned())]);
    store.put_channel(&zalo).await.expect("put channel");
    store
        .put_tenant_plugin(&settings())
        .await
        .expect("put settings");
    zalo
}

/// The raw stored text of the channel's secrets and the plugin's config.
async fn raw_columns(fixture: &Fixture) -> String {
    let (secrets, config) = match fixture.backend_name() {
        "sqlite" => (
            "SELECT secrets_json FROM channels WHERE id = 'may-zalo'",
            "SELECT config_json FROM tenant_plugins WHERE plugin = 'order-status'",
        ),
        _ => (
            "SELECT secrets::text FROM channels WHERE id = 'may-zalo'",
            "SELECT config::text FROM tenant_plugins WHERE plugin = 'order-status'",
        ),
    };
    let mut raw = fixture.query_raw_text(secrets).await;
    raw.extend(fixture.query_raw_text(config).await);
    assert_eq!(raw.len(), 2, "{raw:?}");
    raw.join("\n")
}

async fn secrets_are_sealed_at_rest_and_read_back_as_given(fixture: &Fixture) {
    let store = fixture.reopen(Some(secret_box(1))).await;
    let zalo = write_secrets(&*store).await;

    let raw = raw_columns(fixture).await;
    for plaintext in [CHANNEL_SECRET, PLUGIN_SECRET, "https://may.vn"] {
        assert!(!raw.contains(plaintext), "{plaintext} in {raw}");
    }
    assert_eq!(raw.matches("enc:v1:").count(), 3, "{raw}");

    assert_eq!(
        store.channel("may-zalo").await.expect("channel"),
        Some(zalo.clone())
    );
    let channels = store.channels_of_tenant("may").await.expect("channels");
    assert!(channels.contains(&zalo), "{channels:?}");
    assert_eq!(
        store
            .tenant_plugin("may", "order-status")
            .await
            .expect("settings"),
        Some(settings())
    );
    assert_eq!(
        store.tenant_plugins("may").await.expect("list"),
        [settings()]
    );
}

async fn without_the_key_sealed_secrets_are_refused_not_leaked(fixture: &Fixture) {
    write_secrets(&*fixture.reopen(Some(secret_box(1))).await).await;
    for store in [
        fixture.reopen(None).await,
        fixture.reopen(Some(secret_box(2))).await,
    ] {
        let error = store.channel("may-zalo").await.expect_err("cannot open");
        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("oa_secret")),
            "{error:?}"
        );
        let error = store
            .tenant_plugin("may", "order-status")
            .await
            .expect_err("cannot open");
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
        assert!(!error.to_string().contains(PLUGIN_SECRET));
    }
}

async fn plaintext_from_before_the_key_reads_and_is_sealed_on_its_next_write(fixture: &Fixture) {
    let zalo = write_secrets(&*fixture.store).await;
    assert!(
        raw_columns(fixture).await.contains(CHANNEL_SECRET),
        "no key: plaintext"
    );

    let sealed = fixture.reopen(Some(secret_box(1))).await;
    assert_eq!(
        sealed.channel("may-zalo").await.expect("channel"),
        Some(zalo.clone())
    );
    sealed.put_channel(&zalo).await.expect("rewrite");
    sealed
        .put_tenant_plugin(&settings())
        .await
        .expect("rewrite");
    let raw = raw_columns(fixture).await;
    assert!(
        !raw.contains(CHANNEL_SECRET) && !raw.contains(PLUGIN_SECRET),
        "{raw}"
    );
    assert_eq!(
        sealed.channel("may-zalo").await.expect("channel"),
        Some(zalo)
    );
}

crate::contract_with_fixture!(
    secrets_are_sealed_at_rest_and_read_back_as_given,
    without_the_key_sealed_secrets_are_refused_not_leaked,
    plaintext_from_before_the_key_reads_and_is_sealed_on_its_next_write,
);
