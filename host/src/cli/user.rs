//! `loa user create|reset-password`: accounts from the command line (the first owner of a
//! shop, a lost password), and what `loa tenant create` shares with them: the auth
//! service, passwords from stdin or generated, audit lines by `cli`.

use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use loa::auth::password::generate_password;
use loa::auth::{AuthService, Role};
use loa::store::{Membership, NewAuditEntry, Store};

use super::Context;

/// User commands.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account, optionally a member of a tenant. Prints a generated password
    /// unless one is given on stdin.
    Create {
        /// Login email.
        email: String,
        /// Display name. Default: the part of the email before `@`.
        #[arg(long)]
        name: Option<String>,
        /// Make the new user a member of this tenant (with `--role`).
        #[arg(long, requires = "role")]
        tenant: Option<String>,
        /// Their role in `--tenant`: owner, admin, operator or viewer.
        #[arg(long, requires = "tenant", value_parser = parse_role)]
        role: Option<Role>,
        /// Read the password from stdin (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for an account and end all its sessions. Prints a generated
    /// password unless one is given on stdin.
    ResetPassword {
        /// The account's email.
        email: String,
        /// Read the new password from stdin (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub(crate) async fn run(context: &Context, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = context.open_store().await?;
    let auth = auth_service(context, &store)?;
    match command {
        UserCommand::Create {
            email,
            name,
            tenant,
            role,
            password_stdin,
        } => {
            if let Some(tenant) = &tenant
                && store.tenant(tenant).await?.is_none()
            {
                anyhow::bail!("no tenant '{tenant}' (create it with `loa tenant create`)");
            }
            let password = new_password(password_stdin)?;
            let user = auth
                .create_user(&email, name.as_deref().unwrap_or(""), Some(password.text()))
                .await
                .with_context(|| format!("cannot create user '{}'", email.trim()))?;
            let target = format!("user:{}", user.id);
            let detail = serde_json::json!({"email": user.email});
            audit(&store, tenant.as_deref(), "user.created", &target, detail).await?;
            println!("user {} created ({})", user.email, user.id);
            if let (Some(tenant), Some(role)) = (tenant, role) {
                add_member(&store, &tenant, &user.id, role).await?;
                println!("member of tenant '{tenant}' as {}", role.as_str());
            }
            password.print_if_generated();
        }
        UserCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let password = new_password(password_stdin)?;
            let user = auth
                .set_password_for(&email, password.text())
                .await
                .with_context(|| format!("cannot reset the password of '{}'", email.trim()))?;
            let target = format!("user:{}", user.id);
            audit(
                &store,
                None,
                "user.password_reset",
                &target,
                serde_json::json!({}),
            )
            .await?;
            // No "password" in this line: scripts take the first line naming one as the
            // line that carries it.
            println!("{} ({}): reset, every session ended", user.email, user.id);
            password.print_if_generated();
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The auth service for commands, keyed like the server's (they issue no tokens, but one
/// key for everything keeps the commands and the server from ever disagreeing).
pub(super) fn auth_service(
    context: &Context,
    store: &Arc<dyn Store>,
) -> anyhow::Result<AuthService> {
    let (key, _) = context.master_key()?;
    Ok(AuthService::new(
        Arc::clone(store),
        &key,
        context.config.auth.clone(),
    ))
}

/// A password typed on stdin, or one generated here (and printed once).
pub(super) enum NewPassword {
    /// From stdin.
    Given(String),
    /// Made up; the person running the command must pass it on.
    Generated(String),
}

impl NewPassword {
    pub(super) fn text(&self) -> &str {
        match self {
            Self::Given(text) | Self::Generated(text) => text,
        }
    }

    /// Prints a generated password on its own line (the last word of the first line that
    /// names a password: scripts read it from there).
    pub(super) fn print_if_generated(&self) {
        if let Self::Generated(password) = self {
            println!("temporary password (shown once; change it after logging in): {password}");
        }
    }
}

/// Reads the password from stdin (`--password-stdin`) or generates one.
pub(super) fn new_password(from_stdin: bool) -> anyhow::Result<NewPassword> {
    if !from_stdin {
        return Ok(NewPassword::Generated(generate_password()?));
    }
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("cannot read the password from stdin")?;
    // One line: the newline `echo` or a password manager adds is not part of it.
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains('\n') {
        anyhow::bail!("the password on stdin must be one line");
    }
    Ok(NewPassword::Given(line.to_owned()))
}

/// Makes `user_id` a member of `tenant_id` with `role`, with its audit line.
pub(super) async fn add_member(
    store: &Arc<dyn Store>,
    tenant_id: &str,
    user_id: &str,
    role: Role,
) -> anyhow::Result<()> {
    let membership = Membership {
        tenant_id: tenant_id.to_owned(),
        user_id: user_id.to_owned(),
        role,
        created_at_ms: loa::conversation::pipeline::now_ms(),
    };
    store
        .put_membership(&membership)
        .await
        .with_context(|| format!("cannot add the member to tenant '{tenant_id}'"))?;
    let detail = serde_json::json!({"role": role.as_str()});
    audit(
        store,
        Some(tenant_id),
        "member.added",
        &format!("user:{user_id}"),
        detail,
    )
    .await
}

/// Appends an audit line by `cli` about `target` (`user:us_…`, `tenant:may`).
pub(super) async fn audit(
    store: &Arc<dyn Store>,
    tenant_id: Option<&str>,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let entry = NewAuditEntry {
        tenant_id: tenant_id.map(str::to_owned),
        actor: "cli".to_owned(),
        action: action.to_owned(),
        target: Some(target.to_owned()),
        ip: None,
        detail,
        at_ms: loa::conversation::pipeline::now_ms(),
    };
    store
        .append_audit(&entry)
        .await
        .with_context(|| format!("cannot write the audit line '{action}'"))?;
    Ok(())
}

/// `--role`: a role name, or an error that lists them.
fn parse_role(name: &str) -> Result<Role, String> {
    Role::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!("unknown role '{name}': one of {}", names.join(", "))
    })
}
