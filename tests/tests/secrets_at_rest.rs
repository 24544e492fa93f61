//! Secrets given over the admin API, against the real `loa serve` on SQLite: a plugin's
//! secret config value and a channel's credentials are answered masked, kept when the
//! mask is sent back, and never written to the database files in the clear (they are
//! sealed with the master key, `enc:v1:…`).

use std::path::Path;

use loa_e2e::accounts::{admin_config, call, create_tenant, login};
use loa_e2e::serve::Server;
use loa_e2e::{finish, loa, workspace_root};
use serde_json::json;

const PLUGIN_SECRET: &str = "sk-order-api-7f3c9e1d5b";
const CHANNEL_SECRET: &str = "widget-signing-2b8e6a4c0d";
const MASK: &str = "********";

/// Every byte of the database files (the WAL included: fresh writes are there first).
fn database_bytes(data: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(data).expect("read the data dir") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("loa.sqlite3") {
            bytes.extend(std::fs::read(&path).expect("read a database file"));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn secrets_are_masked_in_answers_and_sealed_in_the_database() {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), admin_config("")).expect("write loa.toml");
    finish(
        loa(data.path())
            .args(["plugin", "install"])
            .arg(workspace_root().join("plugins/order-status")),
    )
    .success();
    let password = create_tenant(loa(data.path()), "may", "owner@may.vn");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let owner = login(server.base_url(), "owner@may.vn", &password).await;
    let api = |method: &'static str, path: String, body: Option<serde_json::Value>| {
        let url = server.base_url().to_owned();
        let token = owner.access.clone();
        async move { call(&url, Some(&token), method, &path, body.as_ref()).await }
    };

    // A plugin's secret config value.
    let path = "/v1/tenants/may/plugins/order-status".to_owned();
    let settings = json!({
        "enabled": true,
        "config": {"api_base_url": "https://may.vn/api", "api_key": PLUGIN_SECRET},
        "http_grants": ["may.vn"],
    });
    let stored = api("PUT", path.clone(), Some(settings)).await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json["config"]["api_key"], MASK, "{}", stored.json);
    assert_eq!(stored.json["config"]["api_base_url"], "https://may.vn/api");
    // The mask sent back keeps the stored value; the plain value changes beside it.
    let again = json!({
        "enabled": true,
        "config": {"api_base_url": "https://may.vn/v2", "api_key": MASK},
    });
    let kept = api("PUT", path.clone(), Some(again)).await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert_eq!(kept.json["config"]["api_key"], MASK);
    assert_eq!(kept.json["config"]["api_base_url"], "https://may.vn/v2");
    let listed = api("GET", "/v1/tenants/may/plugins".to_owned(), None).await;
    assert!(!listed.text().contains(PLUGIN_SECRET), "{}", listed.text());

    // A channel's credentials (the bot's widget channel, made with the bot).
    let bot = json!({"id": "may", "name": "Mây"});
    let created = api("POST", "/v1/tenants/may/bots".to_owned(), Some(bot)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let channel = "/v1/tenants/may/channels/widget-may".to_owned();
    let secrets = json!({"secrets": {"signing_key": CHANNEL_SECRET}});
    let changed = api("PATCH", channel.clone(), Some(secrets)).await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json["channel"]["secrets"]["signing_key"], MASK);
    let read = api("GET", channel, None).await;
    assert_eq!(read.json["channel"]["secrets"]["signing_key"], MASK);
    assert!(!read.text().contains(CHANNEL_SECRET));

    // On disk: sealed, never in the clear.
    let bytes = database_bytes(data.path());
    assert!(
        !contains(&bytes, PLUGIN_SECRET),
        "the plugin secret is on disk"
    );
    assert!(
        !contains(&bytes, CHANNEL_SECRET),
        "the channel secret is on disk"
    );
    assert!(contains(&bytes, "enc:v1:"), "sealed values are stored");
    assert!(
        contains(&bytes, "widget-may"),
        "the channel row is there (the test reads the right files)"
    );
    // Nor in the server's log or the audit log.
    assert!(!server.stderr().contains(PLUGIN_SECRET));
    let audit = api("GET", "/v1/tenants/may/audit?limit=200".to_owned(), None).await;
    assert_eq!(audit.status, 200, "{}", audit.text());
    assert!(!audit.text().contains(PLUGIN_SECRET) && !audit.text().contains(CHANNEL_SECRET));
}
