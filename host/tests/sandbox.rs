//! Hostile plugins, each a real component: every one fails only its own call, with the
//! right error kind and a message a person can act on, and the engine goes on.

mod common;

use common::{bind, context, engine, engine_with, test_config};
use loa::plugins::PluginCallError;

async fn echo_still_works(engine: &loa::plugins::PluginEngine) {
    let echo = bind(engine, "tests/plugins/echo", "may", &[], &[]);
    let report = engine
        .call_tool(&echo, "echo", r#"{"still":"alive"}"#, &context("may"))
        .await;
    assert_eq!(
        report.outcome.expect("echo after a hostile call"),
        r#"{"still":"alive"}"#
    );
}

#[tokio::test]
async fn infinite_loop_times_out_and_the_next_call_succeeds() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/infinite-loop", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "spin", "{}", &context("may"))
        .await;
    let error = report.outcome.expect_err("must time out");
    assert!(
        matches!(error, PluginCallError::Timeout { limit_ms: 500, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("500 ms deadline"), "{error}");
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn memory_bomb_fails_with_out_of_memory_naming_the_cap() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/memory-bomb", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "bomb", "{}", &context("may"))
        .await;
    let error = report.outcome.expect_err("must run out of memory");
    assert!(
        matches!(error, PluginCallError::OutOfMemory { limit_mib: 32, .. }),
        "{error:?}"
    );
    assert!(report.memory_peak_bytes <= 32 << 20);
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn panic_is_reported_with_the_panic_message() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/panic", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "panic", "{}", &context("may"))
        .await;
    let error = report.outcome.expect_err("must trap");
    assert!(matches!(error, PluginCallError::Trap { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("boom: this plugin always panics"),
        "{error}"
    );
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn deep_recursion_is_a_stack_overflow() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/deep-recursion", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "recurse", "{}", &context("may"))
        .await;
    let error = report.outcome.expect_err("must overflow");
    assert!(
        matches!(error, PluginCallError::StackOverflow { .. }),
        "{error:?}"
    );
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn undeclared_host_is_refused_and_named() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/forbidden-host", "may", &[], &["*"]);
    let report = engine
        .call_tool(&hostile, "steal", "{}", &context("may"))
        .await;
    match report.outcome.expect_err("must be refused") {
        PluginCallError::HttpDenied { host, reason, .. } => {
            assert_eq!(host, "evil.example.com");
            assert!(reason.contains("capabilities.http"), "{reason}");
        }
        other => panic!("expected http_denied, got {other:?}"),
    }
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn declared_host_the_tenant_did_not_grant_is_refused() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/private-address", "may", &[], &[]);
    let error = engine
        .call_tool(&hostile, "probe", "{}", &context("may"))
        .await
        .outcome
        .expect_err("must be refused");
    assert!(
        error.to_string().contains("not granted by the tenant"),
        "{error}"
    );
}

#[tokio::test]
async fn private_address_is_refused_after_dns_unless_allowed() {
    let engine = engine();
    let hostile = bind(
        &engine,
        "tests/plugins/private-address",
        "may",
        &[],
        &["localhost"],
    );
    let error = engine
        .call_tool(&hostile, "probe", "{}", &context("may"))
        .await
        .outcome
        .expect_err("must be refused");
    assert_eq!(error.code(), "http_denied");
    assert!(error.to_string().contains("private address"), "{error}");
    assert!(
        error.to_string().contains("allow_private_network"),
        "{error}"
    );

    // With the host's permission the request goes out (and finds nothing listening).
    let (allowing, _) = engine_with(loa::config::PluginHostConfig {
        allow_private_network: true,
        ..test_config()
    });
    let hostile = bind(
        &allowing,
        "tests/plugins/private-address",
        "may",
        &[],
        &["localhost"],
    );
    let error = allowing
        .call_tool(&hostile, "probe", "{}", &context("may"))
        .await
        .outcome
        .expect_err("port 9 is closed");
    assert_eq!(error.code(), "plugin_error", "{error}");
}

#[tokio::test]
async fn huge_response_is_refused_with_its_size() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/huge-response", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "huge", "{}", &context("may"))
        .await;
    match report.outcome.expect_err("must be too large") {
        PluginCallError::ResponseTooLarge { size, limit, .. } => {
            assert!(size >= 16 << 20, "{size}");
            assert_eq!(limit, 1 << 20);
        }
        other => panic!("expected response_too_large, got {other:?}"),
    }
    echo_still_works(&engine).await;
}

#[tokio::test]
async fn kv_flood_hits_the_per_call_write_cap() {
    let (engine, store) = engine_with(test_config());
    let hostile = bind(&engine, "tests/plugins/kv-flood", "may", &[], &[]);
    let report = engine
        .call_tool(&hostile, "flood", "{}", &context("may"))
        .await;
    match report.outcome.expect_err("must hit the quota") {
        PluginCallError::KvQuotaExceeded { detail, .. } => {
            assert!(detail.contains("100 key-value writes"), "{detail}")
        }
        other => panic!("expected kv_quota_exceeded, got {other:?}"),
    }
    let scope = loa::store::KvScope {
        tenant_id: "may".into(),
        plugin: "kv-flood".into(),
    };
    let keys = store.kv_list_prefix(&scope, "k", 1_000).await.unwrap();
    assert_eq!(keys.len(), 100, "exactly the admitted writes are stored");
}

#[tokio::test]
async fn kv_flood_hits_the_key_quota_across_calls() {
    let (engine, _) = engine_with(loa::config::PluginHostConfig {
        kv_max_keys: 30,
        ..test_config()
    });
    let hostile = bind(&engine, "tests/plugins/kv-flood", "may", &[], &[]);
    let error = engine
        .call_tool(&hostile, "flood", "{}", &context("may"))
        .await
        .outcome
        .expect_err("must hit the quota");
    assert!(error.to_string().contains("the limit is 30"), "{error}");
}

#[tokio::test]
async fn wrong_world_is_refused_at_load_naming_the_expected_export() {
    let engine = engine();
    let error = engine
        .load(&common::plugin_dir("tests/plugins/wrong-world"))
        .expect_err("a middleware component declared as a tool");
    let message = error.to_string();
    assert!(message.contains("loa:plugin/tools"), "{message}");
    assert!(message.contains("loa:plugin/hooks@0.3.0"), "{message}");
    assert!(message.contains("plugin.wasm"), "{message}");
}

#[tokio::test]
async fn wrong_wit_version_is_refused_naming_both_versions() {
    let engine = engine();
    let error = engine
        .load(&common::plugin_dir("tests/plugins/wrong-version"))
        .expect_err("built against loa:plugin@0.1.0");
    let message = error.to_string();
    assert!(message.contains("loa:plugin@0.3.0"), "{message}");
    assert!(message.contains("loa:plugin@0.1.0"), "{message}");
}

#[tokio::test]
async fn breaker_opens_after_five_failures_and_says_why() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/panic", "may", &[], &[]);
    for attempt in 1..=5 {
        let error = engine
            .call_tool(&hostile, "panic", "{}", &context("may"))
            .await
            .outcome
            .expect_err("panics");
        assert_eq!(error.code(), "trap", "attempt {attempt}");
    }
    let error = engine
        .call_tool(&hostile, "panic", "{}", &context("may"))
        .await
        .outcome
        .expect_err("switched off");
    match &error {
        PluginCallError::BreakerOpen {
            failures,
            reason,
            tenant,
            ..
        } => {
            assert_eq!(*failures, 5);
            assert_eq!(tenant, "may");
            assert!(reason.contains("boom"), "{reason}");
        }
        other => panic!("expected breaker_open, got {other:?}"),
    }
    assert!(error.to_string().contains("loa plugin enable"), "{error}");

    // Another tenant running the same plugin is not switched off.
    let other = bind(&engine, "tests/plugins/panic", "other-shop", &[], &[]);
    let error = engine
        .call_tool(&other, "panic", "{}", &context("other-shop"))
        .await
        .outcome
        .expect_err("panics");
    assert_eq!(error.code(), "trap");

    engine.breakers().reset("may", "panic").await;
    let error = engine
        .call_tool(&hostile, "panic", "{}", &context("may"))
        .await
        .outcome
        .expect_err("runs again after reset");
    assert_eq!(error.code(), "trap");
}

#[tokio::test]
async fn a_hostile_call_does_not_disturb_concurrent_good_calls() {
    let engine = engine();
    let hostile = bind(&engine, "tests/plugins/infinite-loop", "may", &[], &[]);
    let echo = bind(&engine, "tests/plugins/echo", "may", &[], &[]);
    let context = context("may");
    let spin = engine.call_tool(&hostile, "spin", "{}", &context);
    let good = async {
        let mut results = Vec::new();
        for index in 0..20 {
            let args = format!(r#"{{"n":{index}}}"#);
            results.push(
                engine
                    .call_tool(&echo, "echo", &args, &context)
                    .await
                    .outcome,
            );
        }
        results
    };
    let (spin, good) = tokio::join!(spin, good);
    assert_eq!(spin.outcome.unwrap_err().code(), "timeout");
    for (index, result) in good.into_iter().enumerate() {
        assert_eq!(result.unwrap(), format!(r#"{{"n":{index}}}"#));
    }
}

#[tokio::test]
async fn calling_an_export_of_another_world_is_a_clear_error() {
    let engine = engine();
    let echo = bind(&engine, "tests/plugins/echo", "may", &[], &[]);
    let message = loa::plugins::types::Message {
        text: Some("hi".into()),
        attachments: vec![],
        quick_replies: vec![],
        buttons: vec![],
        cards: vec![],
    };
    let error = engine
        .on_inbound(&echo, &context("may"), &message)
        .await
        .outcome
        .expect_err("a tool has no on-inbound");
    assert!(
        error
            .to_string()
            .contains("it is a tool plugin, not a middleware plugin"),
        "{error}"
    );
    assert!(!error.counts_against_plugin(), "the caller is at fault");
}
