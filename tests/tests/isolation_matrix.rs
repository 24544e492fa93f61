//! The isolation matrix, against the real `loa serve`: every operation of the admin API's
//! OpenAPI document × every kind of caller (the four roles, an API key with every scope,
//! no token, forged and expired tokens, a revoked key) × the caller's own tenant and the
//! other one. Each answer is checked against the permission table (`loa::auth::roles`):
//! 401 without a valid token, 403 in the other tenant or without the permission, success
//! otherwise; a refused write changes nothing, whatever its body. On SQLite and on
//! PostgreSQL.

#[path = "../../host/tests/common/postgres.rs"]
mod postgres;

#[path = "isolation_matrix/cells.rs"]
mod cells;
#[path = "isolation_matrix/routes.rs"]
mod routes;
#[path = "isolation_matrix/world.rs"]
mod world;

use std::path::Path;
use std::process::Command;

use loa_e2e::accounts::{admin_config, create_tenant};
use loa_e2e::serve::Server;
use loa_e2e::{finish, loa, workspace_root};

/// The two shops: every caller of one tries everything in both.
const TENANTS: [&str; 2] = ["may", "linh"];

/// `loa` on the test's data dir, and on PostgreSQL when `database_url` is set.
fn loa_on(data: &Path, database_url: Option<&str>) -> Command {
    let mut command = loa(data);
    command.arg("--data-dir").arg(data);
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    command
}

/// Prepares the data dir (config, the order-status and telegram plugins installed, both tenants with
/// their owners), starts the server and runs the matrix.
async fn run(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("temp dir");
    // One attempt, then dead: the dead-letter cells need a letter that dies at once.
    let config = admin_config("\n[delivery]\npoll_ms = 50\n\n[delivery.retry]\nmax_attempts = 1\n");
    std::fs::write(data.path().join("loa.toml"), config).expect("write loa.toml");
    for name in ["order-status", "telegram"] {
        let plugin = workspace_root().join("plugins").join(name);
        assert!(
            plugin.join("plugin.wasm").is_file(),
            "{} has no plugin.wasm: run `cargo xtask build-plugins` first (`cargo xtask test` does)",
            plugin.display()
        );
        finish(
            loa_on(data.path(), database_url)
                .args(["plugin", "install"])
                .arg(&plugin),
        )
        .success();
    }
    let owners: Vec<(String, String)> = TENANTS
        .iter()
        .map(|tenant| {
            let email = format!("owner@{tenant}.vn");
            let password = create_tenant(loa_on(data.path(), database_url), tenant, &email);
            (tenant.to_string(), password)
        })
        .collect();
    let args: Vec<&str> = match database_url {
        Some(url) => vec!["--database-url", url],
        None => Vec::new(),
    };
    let server = Server::start(data.path(), args);
    let mut world = world::World::set_up(server.base_url(), &owners).await;
    let tally = cells::run(&mut world).await;
    println!(
        "isolation matrix ({}): {} cells = {} operations × {} callers × own/other tenant \
         (tenant-less operations once) × {} home tenants: {} allowed, {} refused 401, {} \
         refused 403; {} refused writes checked to change nothing",
        database_url.map_or("SQLite", |_| "PostgreSQL"),
        tally.cells,
        tally.operations,
        tally.callers,
        TENANTS.len(),
        tally.allowed,
        tally.unauthenticated,
        tally.forbidden,
        tally.unchanged_checked,
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} cells went wrong:\n{}\n\nserver log:\n{}",
        tally.failures.len(),
        tally.cells,
        tally.failures.join("\n"),
        server.stderr()
    );
}

#[tokio::test]
async fn every_operation_for_every_caller_in_both_tenants_on_sqlite() {
    run(None).await;
}

#[tokio::test]
async fn every_operation_for_every_caller_in_both_tenants_on_postgres() {
    let database = postgres::TestDatabase::create().await;
    run(Some(&database.url)).await;
    database.finish().await;
}
