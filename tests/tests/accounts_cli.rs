//! Accounts from the command line with the real `loa` binary: `tenant create` makes a shop
//! and its owner (printing a first password once), `user create` adds members,
//! `user reset-password` replaces a password and ends the user's sessions; every step
//! leaves an audit line by `cli`, and bad input fails with a message, never a panic.
//!
//! The printed passwords are checked by logging in through the library over the same
//! database the binary wrote.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use loa::auth::{AuthConfig, AuthError, AuthService, MasterKey, Role};
use loa::store::Store;
use loa::store::sqlite::SqliteStore;
use loa_e2e::accounts::printed_password;
use loa_e2e::{Finished, finish, loa};

/// Runs `command` with `input` on its stdin.
fn finish_with_stdin(command: &mut Command, input: &str) -> Finished {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(input.as_bytes())
        .expect("stdin written");
    let output = child.wait_with_output().expect("command ends");
    Finished {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The database the binary wrote, and an auth service over it.
fn open(data: &Path) -> (Arc<dyn Store>, AuthService) {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&data.join("loa.sqlite3")).expect("database opens"));
    let key = MasterKey::generate().expect("key");
    let auth = AuthService::new(Arc::clone(&store), &key, AuthConfig::default());
    (store, auth)
}

/// The actions of a tenant's audit log, oldest first, all by `cli`.
async fn audit_actions(store: &Arc<dyn Store>, tenant: &str) -> Vec<String> {
    let log = store.audit_log(tenant, None, 50).await.expect("audit log");
    assert!(log.iter().all(|line| line.entry.actor == "cli"), "{log:?}");
    log.into_iter()
        .rev()
        .map(|line| line.entry.action)
        .collect()
}

#[tokio::test]
async fn tenant_create_makes_an_owner_who_logs_in_with_the_printed_password() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = finish(loa(data.path()).args([
        "tenant",
        "create",
        "may",
        "--owner",
        "Owner@May.vn",
        "--name",
        "Thời Trang Mây",
    ]))
    .success();
    assert!(
        output.contains("tenant 'may' created (Thời Trang Mây)"),
        "{output}"
    );
    assert!(output.contains("new account"), "{output}");
    let password = printed_password(&output).expect("a password is printed");
    assert!(password.len() >= 20, "{password}");

    let (store, auth) = open(data.path());
    let tokens = auth
        .login("owner@may.vn", &password)
        .await
        .expect("logs in");
    let membership = store
        .membership("may", &tokens.user_id)
        .await
        .expect("read");
    assert_eq!(membership.map(|m| m.role), Some(Role::Owner));
    let tenant = store.tenant("may").await.expect("read").expect("created");
    assert_eq!(tenant.name, "Thời Trang Mây");
    assert_eq!(
        audit_actions(&store, "may").await,
        ["tenant.created", "user.created", "member.added"]
    );
    assert!(
        !data.path().join("master.key").exists(),
        "the CLI takes the key from LOA_MASTER_KEY and writes no key file"
    );

    // The same person owns a second shop: no new account, no password printed.
    let second =
        finish(loa(data.path()).args(["tenant", "create", "may-2", "--owner", "owner@may.vn"]))
            .success();
    assert!(second.contains("existing account"), "{second}");
    assert_eq!(printed_password(&second), None, "{second}");
    let membership = store
        .membership("may-2", &tokens.user_id)
        .await
        .expect("read");
    assert_eq!(membership.map(|m| m.role), Some(Role::Owner));
}

#[tokio::test]
async fn password_from_stdin_is_used_and_a_weak_one_creates_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let weak = finish_with_stdin(
        loa(data.path()).args([
            "tenant",
            "create",
            "may",
            "--owner",
            "an@may.vn",
            "--password-stdin",
        ]),
        "short\n",
    )
    .failure();
    assert!(weak.contains("at least 10 characters"), "{weak}");
    let (store, _) = open(data.path());
    assert!(
        store.tenant("may").await.expect("read").is_none(),
        "no tenant left behind"
    );

    let output = finish_with_stdin(
        loa(data.path()).args([
            "tenant",
            "create",
            "may",
            "--owner",
            "an@may.vn",
            "--password-stdin",
        ]),
        "mật khẩu của An\n",
    )
    .success();
    assert_eq!(
        printed_password(&output),
        None,
        "a given password is not echoed: {output}"
    );
    let (_, auth) = open(data.path());
    auth.login("an@may.vn", "mật khẩu của An")
        .await
        .expect("the stdin password works");
}

