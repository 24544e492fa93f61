//! PostgreSQL's second wall between tenants: inside a tenant transaction (the role
//! `loa_tenant`, `app.tenant_id` set, as the store's tenant-scoped methods run), even a
//! statement with no `WHERE tenant_id` sees and writes only that tenant's rows.

use loa::auth::Role;
use loa::store::postgres::PostgresStore;
use loa::store::{
    AccountStore, ConversationStore, Document, DocumentChunk, KnowledgeStore, KvQuota, KvScope,
    RefreshSession, Store, StoredEmbedding, TenantPluginSettings,
};
use tokio_postgres::{Client, NoTls};

use crate::accounts::{member, user};
use crate::api_keys::key;
use crate::audit::entry;
use crate::postgres_server::TestDatabase;
use crate::seed::{self, T0};

/// Rows in every table that has a tenant's data, for tenant `tenant`.
async fn seed_tenant(store: &dyn Store, tenant: &str) {
    let shop = seed::shop(store, tenant).await;
    let faq = loa::conversation::model::FaqEntry {
        id: "ship".into(),
        question: "ship?".into(),
        variants: Vec::new(),
        answer: "yes".into(),
        tags: Vec::new(),
    };
    store
        .replace_faq(tenant, &shop.bot, &[faq])
        .await
        .expect("faq");
    seed::insert(store, &seed::event(&shop, "m1", "u1")).await;
    let conversation = seed::conversation(store, &shop, "u1").await;
    store
        .record_inbound(&conversation, "m1", &seed::text("hi"), T0)
        .await
        .expect("inbound");
    let mut turn = seed::turn(&conversation, &format!("{tenant}-turn-1"), &["hello"]);
    turn.delivered_live = true;
    // The customer asked for a person: a line of handover history.
    turn.state = loa::conversation::model::SessionState::Waiting;
    turn.handover = Some(loa::store::HandoverNote {
        trigger: loa::conversation::handover::Trigger::CustomerAsked,
        actor: "contact".into(),
        reason: None,
    });
    store.commit_turn(&turn).await.expect("turn");
    store
        .put_tenant_plugin(&TenantPluginSettings {
            tenant_id: tenant.to_owned(),
            plugin: "zalo-oa".to_owned(),
            enabled: true,
            ..TenantPluginSettings::default()
        })
        .await
        .expect("plugin settings");
    let scope = KvScope {
        tenant_id: tenant.to_owned(),
        plugin: "zalo-oa".to_owned(),
    };
    store
        .kv_set(&scope, "token", b"value", &KvQuota::default())
        .await
        .expect("kv");
    let document = Document {
        id: "doi-tra.md".into(),
        title: "Đổi trả".into(),
        source: "doi-tra.md".into(),
        sha256: "00".into(),
        chunks: vec![DocumentChunk {
            headings: vec!["Đổi trả".into()],
            text: "trong 7 ngày".into(),
        }],
        updated_at_ms: T0,
    };
    store
        .put_document(tenant, &shop.bot, &document)
        .await
        .expect("document");
    store
        .put_embeddings(
            tenant,
            &shop.bot,
            "e5-small",
            &[StoredEmbedding {
                text_sha256: "11".into(),
                vector: vec![0.5, 0.25],
            }],
        )
        .await
        .expect("embeddings");
    let user_id = format!("us_{tenant}");
    store
        .create_user(&user(&user_id, &format!("owner@{tenant}.vn")))
        .await
        .expect("user");
    store
        .put_membership(&member(tenant, &user_id, Role::Owner))
        .await
        .expect("membership");
    store
        .set_presence(tenant, &user_id, loa::store::PresenceStatus::Online, T0)
        .await
        .expect("presence");
    store
        .insert_refresh_session(&RefreshSession {
            id: format!("rt_{tenant}"),
            family_id: format!("rf_{tenant}"),
            user_id: user_id.clone(),
            token_hash: format!("hash-{tenant}"),
            created_at_ms: T0,
            expires_at_ms: T0 + 1_000_000,
            rotated_at_ms: None,
            revoked_at_ms: None,
        })
        .await
        .expect("session");
    store
        .create_api_key(&key(tenant, &format!("ak_{tenant}"), T0))
        .await
        .expect("api key");
    store
        .append_audit(&entry(Some(tenant), "login.ok", T0))
        .await
        .expect("audit");
}

