//! Edits of one FAQ entry ([`KnowledgeStore`](loa::store::KnowledgeStore)): adds go
//! last, edits keep their place, deletes keep the order of the rest.

use std::sync::Arc;

use loa::conversation::model::FaqEntry;
use loa::store::Store;

use crate::seed::shop;

crate::contract!(
    a_new_faq_entry_goes_last,
    a_replaced_faq_entry_keeps_its_place,
    deleting_a_faq_entry_keeps_the_order_of_the_rest,
    faq_edits_leave_another_tenant_untouched,
);

fn faq(id: &str, answer: &str) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        question: format!("câu hỏi {id}?"),
        variants: vec![format!("hỏi {id}")],
        answer: answer.into(),
        tags: vec![],
    }
}

fn faq_ids(entries: &[FaqEntry]) -> Vec<&str> {
    entries.iter().map(|entry| entry.id.as_str()).collect()
}

async fn a_new_faq_entry_goes_last(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .put_faq_entry("may", &shop.bot, &faq("first", "một"))
        .await
        .expect("into an empty FAQ");
    store
        .replace_faq(
            "may",
            &shop.bot,
            &[faq("c", "c"), faq("a", "a"), faq("b", "b")],
        )
        .await
        .expect("import");
    store
        .put_faq_entry("may", &shop.bot, &faq("0-new", "mới"))
        .await
        .expect("add");
    let entries = store.faq_entries("may", &shop.bot).await.expect("read");
    assert_eq!(faq_ids(&entries), ["c", "a", "b", "0-new"]);
    assert_eq!(entries[3], faq("0-new", "mới"));
}

async fn a_replaced_faq_entry_keeps_its_place(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .replace_faq(
            "may",
            &shop.bot,
            &[faq("c", "c"), faq("a", "a"), faq("b", "b")],
        )
        .await
        .expect("import");
    let edited = faq("a", "Giao hàng 2–3 ngày, miễn phí từ 500.000đ");
    store
        .put_faq_entry("may", &shop.bot, &edited)
        .await
        .expect("edit");
    assert_eq!(
        store.faq_entries("may", &shop.bot).await.expect("read"),
        [faq("c", "c"), edited, faq("b", "b")]
    );
}

async fn deleting_a_faq_entry_keeps_the_order_of_the_rest(store: Arc<dyn Store>) {
    let shop = shop(&*store, "may").await;
    store
        .replace_faq(
            "may",
            &shop.bot,
            &[faq("c", "c"), faq("a", "a"), faq("b", "b"), faq("d", "d")],
        )
        .await
        .expect("import");
    assert!(
        store
            .delete_faq_entry("may", &shop.bot, "a")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_faq_entry("may", &shop.bot, "a")
            .await
            .expect("delete again")
    );
    assert!(
        store
            .delete_faq_entry("may", &shop.bot, "d")
            .await
            .expect("delete the last")
    );
    store
        .put_faq_entry("may", &shop.bot, &faq("e", "e"))
        .await
        .expect("add");
    store
        .put_faq_entry("may", &shop.bot, &faq("c", "c2"))
        .await
        .expect("edit the first");
    assert_eq!(
        store.faq_entries("may", &shop.bot).await.expect("read"),
        [faq("c", "c2"), faq("b", "b"), faq("e", "e")]
    );
}

async fn faq_edits_leave_another_tenant_untouched(store: Arc<dyn Store>) {
    let may = shop(&*store, "may").await;
    shop(&*store, "lua").await;
    let mays = [faq("ship", "Mây ships"), faq("return", "Mây returns")];
    store
        .replace_faq("may", &may.bot, &mays)
        .await
        .expect("may's FAQ");

    store
        .put_faq_entry("lua", &may.bot, &faq("ship", "Lụa ships"))
        .await
        .expect("same ids under another tenant");
    assert!(
        !store
            .delete_faq_entry("lua", &may.bot, "return")
            .await
            .expect("not the other tenant's")
    );
    assert!(
        store
            .delete_faq_entry("lua", &may.bot, "ship")
            .await
            .expect("its own")
    );
    assert_eq!(
        store.faq_entries("may", &may.bot).await.expect("read"),
        mays
    );
    assert!(
        store
            .faq_entries("lua", &may.bot)
            .await
            .expect("read")
            .is_empty()
    );
}

/// FAQ entries added at the same moment (two admins, a script) each get a position of
/// their own: a shared one would leave their order undefined. Positions are not visible
/// through the store, so each backend's rows are read behind its back.
mod concurrent_faq_adds {
    use std::sync::Arc;

    use loa::store::Store;
    use loa::store::postgres::PostgresStore;
    use loa::store::sqlite::SqliteStore;
    use tokio_postgres::NoTls;

    use crate::postgres_server::TestDatabase;
    use crate::seed::shop;

    const ADDS: i64 = 24;
    const POSITIONS: &str = "SELECT position FROM faq_entries ORDER BY position";

    /// Adds `ADDS` entries at once to a fresh shop's bot.
    async fn add_at_once(store: Arc<dyn Store>) {
        let shop = shop(&*store, "may").await;
        // Reads at once first, so a pooled store has its connections open and the adds
        // really overlap instead of queueing behind connection set-up.
        let reads: Vec<_> = (0..8)
            .map(|_| {
                let (store, bot) = (Arc::clone(&store), shop.bot.clone());
                tokio::spawn(async move { store.faq_entries("may", &bot).await })
            })
            .collect();
        for read in reads {
            read.await.expect("task").expect("read");
        }
        let adds: Vec<_> = (0..ADDS)
            .map(|number| {
                let (store, bot) = (Arc::clone(&store), shop.bot.clone());
                tokio::spawn(async move {
                    let entry = super::faq(&format!("q{number:02}"), "?");
                    store.put_faq_entry("may", &bot, &entry).await
                })
            })
            .collect();
        for add in adds {
            add.await.expect("task").expect("add");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("loa.db");
        add_at_once(Arc::new(SqliteStore::open(&path).expect("store"))).await;
        let connection = rusqlite::Connection::open(&path).expect("second connection");
        let mut statement = connection.prepare(POSITIONS).expect("prepare");
        let positions: Vec<i64> = statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(positions, (0..ADDS).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_postgres() {
        let database = TestDatabase::create().await;
        let store = PostgresStore::connect(&database.url, 8)
            .await
            .expect("store");
        add_at_once(Arc::new(store)).await;
        let (client, connection) = tokio_postgres::connect(&database.url, NoTls)
            .await
            .expect("raw connection");
        let driver = tokio::spawn(connection);
        let positions: Vec<i64> = client
            .query(POSITIONS, &[])
            .await
            .expect("query")
            .iter()
            .map(|row| i64::from(row.get::<_, i32>(0)))
            .collect();
        assert_eq!(positions, (0..ADDS).collect::<Vec<_>>());
        drop(client);
        let _ = driver.await;
        database.finish().await;
    }
}
