//! Channel plugins under test: a channel of bot `may` on a plugin whose tenant settings let
//! it reach the loopback stubs standing in for the provider.

use serde_json::{Value, json};

use crate::accounts::call;

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
