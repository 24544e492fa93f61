//! What the admin API lists for one tenant: bots, channels, plugin settings and pages of
//! conversations; and deleting a channel nobody wrote on yet.

use std::sync::Arc;

use loa::conversation::model::{Conversation, SessionState};
use loa::store::{ConversationFilter, Store, StoreError, TenantPluginSettings};

use crate::seed::{Shop, T0, bot, channel, opening, shop, turn};

crate::contract!(
    bots_and_channels_are_listed_per_tenant_by_id,
    plugin_settings_are_listed_per_tenant_by_plugin,
    conversations_page_newest_first_across_equal_times,
    conversations_are_filtered_by_bot_channel_and_state,
    a_channel_without_contacts_is_deleted_only_by_its_tenant,
);

async fn bots_and_channels_are_listed_per_tenant_by_id(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store.put_bot(&bot("may", "may-a-bot")).await.expect("bot");
    store
        .put_channel(&channel("may", "may-a-bot", "may-a-web"))
        .await
        .expect("channel");

    let bots = store.bots_of_tenant("may").await.expect("bots");
    let ids: Vec<_> = bots.iter().map(|bot| bot.id.as_str()).collect();
    assert_eq!(ids, ["may-a-bot", &may.bot]);
    assert_eq!(bots[1], bot("may", &may.bot));

    let channels = store.channels_of_tenant("may").await.expect("channels");
    let ids: Vec<_> = channels.iter().map(|channel| channel.id.as_str()).collect();
    assert_eq!(ids, ["may-a-web", &may.channel]);
    assert_eq!(channels[1], channel("may", &may.bot, &may.channel));

    assert_eq!(store.bots_of_tenant("lua").await.expect("bots").len(), 1);
    assert!(
        store
            .bots_of_tenant("nowhere")
            .await
            .expect("bots")
            .is_empty()
    );
    assert!(
        store
            .channels_of_tenant("nowhere")
            .await
            .expect("channels")
            .is_empty()
    );
}

fn settings(tenant: &str, plugin: &str) -> TenantPluginSettings {
    TenantPluginSettings {
        tenant_id: tenant.to_owned(),
        plugin: plugin.to_owned(),
        pinned_version: Some(semver::Version::new(1, 2, 0)),
        enabled: true,
        config: [("oa_id".to_owned(), format!("{tenant}-oa"))].into(),
        http_grants: vec!["openapi.zalo.me".to_owned()],
        breaker: None,
    }
}

async fn plugin_settings_are_listed_per_tenant_by_plugin(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    for (tenant, plugin) in [
        ("may", "zalo-oa"),
        ("lua", "zalo-oa"),
        ("may", "order-status"),
    ] {
        store
            .put_tenant_plugin(&settings(tenant, plugin))
            .await
            .expect("put");
    }
    assert_eq!(
        store.tenant_plugins("may").await.expect("list"),
        [settings("may", "order-status"), settings("may", "zalo-oa")]
    );
    assert_eq!(
        store.tenant_plugins("lua").await.expect("list"),
        [settings("lua", "zalo-oa")]
    );
    assert!(
        store
            .tenant_plugins("nowhere")
            .await
            .expect("list")
            .is_empty()
    );
}

/// Opens a conversation for `user` on `shop` at `at_ms`.
async fn started(store: &dyn Store, shop: &Shop, user: &str, at_ms: i64) -> Conversation {
    let mut opening = opening(shop, user);
    opening.now_ms = at_ms;
    store.open_conversation(&opening).await.expect("open").1
}

/// Every page of `filter` (its limit the page size), each cursor the last of the page before.
async fn all_pages(
    store: &dyn Store,
    tenant: &str,
    filter: ConversationFilter,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut filter = filter;
    loop {
        let page = store
            .conversations(tenant, &filter)
            .await
            .expect("conversations");
        let Some(last) = page.last() else {
            return pages;
        };
        filter.before = Some((last.created_at_ms, last.id.clone()));
        pages.push(
            page.into_iter()
                .map(|conversation| conversation.id)
                .collect(),
        );
    }
}

