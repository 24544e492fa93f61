//! Users, tenant memberships and refresh-token sessions.

use std::sync::Arc;

use loa::auth::Role;
use loa::store::{Membership, RefreshSession, Store, StoreError, User};

use crate::seed::{T0, shop};

crate::contract!(
    a_user_is_found_by_id_and_by_email_in_any_case,
    a_taken_email_is_a_conflict_whatever_its_case,
    setting_a_password_revokes_every_session_of_that_user_only,
    a_user_belongs_to_several_tenants_with_a_role_in_each,
    a_membership_needs_a_known_user_and_tenant,
    a_refresh_token_rotates_once,
    concurrent_rotations_of_one_token_have_one_winner,
    revoking_a_family_ends_it_and_no_other,
    every_tenant_is_listed_by_id,
);

pub fn user(id: &str, email: &str) -> User {
    User {
        id: id.to_owned(),
        email: email.to_owned(),
        display_name: format!("User {id}"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        password_changed_at_ms: T0,
        disabled: false,
        created_at_ms: T0,
    }
}

fn session(id: &str, family: &str, user: &str) -> RefreshSession {
    RefreshSession {
        id: id.to_owned(),
        family_id: family.to_owned(),
        user_id: user.to_owned(),
        token_hash: format!("hash-of-{id}"),
        created_at_ms: T0,
        expires_at_ms: T0 + 30 * 86_400_000,
        rotated_at_ms: None,
        revoked_at_ms: None,
    }
}

pub fn member(tenant: &str, user: &str, role: Role) -> Membership {
    Membership {
        tenant_id: tenant.to_owned(),
        user_id: user.to_owned(),
        role,
        created_at_ms: T0,
    }
}

async fn a_user_is_found_by_id_and_by_email_in_any_case(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "Lan@May.VN"))
        .await
        .expect("create");
    let stored = store.user("us_lan").await.expect("user").expect("exists");
    assert_eq!(stored.email, "lan@may.vn", "stored lower-case");
    assert_eq!(stored.display_name, "User us_lan");
    assert!(!stored.disabled);
    assert_eq!(
        store.user_by_email("LAN@may.vn").await.expect("by email"),
        Some(stored.clone())
    );
    assert_eq!(
        store.user_by_email("lan@may.vn").await.expect("by email"),
        Some(stored)
    );
    assert_eq!(store.user("us_nobody").await.expect("user"), None);
    assert_eq!(
        store
            .user_by_email("nobody@may.vn")
            .await
            .expect("by email"),
        None
    );
}

async fn a_taken_email_is_a_conflict_whatever_its_case(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    let error = store
        .create_user(&user("us_other", "LAN@MAY.vn"))
        .await
        .expect_err("email taken");
    assert!(
        matches!(&error, StoreError::Conflict(message) if message.contains("lan@may.vn")),
        "{error:?}"
    );
    assert_eq!(store.user("us_other").await.expect("user"), None);

    let error = store
        .create_user(&user("us_lan", "someone-else@may.vn"))
        .await
        .expect_err("id taken");
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
}

async fn setting_a_password_revokes_every_session_of_that_user_only(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    store
        .create_user(&user("us_hoa", "hoa@may.vn"))
        .await
        .expect("create");
    for (id, family, owner) in [
        ("rt_1", "rf_laptop", "us_lan"),
        ("rt_2", "rf_phone", "us_lan"),
        ("rt_3", "rf_hoa", "us_hoa"),
    ] {
        store
            .insert_refresh_session(&session(id, family, owner))
            .await
            .expect("insert");
    }

    assert!(
        store
            .set_password("us_lan", "$argon2id$new", T0 + 1_000)
            .await
            .expect("set")
    );
    let lan = store.user("us_lan").await.expect("user").expect("exists");
    assert_eq!(lan.password_hash, "$argon2id$new");
    assert_eq!(lan.password_changed_at_ms, T0 + 1_000);
    for family in ["rf_laptop", "rf_phone"] {
        assert!(!store.refresh_family_live(family).await.expect("live"));
    }
    let revoked = store
        .refresh_session_by_hash("hash-of-rt_1")
        .await
        .expect("by hash")
        .expect("kept");
    assert_eq!(revoked.revoked_at_ms, Some(T0 + 1_000));
    assert!(
        store.refresh_family_live("rf_hoa").await.expect("live"),
        "another user's sessions are untouched"
    );
    assert!(
        !store
            .set_password("us_nobody", "$argon2id$x", T0)
            .await
            .expect("set")
    );
}

