//! Running the matrix: for each cell, the request (a body that would succeed, on a
//! throwaway target when it writes), the answer checked against the expectation, and for
//! a refused write, both tenants compared before and after.

use std::collections::BTreeSet;

use loa_e2e::accounts::{call, call_with_headers, login};
use loa_e2e::http::Answer;
use serde_json::{Value, json};

use super::routes::{CALLERS, Caller, Expect, Need, ROUTES, expected};
use super::world::{World, wait_until_dead};

/// The plugin the plugin cells configure (installed before the server starts).
const PLUGIN: &str = "order-status";

/// What the matrix did.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cells run.
    pub cells: usize,
    /// Operations in the table.
    pub operations: usize,
    /// Kinds of callers.
    pub callers: usize,
    /// Cells that had to succeed.
    pub allowed: usize,
    /// Cells that had to answer 401.
    pub unauthenticated: usize,
    /// Cells that had to answer 403.
    pub forbidden: usize,
    /// Refused writes after which both tenants were compared.
    pub unchanged_checked: usize,
    /// What went wrong, one line per cell.
    pub failures: Vec<String>,
}

/// One request of a cell.
struct Prepared {
    path: String,
    body: Option<Value>,
    /// Sent as `Idempotency-Key` (the proactive messages need one).
    idempotency_key: Option<String>,
}

/// Runs every cell; failures are collected, not raised, so one run lists them all.
pub async fn run(world: &mut World) -> Tally {
    let mut tally = Tally {
        operations: ROUTES.len(),
        callers: CALLERS.len(),
        ..Tally::default()
    };
    check_table_against_document(world, &mut tally).await;
    for home in 0..world.tenants.len() {
        let foreign = (home + 1) % world.tenants.len();
        for &(method, template, need) in ROUTES {
            // A bot's routes belong to the bot's tenant.
            let tenant_less = !template.contains("{tenant}") && !template.contains("{bot}");
            for caller in CALLERS {
                let targets = if tenant_less {
                    vec![home]
                } else {
                    vec![home, foreign]
                };
                for target in targets {
                    let expect = expected(need, caller, target == home);
                    run_cell(
                        world, &mut tally, method, template, need, caller, home, target, expect,
                    )
                    .await;
                }
            }
        }
    }
    tally
}

