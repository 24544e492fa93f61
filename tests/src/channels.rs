//! Channel plugins under test: a channel of bot `may` on a plugin whose tenant settings let
//! it reach the loopback stubs standing in for the provider.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::accounts::call;
use crate::workspace_root;

/// A copy of `plugins/<plugin>` in `data_dir` whose manifest also declares `127.0.0.1`,
/// where the stub standing in for the provider listens (the host lets a plugin reach only
/// the hosts its manifest declares; the tenant's grants narrow that further). Install it
/// with `loa plugin install <copy>`.
pub fn plugin_for_loopback(data_dir: &Path, plugin: &str) -> PathBuf {
    let source = workspace_root().join("plugins").join(plugin);
    assert!(
        source.join("plugin.wasm").is_file(),
        "plugins/{plugin}: run `cargo xtask build-plugins` first"
    );
    let copy = data_dir.join(format!("{plugin}-for-loopback"));
    std::fs::create_dir_all(&copy).expect("plugin copy dir");
    std::fs::copy(source.join("plugin.wasm"), copy.join("plugin.wasm")).expect("copy wasm");
    let manifest = std::fs::read_to_string(source.join("plugin.toml")).expect("manifest");
    let mut declared = false;
    let manifest: Vec<String> = manifest
        .lines()
        .map(|line| match line.strip_prefix("http = [") {
            Some(hosts) if !declared => {
                declared = true;
                let hosts = hosts.trim_end().trim_end_matches(']');
                format!("http = [{hosts}, \"127.0.0.1\"]")
            }
            _ => line.to_owned(),
        })
        .collect();
    assert!(
        declared,
        "plugins/{plugin}: no `http = [...]` line in its manifest"
    );
    std::fs::write(copy.join("plugin.toml"), manifest.join("\n") + "\n").expect("write manifest");
    copy
}

/// Enables `plugin` for tenant `may` with `127.0.0.1` granted (the stub's address), then
/// creates channel `channel_id` of bot `may` on it with `secrets`. `token` is an owner's or
/// admin's access token.
pub async fn connect(base_url: &str, token: &str, plugin: &str, channel_id: &str, secrets: Value) {
    // The channel's plugin runs with the tenant's grants: the stub's address.
    let grants = json!({"enabled": true, "config": {}, "http_grants": ["127.0.0.1"]});
    let path = format!("/v1/tenants/may/plugins/{plugin}");
    let granted = call(base_url, Some(token), "PUT", &path, Some(&grants)).await;
    assert_eq!(granted.status, 200, "{}", granted.text());
    let channel = json!({
        "id": channel_id,
        "bot_id": "may",
        "kind": {"type": "plugin", "plugin": plugin},
        "secrets": secrets,
    });
    let created = call(
        base_url,
        Some(token),
        "POST",
        "/v1/tenants/may/channels",
        Some(&channel),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
}

/// Tenant `may`'s conversations, as the admin API lists them.
pub async fn conversations(base_url: &str, token: &str) -> Vec<Value> {
    let answer = call(
        base_url,
        Some(token),
        "GET",
        "/v1/tenants/may/conversations",
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The messages of tenant `may`'s only conversation, oldest first.
pub async fn only_conversation_messages(base_url: &str, token: &str) -> Vec<Value> {
    let conversations = conversations(base_url, token).await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    let id = conversations[0]["id"].as_str().expect("an id");
    let path = format!("/v1/tenants/may/conversations/{id}/messages");
    let answer = call(base_url, Some(token), "GET", &path, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Tenant `may`'s only delivery with its attempts (`GET …/deliveries/{id}`), once it is
/// `sent`; fails when there is more than one, or none is sent within `timeout` (`logs` is
/// the server's stderr, for the failure message).
pub async fn only_sent_delivery(
    base_url: &str,
    token: &str,
    timeout: Duration,
    logs: impl Fn() -> String,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let listed = call(
            base_url,
            Some(token),
            "GET",
            "/v1/tenants/may/deliveries",
            None,
        )
        .await;
        assert_eq!(listed.status, 200, "{}", listed.text());
        let deliveries = listed.json["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(deliveries.len() <= 1, "{deliveries:#?}");
        let sent = deliveries
            .first()
            .filter(|delivery| delivery["status"] == "sent");
        if let Some(id) = sent.and_then(|delivery| delivery["id"].as_i64()) {
            let path = format!("/v1/tenants/may/deliveries/{id}");
            let one = call(base_url, Some(token), "GET", &path, None).await;
            assert_eq!(one.status, 200, "{}", one.text());
            return one.json;
        }
        assert!(
            Instant::now() < deadline,
            "not sent within {timeout:?}: {deliveries:#?}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A host config for restart tests: plugins on loopback, deliveries polled and retried
/// fast, and a 1 s delivery lease, so a restarted host takes over the killed host's send
/// at once instead of after the default 15 s.
pub const SHORT_LEASE_HOST_CONFIG: &str = "\n[plugins]\nallow_private_network = true\n\n\
    [delivery]\npoll_ms = 50\nlease_secs = 1\n\n\
    [delivery.retry]\nmax_attempts = 6\nbase_delay_ms = 200\nmax_delay_ms = 1000\n";

/// The one attempt in `delivery`'s log (`GET …/deliveries/{id}`) of a row a killed host
/// had claimed: its send left no attempt, so two claims and one logged attempt.
pub fn only_attempt_after_restart(delivery: &Value) -> Value {
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{delivery:#}");
    assert_eq!(delivery["delivery"]["attempts"], 2, "{delivery:#}");
    attempts[0].clone()
}
