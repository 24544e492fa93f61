//! Logins and their ends against the real `loa serve`: refresh rotation and the reuse
//! that kills a whole login, logout and password change ending tokens at once, brute
//! force throttled with `Retry-After`, forged and expired tokens, oversized and unknown
//! JSON refused with a clear error, a person in two tenants, and the audit log that
//! records it all (readable by owners and admins, not viewers).

use loa::auth::MasterKey;
use loa::auth::tokens::AccessTokens;
use loa_e2e::accounts::{
    MASTER_KEY, MASTER_KEY_BASE64, Session, admin_config, assert_error, call, claims_of,
    create_tenant, login, session_of,
};
use loa_e2e::http::Answer;
use loa_e2e::loa;
use loa_e2e::serve::Server;
use serde_json::{Value, json};

/// A running server with tenant `may` and its owner logged in.
struct Shop {
    _data: tempfile::TempDir,
    server: Server,
    owner_password: String,
    owner: Session,
}

impl Shop {
    /// `config` is the whole `loa.toml`.
    async fn start(config: &str) -> Shop {
        let data = tempfile::tempdir().expect("temp dir");
        std::fs::write(data.path().join("loa.toml"), config).expect("write loa.toml");
        let owner_password = create_tenant(loa(data.path()), "may", "owner@may.vn");
        let server = Server::start(data.path(), std::iter::empty::<&str>());
        let owner = login(server.base_url(), "owner@may.vn", &owner_password).await;
        Shop {
            _data: data,
            server,
            owner_password,
            owner,
        }
    }

    fn url(&self) -> &str {
        self.server.base_url()
    }

    async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        call(self.url(), token, method, path, body).await
    }

    /// Adds `email` to `may` with `role`; returns the member's first password.
    async fn add_member(&self, email: &str, role: &str) -> String {
        let body = json!({"email": email, "role": role});
        let added = self
            .call(
                Some(&self.owner.access),
                "POST",
                "/v1/tenants/may/members",
                Some(&body),
            )
            .await;
        assert_eq!(added.status, 201, "{}", added.text());
        added.json["initial_password"]
            .as_str()
            .expect("a new account's password")
            .to_owned()
    }
}

/// `GET /v1/me` with `token`: 200, or the refusal.
async fn me(shop: &Shop, token: &str) -> Answer {
    shop.call(Some(token), "GET", "/v1/me", None).await
}

