//! People and tokens for tests of the admin API: a `loa.toml` with a known master key and
//! rate limits out of the way, tenants with an owner made by `loa tenant create`, logins
//! over HTTP, and JSON calls with a bearer token.

use std::process::Command;

use serde_json::Value;

use crate::http::{Answer, send};
use crate::{finish, loa, workspace_root};

/// The master key of [`admin_config`] (32 bytes): tests that mint tokens of their own (an
/// expired one) sign them with the key the server derives its JWT key from.
pub const MASTER_KEY: [u8; 32] = *b"loa-e2e-master-key-32-bytes-long";

/// [`MASTER_KEY`] in base64, as `auth.master_key` takes it.
pub const MASTER_KEY_BASE64: &str = "bG9hLWUyZS1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmc=";

/// A `loa.toml` for admin API tests: the known master key, and every rate limit raised
/// far above what a test sends (a matrix of hundreds of calls and logins must not be
/// throttled; the tests of the limits themselves use the defaults). `extra` is appended.
pub fn admin_config(extra: &str) -> String {
    format!(
        "[auth]\n\
         master_key = \"{MASTER_KEY_BASE64}\"\n\
         \n\
         [http.rate_limits]\n\
         login_per_ip_per_minute = 1000000\n\
         login_per_account_per_minute = 1000000\n\
         token_per_ip_per_minute = 1000000\n\
         admin_per_caller_per_minute = 1000000\n\
         admin_burst = 1000000\n\
         {extra}"
    )
}

/// The owner of [`demo_shop_with_owner`]'s shop.
pub const DEMO_OWNER: &str = "owner@may.vn";

/// A data dir with the demo shop applied (tenant and bot `may`, 50 FAQ entries), a
/// `loa.toml` of [`admin_config`] with `extra`, and an owner [`DEMO_OWNER`]; returns the
/// dir and the owner's password.
pub fn demo_shop_with_owner(extra: &str) -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("loa.toml"), admin_config(extra)).expect("write loa.toml");
    finish(
        loa(data.path())
            .args(["tenant", "apply"])
            .arg(workspace_root().join("samples/demo-shop/shop.toml")),
    )
    .success();
    let password = create_user(loa(data.path()), DEMO_OWNER, "may", "owner");
    (data, password)
}

/// Runs `<command> tenant create TENANT --owner EMAIL` (`command` is `loa(data_dir)` with
/// any global flags, such as `--database-url`) and returns the owner's first password,
/// which the command prints once.
pub fn create_tenant(mut command: Command, tenant: &str, owner: &str) -> String {
    let output = finish(command.args(["tenant", "create", tenant, "--owner", owner])).success();
    printed_password(&output)
        .unwrap_or_else(|| panic!("`loa tenant create` printed no password:\n{output}"))
}

/// Runs `<command> user create EMAIL --tenant TENANT --role ROLE` and returns the
/// printed first password.
pub fn create_user(mut command: Command, email: &str, tenant: &str, role: &str) -> String {
    let output =
        finish(command.args(["user", "create", email, "--tenant", tenant, "--role", role]))
            .success();
    printed_password(&output)
        .unwrap_or_else(|| panic!("`loa user create` printed no password:\n{output}"))
}

/// The password in a command's output: the last word of the first line that names a
/// password (`password: …`, `initial password for x: …`).
pub fn printed_password(output: &str) -> Option<String> {
    output
        .lines()
        .find(|line| line.to_lowercase().contains("password"))
        .and_then(|line| line.rsplit([' ', ':', '\t']).find(|word| !word.is_empty()))
        .map(|word| word.trim_matches(['`', '"', '\'']).to_owned())
        .filter(|word| !word.is_empty())
}

/// The tokens of one login.
#[derive(Debug, Clone)]
pub struct Session {
    /// The access token (JWT).
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// The user's id (`us_…`).
    pub user_id: String,
}

/// `POST /v1/auth/login`; panics unless it answers 200 with tokens.
pub async fn login(base_url: &str, email: &str, password: &str) -> Session {
    let body = serde_json::json!({"email": email, "password": password});
    let answer = call(base_url, None, "POST", "/v1/auth/login", Some(&body)).await;
    assert_eq!(answer.status, 200, "login of {email}: {}", answer.text());
    session_of(&answer)
}

/// Adds `email` to `tenant` with `role` over the admin API as `owner`, and logs them in
/// with the initial password the answer carries.
pub async fn add_member(
    base_url: &str,
    owner: &Session,
    tenant: &str,
    email: &str,
    role: &str,
) -> Session {
    let body = serde_json::json!({"email": email, "role": role});
    let path = format!("/v1/tenants/{tenant}/members");
    let added = call(base_url, Some(&owner.access), "POST", &path, Some(&body)).await;
    assert_eq!(added.status, 201, "adding {email}: {}", added.text());
    let password = added.json["initial_password"]
        .as_str()
        .expect("an initial password");
    login(base_url, email, password).await
}

/// The tokens in a login's or refresh's answer.
pub fn session_of(answer: &Answer) -> Session {
    let text = |field: &str| {
        answer.json[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", answer.json))
            .to_owned()
    };
    Session {
        access: text("access_token"),
        refresh: text("refresh_token"),
        user_id: text("user_id"),
    }
}

/// `method base_url+path` with `Authorization: Bearer <token>` when there is one and a
/// JSON body when there is one.
pub async fn call(
    base_url: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    call_with_headers(base_url, token, method, path, body, &[]).await
}

/// [`call`] with `extra` headers (an `Idempotency-Key` …).
pub async fn call_with_headers(
    base_url: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Answer {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut headers = extra.to_vec();
    if let Some(authorization) = &authorization {
        headers.push(("authorization", authorization.as_str()));
    }
    let bytes = match body {
        Some(body) => {
            headers.push(("content-type", "application/json"));
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    send(method, &format!("{base_url}{path}"), &headers, bytes).await
}

/// Asserts `status` and the error shape `{"error": {"code": code, "message": "…"}}`
/// (nothing else); returns the message.
pub fn assert_error(answer: &Answer, status: u16, code: &str) -> String {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(answer.json["error"]["code"], code, "{}", answer.json);
    let message = answer.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty(),
        "a message for a person: {}",
        answer.json
    );
    assert_eq!(
        answer.json.as_object().map(|object| object.len()),
        Some(1),
        "{}",
        answer.json
    );
    message.to_owned()
}

/// The claims of a JWT, read without checking it (tests mint variants of real tokens).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