async fn a_user_belongs_to_several_tenants_with_a_role_in_each(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    store
        .create_user(&user("us_an", "an@may.vn"))
        .await
        .expect("create");
    store
        .put_membership(&member("may", "us_lan", Role::Owner))
        .await
        .expect("join may");
    store
        .put_membership(&member("lua", "us_lan", Role::Viewer))
        .await
        .expect("join lua");
    store
        .put_membership(&member("may", "us_an", Role::Operator))
        .await
        .expect("join may");

    let tenants: Vec<_> = store
        .memberships_of_user("us_lan")
        .await
        .expect("memberships")
        .into_iter()
        .map(|membership| (membership.tenant_id, membership.role))
        .collect();
    assert_eq!(
        tenants,
        [
            ("lua".to_owned(), Role::Viewer),
            ("may".to_owned(), Role::Owner)
        ]
    );

    let mut promoted = member("lua", "us_lan", Role::Admin);
    promoted.created_at_ms = T0 + 9_000;
    store.put_membership(&promoted).await.expect("promote");
    let stored = store
        .membership("lua", "us_lan")
        .await
        .expect("membership")
        .expect("exists");
    assert_eq!(stored.role, Role::Admin);
    assert_eq!(
        stored.created_at_ms, T0,
        "a role change keeps the join time"
    );

    let members: Vec<_> = store
        .members("may")
        .await
        .expect("members")
        .into_iter()
        .map(|(membership, user)| (user.email, membership.role))
        .collect();
    assert_eq!(
        members,
        [
            ("an@may.vn".to_owned(), Role::Operator),
            ("lan@may.vn".to_owned(), Role::Owner)
        ],
        "by email"
    );
    assert_eq!(store.members("lua").await.expect("members").len(), 1);

    assert!(
        store
            .delete_membership("lua", "us_lan")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_membership("lua", "us_lan")
            .await
            .expect("delete again")
    );
    assert_eq!(
        store.membership("lua", "us_lan").await.expect("membership"),
        None
    );
    assert_eq!(
        store
            .membership("may", "us_lan")
            .await
            .expect("membership")
            .map(|membership| membership.role),
        Some(Role::Owner),
        "the other tenant's membership stays"
    );
}

async fn a_membership_needs_a_known_user_and_tenant(store: Arc<dyn Store>) {
    shop(&*store, "may").await;
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    for membership in [
        member("may", "us_nobody", Role::Admin),
        member("nowhere", "us_lan", Role::Admin),
    ] {
        let error = store
            .put_membership(&membership)
            .await
            .expect_err("unknown user or tenant");
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    }
    assert!(
        store
            .memberships_of_user("us_lan")
            .await
            .expect("memberships")
            .is_empty()
    );
}

