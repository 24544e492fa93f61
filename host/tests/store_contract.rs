//! The `Store` contract: every behaviour written once against `Arc<dyn Store>` and run
//! against each implementation, SQLite (a file in a temp dir) and PostgreSQL (a throwaway
//! server, a schema per test; see `common/postgres.rs`). A test `name` runs as
//! `<area>::sqlite::name` and `<area>::postgres::name`.

#[path = "common/postgres.rs"]
mod postgres_server;

#[path = "store_contract/accounts.rs"]
mod accounts;
#[path = "store_contract/api_keys.rs"]
mod api_keys;
#[path = "store_contract/audit.rs"]
mod audit;
#[path = "store_contract/console.rs"]
mod console;
#[path = "store_contract/conversations.rs"]
mod conversations;
#[path = "store_contract/deliveries.rs"]
mod deliveries;
#[path = "store_contract/directory.rs"]
mod directory;
#[path = "store_contract/embeddings.rs"]
mod embeddings;
#[path = "store_contract/faq_edits.rs"]
mod faq_edits;
#[path = "store_contract/handover.rs"]
mod handover;
#[path = "store_contract/handover_timers.rs"]
mod handover_timers;
#[path = "store_contract/inbox.rs"]
mod inbox;
#[path = "store_contract/knowledge.rs"]
mod knowledge;
#[path = "store_contract/kv.rs"]
mod kv;
#[path = "store_contract/listings.rs"]
mod listings;
#[path = "store_contract/outbox.rs"]
mod outbox;
#[path = "store_contract/plugins.rs"]
mod plugins;
#[path = "store_contract/postgres_only.rs"]
mod postgres_only;
#[path = "store_contract/row_level_security.rs"]
mod row_level_security;
#[path = "store_contract/sealed_kv.rs"]
mod sealed_kv;
#[path = "store_contract/sealed_secrets.rs"]
mod sealed_secrets;
#[path = "store_contract/seed.rs"]
mod seed;
#[path = "store_contract/turns.rs"]
mod turns;

use std::sync::Arc;

use loa::auth::SecretBox;
use loa::store::Store;
use loa::store::postgres::PostgresStore;
use loa::store::sqlite::SqliteStore;
use postgres_server::TestDatabase;

/// A store for one test and what keeps its database alive.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    backend: Backend,
}

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

/// Connections per PostgreSQL test store: enough for the concurrency tests to overlap.
const POOL_SIZE: usize = 8;

impl Fixture {
    /// A new SQLite database file.
    pub async fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("loa.db")).expect("sqlite store");
        Fixture {
            store: Arc::new(store),
            backend: Backend::Sqlite(dir),
        }
    }

    /// A new schema on the PostgreSQL test server.
    pub async fn postgres() -> Fixture {
        let database = TestDatabase::create().await;
        let store = PostgresStore::connect(&database.url, POOL_SIZE)
            .await
            .expect("postgres store");
        Fixture {
            store: Arc::new(store),
            backend: Backend::Postgres(database),
        }
    }

    /// Another store on this test's database, sealing secrets with `secrets` when given
    /// (as a restart of loa with or without its master key would).
    pub async fn reopen(&self, secrets: Option<Arc<SecretBox>>) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Sqlite(dir) => {
                let store = SqliteStore::open(&dir.path().join("loa.db")).expect("sqlite store");
                match secrets {
                    Some(secrets) => Arc::new(store.with_secrets(secrets)),
                    None => Arc::new(store),
                }
            }
            Backend::Postgres(database) => {
                let store = PostgresStore::connect(&database.url, 2)
                    .await
                    .expect("postgres store");
                match secrets {
                    Some(secrets) => Arc::new(store.with_secrets(secrets)),
                    None => Arc::new(store),
                }
            }
        }
    }

    /// Which database: `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The first column of every row `sql` returns, read as text directly from the
    /// database (not through the store).
    pub async fn query_raw_text(&self, sql: &str) -> Vec<String> {
        match &self.backend {
            Backend::Sqlite(dir) => {
                let connection =
                    rusqlite::Connection::open(dir.path().join("loa.db")).expect("open");
                let mut statement = connection.prepare(sql).expect(sql);
                statement
                    .query_map([], |row| row.get::<_, String>(0))
                    .expect(sql)
                    .collect::<Result<_, _>>()
                    .expect(sql)
            }
            Backend::Postgres(database) => {
                let (client, connection) =
                    tokio_postgres::connect(&database.url, tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                tokio::spawn(connection);
                client
                    .query(sql, &[])
                    .await
                    .expect(sql)
                    .iter()
                    .map(|row| row.get(0))
                    .collect()
            }
        }
    }

    /// Runs `sql` on the database directly, not through the store (as a DBA or an attacker
    /// with the database's credentials would); the database's error as text.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, String> {
        match &self.backend {
            Backend::Sqlite(dir) => {
                let connection = rusqlite::Connection::open(dir.path().join("loa.db"))
                    .map_err(|error| error.to_string())?;
                connection
                    .execute(sql, [])
                    .map(|rows| rows as u64)
                    .map_err(|error| error.to_string())
            }
            Backend::Postgres(database) => {
                let (client, connection) =
                    tokio_postgres::connect(&database.url, tokio_postgres::NoTls)
                        .await
                        .map_err(|error| error.to_string())?;
                tokio::spawn(connection);
                client.execute(sql, &[]).await.map_err(|error| {
                    error
                        .as_db_error()
                        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
                })
            }
        }
    }

    /// Releases the database once the test passed.
    pub async fn finish(self) {
        drop(self.store);
        match self.backend {
            Backend::Sqlite(dir) => drop(dir),
            Backend::Postgres(database) => database.finish().await,
        }
    }
}

/// Instantiates each named `async fn(Arc<dyn Store>)` of the calling module once per
/// backend, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! contract {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let fixture = $crate::Fixture::sqlite().await;
                    super::$test(std::sync::Arc::clone(&fixture.store)).await;
                    fixture.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let fixture = $crate::Fixture::postgres().await;
                    super::$test(std::sync::Arc::clone(&fixture.store)).await;
                    fixture.finish().await;
                }
            )+
        }
    };
}

/// Like [`contract!`], for tests that take the whole [`Fixture`] (to reopen its database
/// as a restart would).
#[macro_export]
macro_rules! contract_with_fixture {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let fixture = $crate::Fixture::sqlite().await;
                    super::$test(&fixture).await;
                    fixture.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let fixture = $crate::Fixture::postgres().await;
                    super::$test(&fixture).await;
                    fixture.finish().await;
                }
            )+
        }
    };
}