/// A store and a raw connection (loa's login role) to one fresh schema, seeded with two
/// tenants, `may` and `lua`.
async fn two_tenants() -> (TestDatabase, PostgresStore, Client) {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect(&database.url, 4)
        .await
        .expect("postgres store");
    seed_tenant(&store, "may").await;
    seed_tenant(&store, "lua").await;
    let (client, connection) = tokio_postgres::connect(&database.url, NoTls)
        .await
        .expect("raw connection");
    tokio::spawn(connection);
    (database, store, client)
}

/// Enters a tenant transaction for `tenant` on `client`, as the store does.
async fn enter(client: &Client, tenant: &str) {
    client
        .batch_execute("BEGIN; SET LOCAL ROLE loa_tenant")
        .await
        .expect("begin");
    client
        .execute("SELECT set_config('app.tenant_id', $1, true)", &[&tenant])
        .await
        .expect("set tenant");
}

/// Every table of the schema with a `tenant_id` column, and `tenants` itself.
async fn tenant_tables(client: &Client) -> Vec<String> {
    let rows = client
        .query(
            "SELECT c.table_name::text FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'
               AND t.table_type = 'BASE TABLE'
             ORDER BY 1",
            &[],
        )
        .await
        .expect("tables");
    let mut tables: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    tables.push("tenants".to_owned());
    tables
}