/// Every operation of the served document is in [`ROUTES`], and nothing else is.
async fn check_table_against_document(world: &World, tally: &mut Tally) {
    let answer = call(&world.base_url, None, "GET", "/v1/openapi.json", None).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let mut documented = BTreeSet::new();
    for (path, item) in answer.json["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    for (method, path) in documented.difference(&table) {
        tally.failures.push(format!(
            "{method} {path} is in the OpenAPI document but not in the matrix's table: add \
             it to ROUTES with the permission it needs"
        ));
    }
    for (method, path) in table.difference(&documented) {
        tally.failures.push(format!(
            "{method} {path} is in the matrix's table but not in the OpenAPI document"
        ));
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_cell(
    world: &mut World,
    tally: &mut Tally,
    method: &str,
    template: &str,
    need: Need,
    caller: Caller,
    home: usize,
    target: usize,
    expect: Expect,
) {
    let label = format!(
        "{method} {template} by {} of '{}' in {} tenant '{}'",
        caller.name(),
        world.tenants[home].id,
        if home == target {
            "its own"
        } else {
            "the other"
        },
        world.tenants[target].id
    );
    tally.cells += 1;
    match expect {
        Expect::Allowed => tally.allowed += 1,
        Expect::Unauthenticated => tally.unauthenticated += 1,
        Expect::Forbidden => tally.forbidden += 1,
    }
    let prepared = prepare(world, method, template, need, caller, home, target, expect).await;
    let token = world.tenants[home].tokens[&caller].clone();
    let refused_write = method != "GET" && expect != Expect::Allowed;
    let before = if refused_write {
        Some(snapshot(world).await)
    } else {
        None
    };
    if refused_write && prepared.body.is_some() {
        // Refused before the body is read: an unusable body gets the same answer, so a
        // caller without the right cannot probe the validation.
        let unusable = json!({"not_a_field_of_any_body": true});
        let answer = call(
            &world.base_url,
            token.as_deref(),
            method,
            &prepared.path,
            Some(&unusable),
        )
        .await;
        if let Err(problem) = check(&answer, expect) {
            tally
                .failures
                .push(format!("{label}, with an unusable body: {problem}"));
        }
    }
    let key: Vec<(&str, &str)> = prepared
        .idempotency_key
        .as_deref()
        .map(|key| ("idempotency-key", key))
        .into_iter()
        .collect();
    let answer = call_with_headers(
        &world.base_url,
        token.as_deref(),
        method,
        &prepared.path,
        prepared.body.as_ref(),
        &key,
    )
    .await;
    if let Err(problem) = check(&answer, expect) {
        tally.failures.push(format!("{label}: {problem}"));
    }
    if let Some(before) = before {
        tally.unchanged_checked += 1;
        let after = snapshot(world).await;
        if after != before {
            tally.failures.push(format!(
                "{label} was refused but changed something:\nbefore: {before}\nafter:  {after}"
            ));
        }
    }
    if expect == Expect::Allowed && answer.status < 300 {
        after_success(world, template, caller, home, &prepared).await;
    }
}

/// The answer matches the expectation, with the error shape for refusals and no data.
fn check(answer: &Answer, expect: Expect) -> Result<(), String> {
    let status = answer.status;
    let error_only = answer.json["error"]["code"].is_string()
        && answer.json["error"]["message"].is_string()
        && answer.json.as_object().map(|object| object.len()) == Some(1);
    match expect {
        Expect::Allowed if (200..300).contains(&status) => Ok(()),
        Expect::Allowed => Err(format!("must succeed, answered {status} {}", answer.text())),
        Expect::Unauthenticated if status != 401 => Err(format!(
            "must be refused with 401, answered {status} {}",
            answer.text()
        )),
        Expect::Unauthenticated if !error_only => {
            Err(format!("401 without the error shape: {}", answer.text()))
        }
        Expect::Unauthenticated => match answer.header("www-authenticate") {
            Some(scheme) if scheme.starts_with("Bearer") => Ok(()),
            other => Err(format!("401 with WWW-Authenticate {other:?}")),
        },
        Expect::Forbidden if status != 403 => Err(format!(
            "must be refused with 403, answered {status} {}",
            answer.text()
        )),
        Expect::Forbidden if !error_only || answer.json["error"]["code"] != "forbidden" => Err(
            format!("403 without the `forbidden` error: {}", answer.text()),
        ),
        Expect::Forbidden => Ok(()),
    }
}

/// The path and body of a cell: what would succeed for a caller who may, on a throwaway
/// target (made now, as the target tenant's owner) when the operation changes or removes
/// something, so later cells find the fixtures as they were.
#[allow(clippy::too_many_arguments)]
async fn prepare(
    world: &mut World,
    method: &str,
    template: &str,
    need: Need,
    caller: Caller,
    home: usize,
    target: usize,
    expect: Expect,
) -> Prepared {
    let n = world.next();
    let tenant = world.tenants[target].id.clone();
    let bot = world.tenants[target].bot.clone();
    let mut path = template
        .replace("{tenant}", &tenant)
        .replace("{bot}", &bot)
        .replace("{channel}", &format!("widget-{bot}"))
        .replace("{name}", PLUGIN);
    let tenant_path = format!("/v1/tenants/{tenant}");
    let mut idempotency_key = None;
    let body = match (method, template) {
        ("POST", "/v1/auth/login") => {
            let (email, password) = world.tenants[home].probe.clone();
            Some(json!({"email": email, "password": password}))
        }
        ("POST", "/v1/auth/refresh" | "/v1/auth/logout") => {
            let (email, password) = world.tenants[home].probe.clone();
            let session = login(&world.base_url, &email, &password).await;
            Some(json!({"refresh_token": session.refresh}))
        }
        ("POST", "/v1/auth/password") => {
            let current = match caller {
                Caller::Member(role) => world.tenants[home].people[&role].1.clone(),
                _ => "not-anyones-password-1".to_owned(),
            };
            Some(json!({"current_password": current, "new_password": format!("{current}+{n}")}))
        }
        ("PATCH", "/v1/tenants/{tenant}") => Some(json!({"name": format!("Shop {tenant} {n}")})),
        ("POST", "/v1/tenants/{tenant}/members") => {
            Some(json!({"email": format!("new{n}@{tenant}.vn"), "role": "viewer"}))
        }
        (_, "/v1/tenants/{tenant}/members/{user_id}") => {
            let body = json!({"email": format!("temp{n}@{tenant}.vn"), "role": "viewer"});
            let added = world
                .as_owner(
                    target,
                    "POST",
                    &format!("{tenant_path}/members"),
                    Some(&body),
                )
                .await;
            let user_id = added.json["member"]["user_id"].as_str().unwrap_or_default();
            path = path.replace("{user_id}", user_id);
            (method == "PATCH").then(|| json!({"role": "operator"}))
        }
        ("POST", "/v1/tenants/{tenant}/api-keys") => {
            Some(json!({"name": format!("key {n}"), "scopes": ["tenant:read"]}))
        }
        ("DELETE", "/v1/tenants/{tenant}/api-keys/{id}") => {
            let body = json!({"name": format!("temp {n}"), "scopes": ["tenant:read"]});
            let created = world
                .as_owner(
                    target,
                    "POST",
                    &format!("{tenant_path}/api-keys"),
                    Some(&body),
                )
                .await;
            let id = created.json["api_key"]["id"].as_str().unwrap_or_default();
            path = path.replace("{id}", id);
            None
        }
        ("POST", "/v1/tenants/{tenant}/bots") => {
            Some(json!({"id": format!("b{n}-{tenant}"), "name": format!("Bot {n}")}))
        }
        ("PUT", "/v1/tenants/{tenant}/bots/{bot}") => {
            Some(json!({"name": format!("Bot of {tenant}"), "settings": {}}))
        }
        ("POST", "/v1/tenants/{tenant}/channels") => {
            // A bot whose widget channel is gone: recreating it is a valid new channel.
            let spare = throwaway_bot(world, target, &format!("c{n}-{tenant}")).await;
            let channel = format!("widget-{spare}");
            world
                .as_owner(
                    target,
                    "DELETE",
                    &format!("{tenant_path}/channels/{channel}"),
                    None,
                )
                .await;
            Some(json!({"id": channel, "bot_id": spare, "kind": {"type": "widget"}}))
        }
        ("PATCH", "/v1/tenants/{tenant}/channels/{channel}") => Some(json!({"enabled": true})),
        ("DELETE", "/v1/tenants/{tenant}/channels/{channel}") => {
            let spare = throwaway_bot(world, target, &format!("d{n}-{tenant}")).await;
            path = format!("{tenant_path}/channels/widget-{spare}");
            None
        }
        ("PUT", "/v1/tenants/{tenant}/plugins/{name}") => Some(json!({"enabled": false})),
        ("PUT", "/v1/tenants/{tenant}/presence") => Some(json!({"status": "online"})),
        ("POST" | "PUT", "/v1/tenants/{tenant}/bots/{bot}/faq") => {
            let entry = faq_entry(&format!("e{n}"), n);
            Some(if method == "POST" {
                entry
            } else {
                json!({ "entries": [entry] })
            })
        }
        (_, "/v1/tenants/{tenant}/bots/{bot}/faq/{id}") => {
            let id = format!("t{n}");
            path = path.replace("{id}", &id);
            if method != "PUT" {
                world
                    .as_owner(target, "PUT", &path, Some(&faq_entry(&id, n)))
                    .await;
            }
            (method == "PUT").then(|| faq_entry(&id, n))
        }
        (_, "/v1/tenants/{tenant}/bots/{bot}/documents/{id}") => {
            // The upload is the raw file; this JSON's text makes a fine Markdown one.
            let file = json!({"chính sách": format!("đổi trả {n}")});
            path = path.replace("{id}", &format!("d{n}.md"));
            if method != "PUT" {
                world.as_owner(target, "PUT", &path, Some(&file)).await;
            }
            (method == "PUT").then_some(file)
        }
        ("POST", template) if template.starts_with("/v1/tenants/{tenant}/conversations/{id}/") => {
            // Allowed: a fresh conversation (held by the caller unless the cell takes it),
            // so each succeeds; refused: the fixture, which must stay as it is.
            let id = if expect == Expect::Allowed {
                let fresh = world.start_conversation(target).await;
                if !template.ends_with("/take") {
                    let token = world.tenants[home].tokens[&caller].clone();
                    let take = format!("{tenant_path}/conversations/{fresh}/take");
                    let answer = call(&world.base_url, token.as_deref(), "POST", &take, None).await;
                    assert_eq!(answer.status, 200, "set-up take: {}", answer.text());
                }
                fresh
            } else {
                world.tenants[target].conversation.clone()
            };
            path = path.replace("{id}", &id);
            template
                .ends_with("/reply")
                .then(|| json!({"text": format!("Dạ, em trả lời lần {n} ạ")}))
        }
        (_, template) if template.contains("/conversations/{id}") => {
            path = path.replace("{id}", &world.tenants[target].conversation);
            None
        }
        (_, template) if template.contains("/deliveries/{id}") => {
            let id = world.tenants[target].dead_letter;
            path = path.replace("{id}", &id.to_string());
            if template.ends_with("/retry") && expect == Expect::Allowed {
                // The previous allowed retry sent it again; it fails again at once.
                let owner = world.tenants[target].owner_token().to_owned();
                wait_until_dead(&world.base_url, &owner, &tenant, id).await;
            }
            None
        }
        ("POST", "/v1/bots/{bot}/messages") => {
            idempotency_key = Some(format!("matrix-{n}"));
            Some(json!({
                "channel_id": format!("widget-{bot}"),
                "to": {"channel_user_id": format!("matrix-visitor-{n}")},
                "message": {"text": format!("Tin nhắn chủ động số {n}")}
            }))
        }
        ("GET", _) | ("DELETE", "/v1/tenants/{tenant}/plugins/{name}/breaker") => None,
        _ => panic!(
            "the matrix has no request for {method} {template} ({need:?}, {expect:?}): \
             add one to `prepare`"
        ),
    };
    Prepared {
        path,
        body,
        idempotency_key,
    }
}

/// A valid FAQ entry `id`.
fn faq_entry(id: &str, n: u32) -> Value {
    json!({"id": id, "question": format!("Câu hỏi số {n}?"), "answer": "Dạ có ạ."})
}

/// Creates bot `id` in tenant `index` (with its widget channel); returns its id.
async fn throwaway_bot(world: &World, index: usize, id: &str) -> String {
    let tenant = world.tenants[index].id.clone();
    let body = json!({"id": id, "name": format!("Spare {id}")});
    world
        .as_owner(
            index,
            "POST",
            &format!("/v1/tenants/{tenant}/bots"),
            Some(&body),
        )
        .await;
    id.to_owned()
}

/// After an allowed password change: the caller's new password, and a new token (the
/// change ended their logins).
async fn after_success(
    world: &mut World,
    template: &str,
    caller: Caller,
    home: usize,
    prepared: &Prepared,
) {
    let (Caller::Member(role), "/v1/auth/password") = (caller, template) else {
        return;
    };
    let new_password = prepared.body.as_ref().expect("a body")["new_password"]
        .as_str()
        .expect("the new password")
        .to_owned();
    let email = world.tenants[home].people[&role].0.clone();
    let session = login(&world.base_url, &email, &new_password).await;
    let tenant = &mut world.tenants[home];
    tenant.people.insert(role, (email, new_password));
    // The forged tokens keep the old login's claims: they stay as refused as before.
    tenant.tokens.insert(caller, Some(session.access));
}

/// Everything of both tenants a write could change, as their owners read it (the keys'
/// last-used times left out: the key caller's own requests move them).
async fn snapshot(world: &World) -> Value {
    let mut state = Vec::new();
    for index in 0..world.tenants.len() {
        let tenant = &world.tenants[index];
        let base = format!("/v1/tenants/{}", tenant.id);
        for path in [
            base.clone(),
            format!("{base}/members"),
            format!("{base}/api-keys"),
            format!("{base}/bots"),
            format!("{base}/channels"),
            format!("{base}/plugins"),
            format!("{base}/conversations"),
            format!("{base}/bots/{}/faq", tenant.bot),
            format!("{base}/bots/{}/documents", tenant.bot),
        ] {
            let mut answer = world.as_owner(index, "GET", &path, None).await.json;
            if let Some(keys) = answer["api_keys"].as_array_mut() {
                for key in keys {
                    key["last_used_at_ms"] = Value::Null;
                }
            }
            state.push(json!({"path": path, "answer": answer}));
        }
    }
    Value::Array(state)
}
