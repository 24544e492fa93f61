//! The two shops the matrix runs in: in each, an owner (made by `loa tenant create`), an
//! admin, an operator and a viewer (added over the API), a member whose logins the public
//! routes use, an API key with every scope, a revoked key, forged tokens, a bot, a
//! conversation on its widget and a dead letter on a Telegram channel that cannot deliver.

use std::collections::HashMap;

use loa::auth::tokens::AccessTokens;
use loa::auth::{MasterKey, Role, Scope};
use loa_e2e::accounts::{MASTER_KEY, call, call_with_headers, claims_of, login};
use loa_e2e::http::Answer;
use loa_e2e::widget::Visitor;
use serde_json::{Value, json};

use super::routes::Caller;

/// An access token lives 15 minutes; an hour past its end is expired by any measure.
const EXPIRED_AGO_MS: i64 = 3_600_000;
const ACCESS_LIFETIME_MS: i64 = 15 * 60_000;

/// One shop.
pub struct Tenant {
    /// Its id (`may`).
    pub id: String,
    /// Email and current password of each member, by role.
    pub people: HashMap<Role, (String, String)>,
    /// What each caller sends as bearer token (`None`: no header).
    pub tokens: HashMap<Caller, Option<String>>,
    /// Email and password of a viewer whose logins the public routes' cells use.
    pub probe: (String, String),
    /// The bot every bot, channel and conversation cell targets.
    pub bot: String,
    /// A conversation on the bot's widget.
    pub conversation: String,
    /// A dead letter: a message to a Telegram channel whose plugin the tenant never
    /// enabled (the matrix's host gives up after one attempt).
    pub dead_letter: i64,
}

impl Tenant {
    /// The owner's access token (the matrix sets up throwaway targets with it).
    pub fn owner_token(&self) -> &str {
        self.tokens[&Caller::Member(Role::Owner)]
            .as_deref()
            .expect("the owner has a token")
    }
}

/// Both shops on one server.
pub struct World {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The shops; a caller's home is one, the other is foreign to it.
    pub tenants: Vec<Tenant>,
    counter: u32,
}

impl World {
    /// Sets up every tenant of `owners` (`(tenant, owner's password)`; the owner is
    /// `owner@TENANT.vn`).
    pub async fn set_up(base_url: &str, owners: &[(String, String)]) -> World {
        let mut tenants = Vec::new();
        for (tenant, password) in owners {
            tenants.push(set_up_tenant(base_url, tenant, password).await);
        }
        World {
            base_url: base_url.to_owned(),
            tenants,
            counter: 0,
        }
    }

    /// A new visitor writes on tenant `index`'s bot; returns the new conversation's id.
    pub async fn start_conversation(&self, index: usize) -> String {
        let tenant = &self.tenants[index];
        start_conversation(
            &self.base_url,
            tenant.owner_token(),
            &tenant.id,
            &tenant.bot,
        )
        .await
    }

    /// A number no earlier call returned, for names of throwaway things.
    pub fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// `method path` as the owner of tenant `index`; panics unless it succeeds.
    pub async fn as_owner(
        &self,
        index: usize,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let token = self.tenants[index].owner_token().to_owned();
        owner_call(&self.base_url, &token, method, path, body).await
    }
}

/// `method path` with `token`; panics unless the answer is a success.
async fn owner_call(
    base_url: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let answer = call(base_url, Some(token), method, path, body).await;
    assert!(
        (200..300).contains(&answer.status),
        "set-up step {method} {path} failed: {} {}",
        answer.status,
        answer.text()
    );
    answer
}