/// The tenant of each row of `table`, as `client` sees them (no WHERE at all).
async fn tenants_in(client: &Client, table: &str) -> Vec<Option<String>> {
    let column = if table == "tenants" {
        "id"
    } else {
        "tenant_id"
    };
    client
        .query(&format!("SELECT {column} FROM {table}"), &[])
        .await
        .unwrap_or_else(|error| panic!("select from {table}: {error}"))
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// What the server said.
fn message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

async fn count(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unscoped_select_in_a_tenant_transaction_returns_only_that_tenants_rows() {
    let (database, store, client) = two_tenants().await;
    let tables = tenant_tables(&client).await;
    assert!(tables.len() >= 17, "{tables:?}");

    for table in &tables {
        let policies = count(
            &client,
            &format!(
                "SELECT count(*) FROM pg_policies
                 WHERE schemaname = current_schema() AND tablename = '{table}'
                   AND 'loa_tenant' = ANY(roles)"
            ),
        )
        .await;
        assert!(policies >= 1, "{table} has no policy for loa_tenant");
        let seen = tenants_in(&client, table).await;
        for tenant in ["may", "lua"] {
            assert!(
                seen.contains(&Some(tenant.to_owned())),
                "{table}: the login role sees {tenant}'s rows (the check is not vacuous)"
            );
        }
    }

    enter(&client, "may").await;
    for table in &tables {
        let seen = tenants_in(&client, table).await;
        assert!(!seen.is_empty(), "{table}: may sees its own rows");
        assert!(
            seen.iter().all(|tenant| tenant.as_deref() == Some("may")),
            "{table}: may sees {seen:?}"
        );
    }
    // Tables whose tenant is one step away.
    let users: Vec<String> = client
        .query("SELECT id FROM users", &[])
        .await
        .expect("users")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(users, ["us_may"], "only the tenant's members");
    assert_eq!(
        count(&client, "SELECT count(*) FROM refresh_sessions").await,
        0
    );
    let deliveries = count(&client, "SELECT count(*) FROM delivery_log").await;
    client.batch_execute("COMMIT").await.expect("commit");

    let may_deliveries = count(
        &client,
        "SELECT count(*) FROM delivery_log d JOIN outbox o ON o.id = d.outbox_id
         WHERE o.tenant_id = 'may'",
    )
    .await;
    assert!(may_deliveries > 0);
    assert_eq!(
        deliveries, may_deliveries,
        "delivery_log through its outbox row"
    );
    assert!(count(&client, "SELECT count(*) FROM delivery_log").await > may_deliveries);

    eprintln!(
        "row-level security: {} tenant tables checked (plus users, refresh_sessions, \
         delivery_log): {}",
        tables.len(),
        tables.join(", ")
    );
    drop(store);
    database.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_for_another_tenant_are_refused_in_a_tenant_transaction() {
    let (database, store, client) = two_tenants().await;

    enter(&client, "may").await;
    let error = client
        .execute(
            "INSERT INTO faq_entries (tenant_id, bot_id, id, position, entry)
             VALUES ('lua', 'lua-bot', 'planted', 0, '{}')",
            &[],
        )
        .await
        .expect_err("a row for lua");
    assert!(message(&error).contains("row-level security"), "{error:?}");
    client.batch_execute("ROLLBACK").await.expect("rollback");

    enter(&client, "may").await;
    let moved = client
        .execute("UPDATE tenant_plugins SET tenant_id = 'lua'", &[])
        .await
        .expect_err("moving a row to lua");
    assert!(message(&moved).contains("row-level security"), "{moved:?}");
    client.batch_execute("ROLLBACK").await.expect("rollback");

    enter(&client, "may").await;
    let disabled = client
        .execute("UPDATE tenant_plugins SET enabled = FALSE", &[])
        .await
        .expect("unscoped update");
    assert_eq!(disabled, 1, "only may's row");
    let deleted = client
        .execute("DELETE FROM plugin_kv", &[])
        .await
        .expect("unscoped delete");
    assert_eq!(deleted, 1, "only may's row");
    client.batch_execute("COMMIT").await.expect("commit");

    let lua = store
        .tenant_plugin("lua", "zalo-oa")
        .await
        .expect("settings")
        .expect("exists");
    assert!(lua.enabled, "lua's settings untouched");
    let scope = KvScope {
        tenant_id: "lua".into(),
        plugin: "zalo-oa".into(),
    };
    assert_eq!(
        store.kv_get(&scope, "token").await.expect("kv"),
        Some(b"value".to_vec())
    );
    drop(store);
    database.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scope_ends_with_its_transaction_and_no_tenant_means_no_rows() {
    let (database, store, client) = two_tenants().await;
    let login: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .expect("user")
        .get(0);

    client
        .batch_execute("BEGIN; SET LOCAL ROLE loa_tenant")
        .await
        .expect("begin");
    assert_eq!(
        count(&client, "SELECT count(*) FROM bots").await,
        0,
        "a tenant transaction that names no tenant sees nothing"
    );
    client.batch_execute("COMMIT").await.expect("commit");

    enter(&client, "lua").await;
    assert_eq!(count(&client, "SELECT count(*) FROM bots").await, 1);
    client.batch_execute("COMMIT").await.expect("commit");
    let (role, tenant): (String, Option<String>) = client
        .query_one(
            "SELECT current_user::text, current_setting('app.tenant_id', true)",
            &[],
        )
        .await
        .map(|row| (row.get(0), row.get(1)))
        .expect("settings");
    assert_eq!(role, login, "back to the login role");
    assert!(tenant.unwrap_or_default().is_empty(), "no tenant left set");
    assert_eq!(
        count(&client, "SELECT count(*) FROM bots").await,
        2,
        "the login role sees every tenant"
    );
    drop(store);
    database.finish().await;
}

/// Whether `result` failed because the role lacked a privilege on `table`.
fn denied<T: std::fmt::Debug>(result: Result<T, loa::store::StoreError>, table: &str) {
    let error = result.expect_err(table).to_string();
    assert!(
        error.contains("permission denied") && error.contains(table),
        "{table}: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stores_tenant_methods_run_as_loa_tenant() {
    let (database, store, client) = two_tenants().await;
    // Take loa_tenant's privileges away: a method that runs as loa_tenant now fails, one
    // that runs as the login role does not. (Only this test's schema is touched.)
    client
        .batch_execute(
            "REVOKE ALL ON api_keys, faq_entries, messages, tenant_plugins, knowledge_documents,
                 conversations, audit_log, memberships, bots FROM loa_tenant",
        )
        .await
        .expect("revoke");

    denied(store.api_keys("may").await, "api_keys");
    denied(store.faq_entries("may", "may-bot").await, "faq_entries");
    denied(
        store.tenant_plugin("may", "zalo-oa").await,
        "tenant_plugins",
    );
    denied(
        store.documents("may", "may-bot").await,
        "knowledge_documents",
    );
    denied(store.audit_log("may", None, 10).await, "audit_log");
    denied(store.members("may").await, "memberships");
    denied(store.bots_of_tenant("may").await, "bots");
    let conversation = store
        .current_conversation("may", "may-web", "u1")
        .await
        .map(|_| ())
        .expect_err("conversations");
    assert!(conversation.to_string().contains("permission denied"));
    denied(
        store
            .conversations(
                "may",
                &loa::store::ConversationFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await,
        "conversations",
    );

    // Work that is no tenant's keeps the login role.
    assert!(store.api_key("ak_may").await.expect("key lookup").is_some());
    assert!(store.bot("may-bot").await.expect("bot lookup").is_some());
    assert_eq!(
        store
            .memberships_of_user("us_may")
            .await
            .expect("memberships")
            .len(),
        1
    );
    drop(store);
    database.finish().await;
}