#[tokio::test]
async fn user_create_adds_a_member_and_reset_password_ends_their_sessions() {
    let data = tempfile::tempdir().expect("temp dir");
    finish(loa(data.path()).args(["tenant", "create", "may", "--owner", "owner@may.vn"])).success();
    let created = finish(loa(data.path()).args([
        "user",
        "create",
        "op@may.vn",
        "--name",
        "Op",
        "--tenant",
        "may",
        "--role",
        "operator",
    ]))
    .success();
    assert!(
        created.contains("member of tenant 'may' as operator"),
        "{created}"
    );
    let first = printed_password(&created).expect("a password is printed");

    let (store, auth) = open(data.path());
    let session = auth.login("op@may.vn", &first).await.expect("logs in");
    let membership = store
        .membership("may", &session.user_id)
        .await
        .expect("read");
    assert_eq!(membership.map(|m| m.role), Some(Role::Operator));

    let reset = finish(loa(data.path()).args(["user", "reset-password", "OP@may.vn"])).success();
    assert!(reset.contains("every session ended"), "{reset}");
    let second = printed_password(&reset).expect("a new password is printed");
    assert_ne!(first, second);
    let refresh = auth.refresh(&session.refresh_token).await;
    assert!(
        matches!(refresh, Err(AuthError::RefreshReused)),
        "{refresh:?}"
    );
    let old = auth.login("op@may.vn", &first).await;
    assert!(matches!(old, Err(AuthError::InvalidCredentials)), "{old:?}");
    auth.login("op@may.vn", &second)
        .await
        .expect("the new password works");

    let actions = audit_actions(&store, "may").await;
    assert_eq!(
        &actions[3..],
        ["user.created", "member.added"],
        "{actions:?}"
    );
}

#[test]
fn bad_input_fails_with_a_message_and_no_panic() {
    let data = tempfile::tempdir().expect("temp dir");
    finish(loa(data.path()).args(["tenant", "create", "may", "--owner", "owner@may.vn"])).success();
    let cases: [(&[&str], &str); 7] = [
        (
            &["tenant", "create", "may", "--owner", "x@may.vn"],
            "tenant 'may' exists",
        ),
        (
            &["tenant", "create", "Bad Id", "--owner", "x@may.vn"],
            "invalid tenant id",
        ),
        (
            &["tenant", "create", "shop", "--owner", "not-an-email"],
            "invalid email",
        ),
        (
            &["user", "create", "owner@may.vn"],
            "an account with this email exists",
        ),
        (
            &[
                "user", "create", "x@may.vn", "--tenant", "nope", "--role", "admin",
            ],
            "no tenant 'nope'",
        ),
        (&["user", "reset-password", "who@may.vn"], "no such user"),
        (
            &["user", "create", "x", "--tenant", "may", "--role", "admin"],
            "invalid email",
        ),
    ];
    for (args, expected) in cases {
        let output = finish(loa(data.path()).args(args)).failure();
        assert!(output.contains(expected), "{args:?}: {output}");
    }
    // Argument errors are clap's: exit code 2, with the choices.
    let role = finish(loa(data.path()).args([
        "user", "create", "x@may.vn", "--tenant", "may", "--role", "root",
    ]));
    assert_eq!(role.code, 2, "{}", role.stderr);
    assert!(
        role.stderr.contains("owner, admin, operator, viewer"),
        "{}",
        role.stderr
    );
    let half = finish(loa(data.path()).args(["user", "create", "x@may.vn", "--role", "admin"]));
    assert_eq!(half.code, 2, "{}", half.stderr);
}

#[tokio::test]
async fn plugin_enable_and_disable_leave_audit_lines_without_config_values() {
    let data = tempfile::tempdir().expect("temp dir");
    finish(loa(data.path()).args(["tenant", "create", "may", "--owner", "owner@may.vn"])).success();
    finish(
        loa(data.path())
            .args(["plugin", "install"])
            .arg(loa_e2e::workspace_root().join("plugins/order-status")),
    )
    .success();
    let secret = "sk-cli-secret-4d2a";
    finish(loa(data.path()).args([
        "plugin",
        "enable",
        "order-status",
        "--tenant",
        "may",
        "--config",
        "api_base_url=https://may.vn/api",
        "--config",
        &format!("api_key={secret}"),
        "--grant",
        "may.vn",
    ]))
    .success();
    finish(loa(data.path()).args(["plugin", "disable", "order-status", "--tenant", "may"]))
        .success();
    let (store, _) = open(data.path());
    let actions = audit_actions(&store, "may").await;
    assert_eq!(
        actions[actions.len() - 2..],
        ["plugin.configured", "plugin.configured"],
        "{actions:?}"
    );
    let log = store.audit_log("may", None, 2).await.expect("audit log");
    let enabled = &log[1].entry;
    assert_eq!(enabled.target.as_deref(), Some("plugin:order-status"));
    assert_eq!(enabled.detail["http_grants"], serde_json::json!(["may.vn"]));
    assert!(
        !enabled.detail.to_string().contains(secret),
        "config values stay out of the log: {}",
        enabled.detail
    );
    assert_eq!(log[0].entry.detail["enabled"], false);
}