async fn refresh(shop: &Shop, refresh_token: &str) -> Answer {
    let body = json!({"refresh_token": refresh_token});
    shop.call(None, "POST", "/v1/auth/refresh", Some(&body))
        .await
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_whole_login() {
    let shop = Shop::start(&admin_config("")).await;
    let first = shop.owner.clone();
    let rotated = refresh(&shop, &first.refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let second = session_of(&rotated);
    assert_ne!(
        second.refresh, first.refresh,
        "a refresh hands out a new refresh token"
    );
    assert_ne!(second.access, first.access);
    assert_eq!(me(&shop, &second.access).await.status, 200);

    // The old refresh token again, as a thief holding a copy would send it.
    let reused = refresh(&shop, &first.refresh).await;
    let message = assert_error(&reused, 401, "refresh_token_reused");
    assert!(message.contains("revoked"), "{message}");
    // The whole login is over: the newer refresh token and the access tokens too.
    let newer = refresh(&shop, &second.refresh).await;
    assert_eq!(newer.status, 401, "{}", newer.text());
    for access in [&first.access, &second.access] {
        assert_eq!(
            me(&shop, access).await.status,
            401,
            "an access token of the dead login"
        );
    }
    // Another login of the same person is not touched.
    let other = login(shop.url(), "owner@may.vn", &shop.owner_password).await;
    assert_eq!(me(&shop, &other.access).await.status, 200);
}

#[tokio::test]
async fn logging_out_ends_the_access_token_at_once() {
    let shop = Shop::start(&admin_config("")).await;
    let session = login(shop.url(), "owner@may.vn", &shop.owner_password).await;
    assert_eq!(me(&shop, &session.access).await.status, 200);
    let body = json!({"refresh_token": session.refresh});
    let out = shop
        .call(None, "POST", "/v1/auth/logout", Some(&body))
        .await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert_error(&me(&shop, &session.access).await, 401, "invalid_token");
    assert_eq!(refresh(&shop, &session.refresh).await.status, 401);
    // Logging out twice is no error.
    let again = shop
        .call(None, "POST", "/v1/auth/logout", Some(&body))
        .await;
    assert_eq!(again.status, 204, "{}", again.text());
    // The other login (set up by Shop::start) lives on.
    assert_eq!(me(&shop, &shop.owner.access).await.status, 200);
}

#[tokio::test]
async fn changing_the_password_ends_every_login() {
    let shop = Shop::start(&admin_config("")).await;
    let other = login(shop.url(), "owner@may.vn", &shop.owner_password).await;
    let weak = json!({"current_password": shop.owner_password, "new_password": "short"});
    let answer = shop
        .call(
            Some(&shop.owner.access),
            "POST",
            "/v1/auth/password",
            Some(&weak),
        )
        .await;
    assert_error(&answer, 422, "weak_password");
    let wrong =
        json!({"current_password": "not-the-password", "new_password": "a-new-long-password"});
    let answer = shop
        .call(
            Some(&shop.owner.access),
            "POST",
            "/v1/auth/password",
            Some(&wrong),
        )
        .await;
    assert_error(&answer, 401, "invalid_credentials");
    assert_eq!(
        me(&shop, &other.access).await.status,
        200,
        "a refused change ends nothing"
    );

    let change =
        json!({"current_password": shop.owner_password, "new_password": "a-new-long-password"});
    let answer = shop
        .call(
            Some(&shop.owner.access),
            "POST",
            "/v1/auth/password",
            Some(&change),
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text());
    for session in [&shop.owner, &other] {
        assert_eq!(me(&shop, &session.access).await.status, 401);
        assert_eq!(refresh(&shop, &session.refresh).await.status, 401);
    }
    let old = json!({"email": "owner@may.vn", "password": shop.owner_password});
    let answer = shop.call(None, "POST", "/v1/auth/login", Some(&old)).await;
    assert_error(&answer, 401, "invalid_credentials");
    login(shop.url(), "owner@may.vn", "a-new-long-password").await;
}

#[tokio::test]
async fn the_sixth_wrong_login_of_an_account_is_throttled_with_retry_after() {
    // The default limits: 5 logins a minute per account.
    let shop = Shop::start(&format!("[auth]\nmaster_key = \"{MASTER_KEY_BASE64}\"\n")).await;
    let operator_password = shop.add_member("an@may.vn", "operator").await;
    // The operator has not logged in yet: all five attempts in the minute are guesses.
    let wrong = json!({"email": "an@may.vn", "password": "guess-number-n"});
    for attempt in 1..=5 {
        let answer = shop
            .call(None, "POST", "/v1/auth/login", Some(&wrong))
            .await;
        assert_eq!(answer.status, 401, "attempt {attempt}: {}", answer.text());
    }
    let answer = shop
        .call(None, "POST", "/v1/auth/login", Some(&wrong))
        .await;
    assert_error(&answer, 429, "rate_limited");
    let wait: u64 = answer
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in whole seconds: {:?}", answer.headers));
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    // The right password does not get through a throttled account either…
    let right = json!({"email": "an@may.vn", "password": operator_password});
    let answer = shop
        .call(None, "POST", "/v1/auth/login", Some(&right))
        .await;
    assert_eq!(answer.status, 429, "{}", answer.text());
    // …while another account logs in from the same address.
    login(shop.url(), "owner@may.vn", &shop.owner_password).await;
    // The earlier token is unaffected: the limit guards logging in, not using a login.
    assert_eq!(me(&shop, &shop.owner.access).await.status, 200);
}

#[tokio::test]
async fn forged_expired_and_foreign_credentials_are_refused_without_data() {
    let shop = Shop::start(&admin_config("")).await;
    let claims = claims_of(&shop.owner.access);
    let (sub, sid) = (
        claims["sub"].as_str().expect("sub"),
        claims["sid"].as_str().expect("sid"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let server_key = AccessTokens::new(&MasterKey::from_bytes(MASTER_KEY));
    let (expired, _) = server_key
        .issue(sub, sid, now - 3_600_000, 15 * 60_000)
        .expect("sign");
    let message = assert_error(&me(&shop, &expired).await, 401, "invalid_token");
    assert!(message.contains("expired"), "{message}");
    // The same claims, fresh, signed with the server's key: accepted (so the refusals
    // above and below are for expiry and forgery, not for the claims).
    let (fresh, _) = server_key.issue(sub, sid, now, 15 * 60_000).expect("sign");
    assert_eq!(me(&shop, &fresh).await.status, 200);

    let other_key = AccessTokens::new(&MasterKey::from_bytes([9; 32]));
    let (forged, _) = other_key.issue(sub, sid, now, 15 * 60_000).expect("sign");
    let message = assert_error(&me(&shop, &forged).await, 401, "invalid_token");
    assert!(message.contains("signature"), "{message}");

    use base64::Engine as _;
    let encode =
        |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let unsigned = format!(
        "{}.{}.",
        encode(json!({"alg": "none", "typ": "JWT"})),
        encode(claims.clone())
    );
    let message = assert_error(&me(&shop, &unsigned).await, 401, "invalid_token");
    assert!(message.contains("none"), "{message}");
    for garbage in ["loa_ak_not-a-key", "a.b.c", "Bearer", &"x".repeat(5000)] {
        let answer = me(&shop, garbage).await;
        assert_eq!(answer.status, 401, "{garbage:.20}: {}", answer.text());
    }
    let raw = loa_e2e::http::send(
        "GET",
        &format!("{}/v1/me", shop.url()),
        &[("authorization", &format!("Basic {}", shop.owner.access))],
        Vec::new(),
    )
    .await;
    assert_error(&raw, 401, "unauthenticated");
}

#[tokio::test]
async fn oversized_bodies_get_413_and_unknown_fields_400_naming_the_field() {
    let shop = Shop::start(&admin_config("\n[http]\nmax_body_kib = 4\n")).await;
    let token = Some(shop.owner.access.as_str());
    let big = json!({"id": "big", "name": "x".repeat(8 * 1024)});
    let answer = shop
        .call(token, "POST", "/v1/tenants/may/bots", Some(&big))
        .await;
    assert_error(&answer, 413, "body_too_large");
    let big_login = json!({"email": "owner@may.vn", "password": "x".repeat(8 * 1024)});
    let answer = shop
        .call(None, "POST", "/v1/auth/login", Some(&big_login))
        .await;
    assert_error(&answer, 413, "body_too_large");

    let unknown = json!({"id": "shop-2", "name": "Mây 2", "colour": "red"});
    let answer = shop
        .call(token, "POST", "/v1/tenants/may/bots", Some(&unknown))
        .await;
    let message = assert_error(&answer, 400, "invalid_json");
    assert!(message.contains("colour"), "{message}");
    let answer = shop
        .call(
            None,
            "POST",
            "/v1/auth/login",
            Some(&json!({"email": "owner@may.vn", "password": "x", "remember_me": true})),
        )
        .await;
    let message = assert_error(&answer, 400, "invalid_json");
    assert!(message.contains("remember_me"), "{message}");
    let answer = shop
        .call(
            token,
            "POST",
            "/v1/tenants/may/members",
            Some(&json!({"email": "b@may.vn", "role": "viewer", "rol": "owner"})),
        )
        .await;
    let message = assert_error(&answer, 400, "invalid_json");
    assert!(message.contains("rol"), "{message}");
    // Nothing was made by the refused requests.
    let bots = shop.call(token, "GET", "/v1/tenants/may/bots", None).await;
    assert_eq!(bots.json["bots"], json!([]), "{}", bots.text());
    let members = shop
        .call(token, "GET", "/v1/tenants/may/members", None)
        .await;
    assert_eq!(members.json["members"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_person_in_two_tenants_acts_with_the_role_of_each() {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), admin_config("")).expect("write loa.toml");
    let may_password = create_tenant(loa(data.path()), "may", "owner@may.vn");
    let linh_password = create_tenant(loa(data.path()), "linh", "owner@linh.vn");
    let server = Server::start(data.path(), std::iter::empty::<&str>());
    let url = server.base_url();
    let may = login(url, "owner@may.vn", &may_password).await;
    // Linh's owner joins Mây as a viewer: an existing account, so no new password.
    let body = json!({"email": "owner@linh.vn", "role": "viewer"});
    let added = call(
        url,
        Some(&may.access),
        "POST",
        "/v1/tenants/may/members",
        Some(&body),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text());
    assert!(
        added.json.get("initial_password").is_none(),
        "{}",
        added.json
    );

    let linh = login(url, "owner@linh.vn", &linh_password).await;
    let tenants = call(url, Some(&linh.access), "GET", "/v1/tenants", None).await;
    let mut roles: Vec<(String, String)> = tenants.json["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default().to_owned(),
                t["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("linh".to_owned(), "owner".to_owned()),
            ("may".to_owned(), "viewer".to_owned())
        ],
        "{}",
        tenants.json
    );
    let rename = json!({"name": "Renamed"});
    let answer = call(
        url,
        Some(&linh.access),
        "PATCH",
        "/v1/tenants/linh",
        Some(&rename),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = call(
        url,
        Some(&linh.access),
        "PATCH",
        "/v1/tenants/may",
        Some(&rename),
    )
    .await;
    assert_error(&answer, 403, "forbidden");
    let answer = call(url, Some(&linh.access), "GET", "/v1/tenants/may/bots", None).await;
    assert_eq!(answer.status, 200, "a viewer reads: {}", answer.text());
    let answer = call(url, Some(&may.access), "GET", "/v1/tenants/linh/bots", None).await;
    assert_error(&answer, 403, "forbidden");
}

#[tokio::test]
async fn the_audit_log_records_logins_members_and_keys_and_only_owners_and_admins_read_it() {
    let shop = Shop::start(&admin_config("")).await;
    let owner = Some(shop.owner.access.as_str());
    let wrong = json!({"email": "owner@may.vn", "password": "not-the-password"});
    let failed = shop
        .call(None, "POST", "/v1/auth/login", Some(&wrong))
        .await;
    assert_eq!(failed.status, 401);
    let viewer_password = shop.add_member("xem@may.vn", "viewer").await;
    let admin_password = shop.add_member("quan@may.vn", "admin").await;
    let viewer = login(shop.url(), "xem@may.vn", &viewer_password).await;
    let admin = login(shop.url(), "quan@may.vn", &admin_password).await;
    let role = json!({"role": "operator"});
    let changed = shop
        .call(
            owner,
            "PATCH",
            &format!("/v1/tenants/may/members/{}", viewer.user_id),
            Some(&role),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let changed_back = shop
        .call(
            owner,
            "PATCH",
            &format!("/v1/tenants/may/members/{}", viewer.user_id),
            Some(&json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(changed_back.status, 200, "{}", changed_back.text());
    let key_body = json!({"name": "shop backend", "scopes": ["messages:send", "audit:read"]});
    let key = shop
        .call(owner, "POST", "/v1/tenants/may/api-keys", Some(&key_body))
        .await;
    assert_eq!(key.status, 201, "{}", key.text());
    let secret = key.json["key"]
        .as_str()
        .expect("the key, shown once")
        .to_owned();
    assert!(secret.starts_with("loa_ak_"), "{secret}");
    let key_id = key.json["api_key"]["id"].as_str().expect("id").to_owned();
    let listed = shop
        .call(owner, "GET", "/v1/tenants/may/api-keys", None)
        .await;
    assert!(
        !listed.text().contains(&secret),
        "the key is shown once only: {}",
        listed.text()
    );
    let narrow = json!({"name": "reader", "scopes": ["tenant:read"]});
    let narrow = shop
        .call(owner, "POST", "/v1/tenants/may/api-keys", Some(&narrow))
        .await;
    let narrow_secret = narrow.json["key"].as_str().expect("key").to_owned();
    let removed_password = shop.add_member("di@may.vn", "operator").await;
    let removed = login(shop.url(), "di@may.vn", &removed_password).await;
    let answer = shop
        .call(
            owner,
            "DELETE",
            &format!("/v1/tenants/may/members/{}", removed.user_id),
            None,
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text());

    // Who may read the log.
    let path = "/v1/tenants/may/audit";
    assert_error(
        &shop.call(Some(&viewer.access), "GET", path, None).await,
        403,
        "forbidden",
    );
    assert_error(
        &shop.call(Some(&narrow_secret), "GET", path, None).await,
        403,
        "forbidden",
    );
    assert_eq!(
        shop.call(Some(&admin.access), "GET", path, None)
            .await
            .status,
        200
    );
    assert_eq!(
        shop.call(Some(&secret), "GET", path, None).await.status,
        200
    );
    let revoked = shop
        .call(
            owner,
            "DELETE",
            &format!("/v1/tenants/may/api-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    assert_eq!(
        shop.call(Some(&secret), "GET", path, None).await.status,
        401,
        "a revoked key"
    );

    let log = shop
        .call(owner, "GET", &format!("{path}?limit=200"), None)
        .await;
    assert_eq!(log.status, 200, "{}", log.text());
    let entries = log.json["entries"].as_array().expect("entries").clone();
    let find = |action: &str, target: Option<&str>| {
        entries.iter().find(|entry| {
            entry["action"] == action
                && target.is_none_or(|target| entry["target"].as_str() == Some(target))
        })
    };
    let owner_actor = format!("user:{}", shop.owner.user_id);
    for (action, target, actor) in [
        (
            "login.ok",
            Some(owner_actor.clone()),
            Some(owner_actor.as_str()),
        ),
        ("login.failed", None, None),
        (
            "member.added",
            Some(format!("user:{}", viewer.user_id)),
            Some(owner_actor.as_str()),
        ),
        (
            "member.role_changed",
            Some(format!("user:{}", viewer.user_id)),
            Some(owner_actor.as_str()),
        ),
        (
            "member.removed",
            Some(format!("user:{}", removed.user_id)),
            Some(owner_actor.as_str()),
        ),
        (
            "api_key.created",
            Some(format!("api_key:{key_id}")),
            Some(owner_actor.as_str()),
        ),
        (
            "api_key.revoked",
            Some(format!("api_key:{key_id}")),
            Some(owner_actor.as_str()),
        ),
    ] {
        let entry = find(action, target.as_deref())
            .unwrap_or_else(|| panic!("no {action} {target:?} in the log: {entries:#?}"));
        if let Some(actor) = actor {
            assert_eq!(entry["actor"], actor, "{entry}");
        }
        assert_eq!(entry["tenant_id"], "may", "{entry}");
        assert!(entry["at_ms"].as_i64().is_some_and(|at| at > 0), "{entry}");
        assert_eq!(entry["ip"], "127.0.0.1", "{entry}");
    }
    let failed = find("login.failed", None).expect("the failed login");
    assert_eq!(failed["detail"]["email"], "owner@may.vn", "{failed}");
    assert!(
        !log.text().contains("not-the-password"),
        "no password in the log"
    );
    assert!(!log.text().contains(&secret), "no key in the log");
    // Newest first.
    let ids: Vec<i64> = entries
        .iter()
        .filter_map(|entry| entry["id"].as_i64())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");
}