async fn a_refresh_token_rotates_once(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    store
        .insert_refresh_session(&session("rt_1", "rf_1", "us_lan"))
        .await
        .expect("insert");
    let first = store
        .refresh_session_by_hash("hash-of-rt_1")
        .await
        .expect("by hash");
    assert_eq!(first, Some(session("rt_1", "rf_1", "us_lan")));

    assert!(
        store
            .rotate_refresh_session("rt_1", &session("rt_2", "rf_1", "us_lan"), T0 + 5)
            .await
            .expect("rotate")
    );
    let rotated = store
        .refresh_session_by_hash("hash-of-rt_1")
        .await
        .expect("by hash")
        .expect("kept");
    assert_eq!(rotated.rotated_at_ms, Some(T0 + 5));
    assert_eq!(rotated.revoked_at_ms, None);
    assert!(
        store
            .refresh_session_by_hash("hash-of-rt_2")
            .await
            .expect("by hash")
            .is_some()
    );

    assert!(
        !store
            .rotate_refresh_session("rt_1", &session("rt_3", "rf_1", "us_lan"), T0 + 6)
            .await
            .expect("rotate again"),
        "a rotated token does not rotate twice"
    );
    assert_eq!(
        store
            .refresh_session_by_hash("hash-of-rt_3")
            .await
            .expect("by hash"),
        None,
        "a refused rotation stores nothing"
    );
    assert!(
        !store
            .rotate_refresh_session("rt_nobody", &session("rt_4", "rf_1", "us_lan"), T0)
            .await
            .expect("rotate unknown")
    );
    assert_eq!(
        store
            .refresh_session_by_hash("hash-of-nothing")
            .await
            .expect("by hash"),
        None
    );
}

async fn concurrent_rotations_of_one_token_have_one_winner(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    store
        .insert_refresh_session(&session("rt_0", "rf_1", "us_lan"))
        .await
        .expect("insert");
    let attempts: Vec<_> = (0..8)
        .map(|attempt| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let next = session(&format!("rt_next_{attempt}"), "rf_1", "us_lan");
                let won = store
                    .rotate_refresh_session("rt_0", &next, T0 + 1)
                    .await
                    .expect("rotate");
                (attempt, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        let (attempt, won) = attempt.await.expect("task");
        if won {
            winners.push(attempt);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins: {winners:?}");
    for attempt in 0..8 {
        let stored = store
            .refresh_session_by_hash(&format!("hash-of-rt_next_{attempt}"))
            .await
            .expect("by hash");
        assert_eq!(
            stored.is_some(),
            winners.contains(&attempt),
            "rt_next_{attempt}"
        );
    }
}

async fn revoking_a_family_ends_it_and_no_other(store: Arc<dyn Store>) {
    store
        .create_user(&user("us_lan", "lan@may.vn"))
        .await
        .expect("create");
    store
        .insert_refresh_session(&session("rt_1", "rf_1", "us_lan"))
        .await
        .expect("insert");
    store
        .rotate_refresh_session("rt_1", &session("rt_2", "rf_1", "us_lan"), T0 + 1)
        .await
        .expect("rotate");
    store
        .insert_refresh_session(&session("rt_3", "rf_2", "us_lan"))
        .await
        .expect("insert");
    assert!(store.refresh_family_live("rf_1").await.expect("live"));
    assert!(!store.refresh_family_live("rf_nobody").await.expect("live"));

    assert_eq!(
        store
            .revoke_refresh_family("rf_1", T0 + 2)
            .await
            .expect("revoke"),
        2
    );
    assert!(!store.refresh_family_live("rf_1").await.expect("live"));
    assert!(store.refresh_family_live("rf_2").await.expect("live"));
    assert_eq!(
        store
            .revoke_refresh_family("rf_1", T0 + 3)
            .await
            .expect("revoke again"),
        0
    );
    let revoked = store
        .refresh_session_by_hash("hash-of-rt_2")
        .await
        .expect("by hash")
        .expect("kept");
    assert_eq!(
        revoked.revoked_at_ms,
        Some(T0 + 2),
        "the first revocation's time"
    );
    assert!(
        !store
            .rotate_refresh_session("rt_2", &session("rt_9", "rf_1", "us_lan"), T0 + 4)
            .await
            .expect("rotate"),
        "a revoked token does not rotate"
    );
}

async fn every_tenant_is_listed_by_id(store: Arc<dyn Store>) {
    assert!(store.tenants().await.expect("tenants").is_empty());
    shop(&*store, "may").await;
    shop(&*store, "lua").await;
    let ids: Vec<_> = store
        .tenants()
        .await
        .expect("tenants")
        .into_iter()
        .map(|tenant| tenant.id)
        .collect();
    assert_eq!(ids, ["lua", "may"]);
}
