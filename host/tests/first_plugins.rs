//! The first-party plugins, as real components against real local servers: `order-status`
//! over HTTP to a stub of a shop's order API, `business-hours` on the host's clock.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use common::{bind, context, engine_with, test_config};
use loa::config::PluginHostConfig;
use loa::plugins::types::{Message, Verdict};
use serde_json::{Value, json};

/// What the stub saw: the Authorization header of each request.
type Seen = Arc<Mutex<Vec<String>>>;

async fn order(
    State(seen): State<Seen>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(authorization.clone());
    if authorization != "Bearer shop-secret" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "bad key"})));
    }
    match order_id.as_str() {
        "A123" => (
            StatusCode::OK,
            Json(json!({"order_id": "A123", "status": "shipping", "carrier": "GHN"})),
        ),
        "BOOM" => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({}))),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        ),
    }
}

/// Starts the stub order API on a free loopback port; returns its base URL.
async fn order_api() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/api/orders/{order_id}", get(order))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/api"), seen)
}

/// order-status configured for the stub API, with `grant` as the tenant's one HTTP grant.
fn configured_order_status(
    engine: &loa::plugins::PluginEngine,
    base: &str,
    grant: &str,
) -> loa::plugins::TenantPlugin {
    let config = [("api_base_url", base), ("api_key", "shop-secret")];
    bind(engine, "plugins/order-status", "may", &config, &[grant])
}

fn loopback_config() -> PluginHostConfig {
    PluginHostConfig {
        allow_private_network: true,
        tool_timeout_ms: 2_000,
        ..test_config()
    }
}

#[tokio::test]
async fn order_status_returns_the_api_answer_and_sends_the_key() {
    let (base, seen) = order_api().await;
    let (engine, _) = engine_with(loopback_config());
    let plugin = configured_order_status(&engine, &base, "127.0.0.1");
    let report = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"order_id":"A123"}"#,
            &context("may"),
        )
        .await;
    let result: Value = serde_json::from_str(&report.outcome.expect("order found")).unwrap();
    assert_eq!(result["status"], "shipping");
    assert_eq!(result["order_id"], "A123");
    assert_eq!(seen.lock().unwrap().as_slice(), ["Bearer shop-secret"]);
    assert!(!report.logs.is_empty(), "the lookup is logged");
}

#[tokio::test]
async fn order_status_maps_404_to_not_found_and_500_to_upstream() {
    let (base, _) = order_api().await;
    let (engine, _) = engine_with(loopback_config());
    let plugin = configured_order_status(&engine, &base, "127.0.0.1");
    let missing = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"order_id":"Z9"}"#,
            &context("may"),
        )
        .await
        .outcome
        .expect_err("404");
    assert!(missing.to_string().contains("not_found"), "{missing}");
    assert!(missing.to_string().contains("Z9"), "{missing}");
    assert!(!missing.counts_against_plugin());

    let broken = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"order_id":"BOOM"}"#,
            &context("may"),
        )
        .await
        .outcome
        .expect_err("500");
    assert!(broken.to_string().contains("upstream"), "{broken}");
    assert!(broken.to_string().contains("500"), "{broken}");
}

#[tokio::test]
async fn order_status_without_config_says_which_key_is_missing() {
    let (engine, _) = engine_with(loopback_config());
    let plugin = bind(&engine, "plugins/order-status", "may", &[], &["127.0.0.1"]);
    let error = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"order_id":"A123"}"#,
            &context("may"),
        )
        .await
        .outcome
        .expect_err("no config");
    assert!(error.to_string().contains("api_base_url"), "{error}");
}

#[tokio::test]
async fn order_status_rejects_arguments_without_an_order_id() {
    let (engine, _) = engine_with(loopback_config());
    let plugin = bind(&engine, "plugins/order-status", "may", &[], &[]);
    let error = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"id":"A123"}"#,
            &context("may"),
        )
        .await
        .outcome
        .expect_err("bad args");
    assert!(error.to_string().contains("order_id"), "{error}");
    let not_json = engine
        .call_tool(&plugin, "get_order_status", "order A123", &context("may"))
        .await
        .outcome
        .expect_err("not JSON");
    assert_eq!(not_json.code(), "invalid_arguments");
}

