//! The audit log: appended, paged newest first per tenant, never changed.

use std::sync::Arc;

use loa::store::{AuditEntry, NewAuditEntry, Store};
use serde_json::json;

use crate::Fixture;
use crate::seed::{T0, shop};

crate::contract!(
    a_tenant_pages_through_its_log_newest_first,
    another_tenants_lines_and_lines_of_no_tenant_are_not_listed,
);

pub fn entry(tenant: Option<&str>, action: &str, at_ms: i64) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: tenant.map(str::to_owned),
        actor: "user:us_lan".to_owned(),
        action: action.to_owned(),
        target: Some("user:us_an".to_owned()),
        ip: Some("203.0.113.7".to_owned()),
        detail: json!({"role": {"old": "viewer", "new": "operator"}, "note": "Mây ✓"}),
        at_ms,
    }
}

fn actions(entries: &[AuditEntry]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry.entry.action.as_str())
        .collect()
}

async fn a_tenant_pages_through_its_log_newest_first(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    let mut ids = Vec::new();
    for step in 0..5 {
        let id = store
            .append_audit(&entry(Some("may"), &format!("step.{step}"), T0 + step))
            .await
            .expect("append");
        ids.push(id);
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");

    let first = store.audit_log("may", None, 2).await.expect("page 1");
    assert_eq!(actions(&first), ["step.4", "step.3"]);
    assert_eq!(first[0].id, ids[4]);
    assert_eq!(first[0].entry, entry(Some("may"), "step.4", T0 + 4));

    let second = store
        .audit_log("may", Some(first[1].id), 2)
        .await
        .expect("page 2");
    assert_eq!(actions(&second), ["step.2", "step.1"]);
    let last = store
        .audit_log("may", Some(second[1].id), 2)
        .await
        .expect("page 3");
    assert_eq!(actions(&last), ["step.0"]);
    assert!(
        store
            .audit_log("may", Some(ids[0]), 2)
            .await
            .expect("past the end")
            .is_empty()
    );
    assert!(
        store
            .audit_log("may", None, 0)
            .await
            .expect("none")
            .is_empty()
    );
}

async fn another_tenants_lines_and_lines_of_no_tenant_are_not_listed(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .append_audit(&entry(Some("may"), "api_key.created", T0))
        .await
        .expect("append");
    let lua_line = store
        .append_audit(&entry(Some("lua"), "member.role_changed", T0))
        .await
        .expect("append");
    let mut anonymous = entry(None, "login.failed", T0);
    anonymous.actor = "anonymous".to_owned();
    anonymous.target = None;
    store.append_audit(&anonymous).await.expect("append");

    let may = store.audit_log("may", None, 50).await.expect("log");
    assert_eq!(actions(&may), ["api_key.created"]);
    let may_before_lua = store
        .audit_log("may", Some(lua_line + 10), 50)
        .await
        .expect("log");
    assert_eq!(actions(&may_before_lua), ["api_key.created"]);
    let lua = store.audit_log("lua", None, 50).await.expect("log");
    assert_eq!(actions(&lua), ["member.role_changed"]);
    assert!(
        store
            .audit_log("nowhere", None, 50)
            .await
            .expect("log")
            .is_empty()
    );
}

/// Whoever opens the database, an UPDATE or DELETE of the log is refused.
async fn the_log_refuses_updates_and_deletes(fixture: &Fixture) {
    shop(&*fixture.store, "may").await;
    let line = entry(Some("may"), "login.ok", T0);
    fixture.store.append_audit(&line).await.expect("append");
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let error = fixture.execute_raw(sql).await.expect_err(sql);
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    let kept = fixture.store.audit_log("may", None, 10).await.expect("log");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].entry, line);
}

mod append_only {
    #[tokio::test]
    async fn sqlite() {
        let fixture = crate::Fixture::sqlite().await;
        super::the_log_refuses_updates_and_deletes(&fixture).await;
        fixture.finish().await;
    }

    #[tokio::test]
    async fn postgres() {
        let fixture = crate::Fixture::postgres().await;
        super::the_log_refuses_updates_and_deletes(&fixture).await;
        let error = fixture
            .execute_raw("TRUNCATE audit_log")
            .await
            .expect_err("truncate");
        assert!(error.contains("append-only"), "{error}");
        fixture.finish().await;
    }
}
