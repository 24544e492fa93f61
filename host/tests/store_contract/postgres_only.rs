//! What only the PostgreSQL store has: several instances on one database, and errors
//! about the server it cannot reach.

use loa::store::postgres::PostgresStore;
use loa::store::{Store, StoreError};

use crate::postgres_server::{TestDatabase, startup_time};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_apply_the_migrations_once() {
    let database = TestDatabase::create().await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = database.url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url, 2).await })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("task").expect("connect"));
    }
    for store in &stores {
        assert_eq!(store.migrate().await.expect("migrate"), 0);
        assert!(
            store
                .installed_plugins()
                .await
                .expect("tables exist")
                .is_empty()
        );
    }
    if let Some(took) = startup_time() {
        eprintln!("throwaway PostgreSQL server started in {took:?}");
    }
    drop(stores);
    database.finish().await;
}

#[tokio::test]
async fn an_unreachable_server_is_named_in_the_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let url = format!("postgres://loa:hunter2@127.0.0.1:{port}/loa");
    let error = PostgresStore::connect(&url, 2)
        .await
        .expect_err("nothing listens there");
    let StoreError::Backend(message) = error else {
        panic!("expected a backend error, got {error:?}");
    };
    assert!(
        message.contains(&format!("127.0.0.1:{port}/loa")),
        "{message}"
    );
    assert!(message.contains("connection refused"), "{message}");
    assert!(
        !message.contains("hunter2"),
        "the password stays out of messages: {message}"
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused_before_connecting() {
    let error = PostgresStore::connect("postgres://[::1", 2)
        .await
        .expect_err("malformed");
    assert!(
        error.to_string().contains("invalid PostgreSQL URL"),
        "{error}"
    );
}