#[tokio::test]
async fn order_status_cannot_reach_a_host_the_tenant_did_not_grant() {
    let (base, seen) = order_api().await;
    let (engine, _) = engine_with(loopback_config());
    let plugin = configured_order_status(&engine, &base, "shop.example.com");
    let error = engine
        .call_tool(
            &plugin,
            "get_order_status",
            r#"{"order_id":"A123"}"#,
            &context("may"),
        )
        .await
        .outcome
        .expect_err("not granted");
    assert_eq!(error.code(), "http_denied", "{error}");
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the API");
}

fn text(text: &str) -> Message {
    Message {
        text: Some(text.into()),
        attachments: vec![],
        quick_replies: vec![],
        buttons: vec![],
        cards: vec![],
    }
}

/// Hours that are certainly closed now: one hour, two hours from now (UTC).
fn closed_now() -> String {
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
        + 2)
        % 24;
    format!("daily {hour:02}:00-{:02}:00", hour + 1)
}

#[tokio::test]
async fn business_hours_lets_messages_through_when_open() {
    let (engine, _) = engine_with(test_config());
    let plugin = bind(
        &engine,
        "plugins/business-hours",
        "may",
        &[("hours", "daily 00:00-24:00")],
        &[],
    );
    let verdict = engine
        .on_inbound(&plugin, &context("may"), &text("còn hàng không?"))
        .await
        .outcome
        .expect("verdict");
    assert_eq!(verdict, Verdict::Continue(text("còn hàng không?")));
}

#[tokio::test]
async fn business_hours_replies_in_the_conversation_language_when_closed() {
    let (engine, _) = engine_with(test_config());
    let hours = closed_now();
    let plugin = bind(
        &engine,
        "plugins/business-hours",
        "may",
        &[("hours", &hours), ("utc_offset", "+00:00")],
        &[],
    );
    let verdict = engine
        .on_inbound(&plugin, &context("may"), &text("shop ơi"))
        .await
        .outcome
        .expect("verdict");
    let Verdict::Reply(reply) = verdict else {
        panic!("expected a reply, got {verdict:?}");
    };
    assert!(reply.text.unwrap().contains("ngoài giờ làm việc"));

    let mut english = context("may");
    english.locale = Some("en-US".into());
    let verdict = engine
        .on_inbound(&plugin, &english, &text("hello"))
        .await
        .outcome
        .expect("verdict");
    let Verdict::Reply(reply) = verdict else {
        panic!("expected a reply, got {verdict:?}");
    };
    assert!(reply.text.unwrap().contains("outside business hours"));
}

#[tokio::test]
async fn business_hours_with_bad_hours_is_a_config_error_naming_the_part() {
    let (engine, _) = engine_with(test_config());
    let plugin = bind(
        &engine,
        "plugins/business-hours",
        "may",
        &[("hours", "mon-fri 8h-21h")],
        &[],
    );
    let error = engine
        .on_inbound(&plugin, &context("may"), &text("hi"))
        .await
        .outcome
        .expect_err("bad config");
    assert!(error.to_string().contains("8h-21h"), "{error}");
}

#[tokio::test]
async fn business_hours_leaves_outbound_replies_alone() {
    let (engine, _) = engine_with(test_config());
    let plugin = bind(
        &engine,
        "plugins/business-hours",
        "may",
        &[("hours", "daily 00:00-24:00")],
        &[],
    );
    let reply = engine
        .on_outbound(&plugin, &context("may"), &text("Dạ còn ạ"))
        .await
        .outcome
        .expect("message");
    assert_eq!(reply, text("Dạ còn ạ"));
}