async fn set_up_tenant(base_url: &str, tenant: &str, owner_password: &str) -> Tenant {
    let owner_email = format!("owner@{tenant}.vn");
    let owner = login(base_url, &owner_email, owner_password).await;
    let mut people = HashMap::from([(Role::Owner, (owner_email, owner_password.to_owned()))]);
    let mut tokens = HashMap::from([(Caller::Member(Role::Owner), Some(owner.access.clone()))]);
    let members = format!("/v1/tenants/{tenant}/members");
    for role in [Role::Admin, Role::Operator, Role::Viewer] {
        let email = format!("{}@{tenant}.vn", role.as_str());
        let (email, password) = add_member(base_url, &owner.access, &members, &email, role).await;
        let session = login(base_url, &email, &password).await;
        tokens.insert(Caller::Member(role), Some(session.access));
        people.insert(role, (email, password));
    }
    let probe = add_member(
        base_url,
        &owner.access,
        &members,
        &format!("probe@{tenant}.vn"),
        Role::Viewer,
    )
    .await;

    let keys = format!("/v1/tenants/{tenant}/api-keys");
    let every_scope: Vec<&str> = Scope::ALL.into_iter().map(Scope::as_str).collect();
    let body = json!({"name": "every scope", "scopes": every_scope});
    let key = owner_call(base_url, &owner.access, "POST", &keys, Some(&body)).await;
    tokens.insert(Caller::Key, Some(text(&key.json["key"])));
    let body = json!({"name": "revoked", "scopes": every_scope});
    let revoked = owner_call(base_url, &owner.access, "POST", &keys, Some(&body)).await;
    let revoked_id = text(&revoked.json["api_key"]["id"]);
    owner_call(
        base_url,
        &owner.access,
        "DELETE",
        &format!("{keys}/{revoked_id}"),
        None,
    )
    .await;
    tokens.insert(Caller::RevokedKey, Some(text(&revoked.json["key"])));

    tokens.insert(Caller::NoToken, None);
    let claims = claims_of(&owner.access);
    let (sub, sid) = (text(&claims["sub"]), text(&claims["sid"]));
    tokens.insert(Caller::AlgNone, Some(unsigned_token(&claims)));
    let now = now_ms();
    let other_key = AccessTokens::new(&MasterKey::from_bytes([7; 32]));
    let (forged, _) = other_key
        .issue(&sub, &sid, now, ACCESS_LIFETIME_MS)
        .expect("sign");
    tokens.insert(Caller::OtherKey, Some(forged));
    let server_key = AccessTokens::new(&MasterKey::from_bytes(MASTER_KEY));
    let (expired, _) = server_key
        .issue(&sub, &sid, now - EXPIRED_AGO_MS, ACCESS_LIFETIME_MS)
        .expect("sign");
    tokens.insert(Caller::Expired, Some(expired));

    let bot = format!("{tenant}-bot");
    let body = json!({"id": bot, "name": format!("Bot of {tenant}")});
    owner_call(
        base_url,
        &owner.access,
        "POST",
        &format!("/v1/tenants/{tenant}/bots"),
        Some(&body),
    )
    .await;
    let conversation = start_conversation(base_url, &owner.access, tenant, &bot).await;
    let dead_letter = dead_letter(base_url, &owner.access, tenant, &bot).await;
    Tenant {
        id: tenant.to_owned(),
        people,
        tokens,
        probe,
        bot,
        conversation,
        dead_letter,
    }
}

/// Sends a message on a new Telegram channel of `bot` that cannot deliver; returns its
/// delivery id once it is dead.
async fn dead_letter(base_url: &str, owner: &str, tenant: &str, bot: &str) -> i64 {
    let channel = format!("tg-{tenant}");
    let body = json!({
        "id": channel,
        "bot_id": bot,
        "kind": {"type": "plugin", "plugin": "telegram"},
        "secrets": {"bot_token": "1:matrix", "webhook_secret": "matrix"},
    });
    let path = format!("/v1/tenants/{tenant}/channels");
    owner_call(base_url, owner, "POST", &path, Some(&body)).await;
    let message = json!({"channel_id": channel, "to": {"channel_user_id": "1"}, "message": {"text": "xin chào"}});
    let sent = call_with_headers(
        base_url,
        Some(owner),
        "POST",
        &format!("/v1/bots/{bot}/messages"),
        Some(&message),
        &[("idempotency-key", "matrix-dead-letter")],
    )
    .await;
    assert_eq!(
        sent.status,
        202,
        "set-up proactive message: {}",
        sent.text()
    );
    let id = sent.json["delivery_id"].as_i64().expect("a delivery id");
    wait_until_dead(base_url, owner, tenant, id).await;
    id
}

/// Polls delivery `id` of `tenant` until it is dead (a retried one fails again at once).
pub async fn wait_until_dead(base_url: &str, owner: &str, tenant: &str, id: i64) {
    let path = format!("/v1/tenants/{tenant}/deliveries/{id}");
    let started = std::time::Instant::now();
    loop {
        let answer = owner_call(base_url, owner, "GET", &path, None).await;
        if answer.json["delivery"]["status"] == "dead" {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "delivery {id} never died: {}",
            answer.text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Adds `email` with `role` over the API; returns the email and the initial password.
async fn add_member(
    base_url: &str,
    owner: &str,
    members: &str,
    email: &str,
    role: Role,
) -> (String, String) {
    let body = json!({"email": email, "role": role.as_str()});
    let added = owner_call(base_url, owner, "POST", members, Some(&body)).await;
    (email.to_owned(), text(&added.json["initial_password"]))
}

/// A visitor writes on the bot's widget; returns the conversation's id.
async fn start_conversation(base_url: &str, owner: &str, tenant: &str, bot: &str) -> String {
    let mut visitor = Visitor::connect(base_url, bot)
        .await
        .expect("the new bot's widget answers");
    visitor.hello(None, None).await;
    visitor.say("m-1", "xin chào").await;
    visitor.next_of_type("ack").await;
    // The bot's answer lands before the matrix starts: a refused write is checked by
    // comparing the tenants before and after, and nothing else may move meanwhile.
    visitor.bot_reply().await;
    let path = format!("/v1/tenants/{tenant}/conversations");
    let list = owner_call(base_url, owner, "GET", &path, None).await;
    text(&list.json["conversations"][0]["id"])
}

/// A JWT with `alg: none` carrying `claims` (made valid for another hour) and no
/// signature: a server that trusted the header would take it for the owner.
fn unsigned_token(claims: &Value) -> String {
    use base64::Engine as _;
    let encode =
        |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let mut claims = claims.clone();
    claims["exp"] = json!(now_ms() / 1000 + 3600);
    format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "JWT"})),
        encode(&claims)
    )
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_millis()).expect("ms fit in i64")
}