async fn conversations_page_newest_first_across_equal_times(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    let lua = shop(&*store, "lua").await;
    let mut expected = Vec::new();
    for (user, at) in [
        ("a", T0),
        ("b", T0 + 5),
        ("c", T0),
        ("d", T0 + 5),
        ("e", T0),
    ] {
        expected.push(started(&*store, &may, user, at).await);
    }
    started(&*store, &lua, "foreign", T0 + 1).await;
    expected.sort_by(|a, b| {
        (b.created_at_ms, b.id.as_bytes()).cmp(&(a.created_at_ms, a.id.as_bytes()))
    });
    let expected: Vec<String> = expected
        .into_iter()
        .map(|conversation| conversation.id)
        .collect();

    let pages = all_pages(
        &*store,
        "may",
        ConversationFilter {
            limit: 2,
            ..ConversationFilter::default()
        },
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(
        pages.concat(),
        expected,
        "no conversation skipped or repeated"
    );

    let whole = store
        .conversations(
            "may",
            &ConversationFilter {
                limit: 100,
                ..ConversationFilter::default()
            },
        )
        .await
        .expect("conversations");
    assert_eq!(whole.len(), 5, "another tenant's are not listed");
    assert!(
        whole
            .iter()
            .all(|conversation| conversation.tenant_id == "may")
    );
}

async fn conversations_are_filtered_by_bot_channel_and_state(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    store.put_bot(&bot("may", "may-b-bot")).await.expect("bot");
    store
        .put_channel(&channel("may", "may-b-bot", "may-b-web"))
        .await
        .expect("channel");
    let other = Shop {
        tenant: "may".into(),
        bot: "may-b-bot".into(),
        channel: "may-b-web".into(),
    };
    let first = started(&*store, &may, "a", T0).await;
    let waiting = started(&*store, &may, "b", T0 + 1).await;
    let elsewhere = started(&*store, &other, "c", T0 + 2).await;
    let mut handover = turn(&waiting, "turn-1", &[]);
    handover.state = SessionState::Waiting;
    store.commit_turn(&handover).await.expect("hand over");

    let ids = |filter: ConversationFilter| {
        let store = Arc::clone(&store);
        async move {
            store
                .conversations("may", &filter)
                .await
                .expect("conversations")
                .into_iter()
                .map(|conversation| conversation.id)
                .collect::<Vec<_>>()
        }
    };
    let page = |filter: ConversationFilter| ConversationFilter {
        limit: 10,
        ..filter
    };
    assert_eq!(
        ids(page(ConversationFilter {
            bot_id: Some(may.bot.clone()),
            ..ConversationFilter::default()
        }))
        .await,
        [waiting.id.as_str(), first.id.as_str()]
    );
    assert_eq!(
        ids(page(ConversationFilter {
            channel_id: Some("may-b-web".into()),
            ..ConversationFilter::default()
        }))
        .await,
        [elsewhere.id.as_str()]
    );
    assert_eq!(
        ids(page(ConversationFilter {
            state: Some(SessionState::Waiting),
            ..ConversationFilter::default()
        }))
        .await,
        [waiting.id.as_str()]
    );
    assert_eq!(
        ids(page(ConversationFilter {
            bot_id: Some(may.bot.clone()),
            state: Some(SessionState::Bot),
            ..ConversationFilter::default()
        }))
        .await,
        [first.id.as_str()]
    );
    assert!(
        ids(page(ConversationFilter {
            channel_id: Some("lua-web".into()),
            ..ConversationFilter::default()
        }))
        .await
        .is_empty()
    );
}

async fn a_channel_without_contacts_is_deleted_only_by_its_tenant(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .put_channel(&channel("may", &may.bot, "may-spare"))
        .await
        .expect("channel");
    started(&*store, &may, "a", T0).await;

    let error = store
        .delete_channel("may", &may.channel)
        .await
        .expect_err("has contacts");
    assert!(
        matches!(&error, StoreError::Conflict(message) if message.contains("disable")),
        "{error:?}"
    );
    assert!(
        store
            .channel(&may.channel)
            .await
            .expect("channel")
            .is_some()
    );

    assert!(
        !store
            .delete_channel("lua", "may-spare")
            .await
            .expect("foreign")
    );
    assert!(store.channel("may-spare").await.expect("channel").is_some());

    assert!(
        store
            .delete_channel("may", "may-spare")
            .await
            .expect("delete")
    );
    assert_eq!(store.channel("may-spare").await.expect("channel"), None);
    assert!(
        !store
            .delete_channel("may", "may-spare")
            .await
            .expect("delete again")
    );
}
