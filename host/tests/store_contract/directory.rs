//! Tenants, bots, channels and the FAQ.

use std::collections::BTreeMap;
use std::sync::Arc;

use loa::conversation::model::{ChannelKind, FaqEntry, Tenant};
use loa::store::{Store, StoreError};

use crate::seed::{T0, bot, channel, shop};

crate::contract!(
    a_tenant_is_created_then_renamed,
    a_bot_round_trips_and_its_settings_are_replaced,
    a_bot_id_of_another_tenant_is_a_conflict,
    a_channel_round_trips_and_its_id_is_owned_by_one_tenant,
    the_faq_is_replaced_whole_and_read_in_order,
    a_faq_with_a_duplicate_id_is_refused_and_the_old_one_kept,
);

async fn a_tenant_is_created_then_renamed(store: Arc<dyn Store>) {
    assert_eq!(store.tenant("may").await.expect("tenant"), None);
    let tenant = Tenant {
        id: "may".into(),
        name: "Thời Trang Mây".into(),
        created_at_ms: T0,
    };
    store.put_tenant(&tenant).await.expect("create");
    assert_eq!(store.tenant("may").await.expect("tenant"), Some(tenant));

    let renamed = Tenant {
        id: "may".into(),
        name: "Mây Boutique".into(),
        created_at_ms: T0 + 5_000,
    };
    store.put_tenant(&renamed).await.expect("rename");
    let stored = store.tenant("may").await.expect("tenant").expect("exists");
    assert_eq!(stored.name, "Mây Boutique");
    assert_eq!(stored.created_at_ms, T0, "a rename keeps the creation time");
}

async fn a_bot_round_trips_and_its_settings_are_replaced(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    let mut stored = store.bot(&shop.bot).await.expect("bot").expect("exists");
    assert_eq!(stored, bot("may", &shop.bot));

    stored.name = "Trợ lý Mây".into();
    stored.settings.languages = vec!["en".into()];
    stored.settings.thresholds.faq = 0.9;
    store.put_bot(&stored).await.expect("update");
    assert_eq!(store.bot(&shop.bot).await.expect("bot"), Some(stored));
    assert_eq!(store.bot("nobody").await.expect("bot"), None);
}

async fn a_bot_id_of_another_tenant_is_a_conflict(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    let mut stolen = bot("lua", "may-bot");
    stolen.name = "not yours".into();
    let error = store.put_bot(&stolen).await.expect_err("id taken");
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let kept = store.bot("may-bot").await.expect("bot").expect("exists");
    assert_eq!(kept.tenant_id, "may");
    assert_eq!(kept.name, "Bot may-bot");
}

async fn a_channel_round_trips_and_its_id_is_owned_by_one_tenant(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    let mut zalo = channel("may", &may.bot, "may-zalo");
    zalo.kind = ChannelKind::Plugin {
        plugin: "zalo-oa".into(),
    };
    zalo.secrets = BTreeMap::from([("oa_secret".to_owned(), "s3cret".to_owned())]);
    store.put_channel(&zalo).await.expect("put");
    assert_eq!(
        store.channel("may-zalo").await.expect("channel"),
        Some(zalo.clone())
    );

    zalo.enabled = false;
    store.put_channel(&zalo).await.expect("disable");
    assert_eq!(
        store.channel("may-zalo").await.expect("channel"),
        Some(zalo)
    );

    let error = store
        .put_channel(&channel("lua", "lua-bot", "may-zalo"))
        .await
        .expect_err("id taken");
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let kept = store
        .channel("may-zalo")
        .await
        .expect("channel")
        .expect("exists");
    assert_eq!(kept.tenant_id, "may");
    assert_eq!(store.channel("nowhere").await.expect("channel"), None);
}

fn faq(id: &str) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        question: format!("câu hỏi {id}?"),
        variants: vec![format!("hỏi {id}")],
        answer: format!("trả lời {id}"),
        tags: vec!["ship".into()],
    }
}

async fn the_faq_is_replaced_whole_and_read_in_order(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_bot(&bot("may", "may-other"))
        .await
        .expect("second bot");
    store
        .replace_faq("may", "may-other", &[faq("other")])
        .await
        .expect("other bot's FAQ");

    let entries = [faq("c"), faq("a"), faq("b")];
    store
        .replace_faq("may", &shop.bot, &entries)
        .await
        .expect("replace");
    assert_eq!(
        store.faq_entries("may", &shop.bot).await.expect("read"),
        entries,
        "in the order given, not by id"
    );

    store
        .replace_faq("may", &shop.bot, &[faq("x")])
        .await
        .expect("replace");
    assert_eq!(
        store.faq_entries("may", &shop.bot).await.expect("read"),
        [faq("x")]
    );
    assert_eq!(
        store.faq_entries("may", "may-other").await.expect("read"),
        [faq("other")],
        "another bot's FAQ is untouched"
    );
    assert!(
        store
            .faq_entries("lua", &shop.bot)
            .await
            .expect("read")
            .is_empty()
    );
}

async fn a_faq_with_a_duplicate_id_is_refused_and_the_old_one_kept(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .replace_faq("may", &shop.bot, &[faq("a")])
        .await
        .expect("replace");
    let error = store
        .replace_faq("may", &shop.bot, &[faq("b"), faq("c"), faq("b")])
        .await
        .expect_err("duplicate id");
    assert!(
        matches!(&error, StoreError::Conflict(message) if message.contains("'b'")),
        "{error:?}"
    );
    assert_eq!(
        store.faq_entries("may", &shop.bot).await.expect("read"),
        [faq("a")]
    );
}
