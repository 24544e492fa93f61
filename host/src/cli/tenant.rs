//! `loa tenant create ID --owner EMAIL`: a new shop and its first owner; `loa tenant apply
//! FILE`: create or update a shop (tenant, bots, FAQ) from a TOML file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use loa::auth::{Role, normalize_email};
use loa::conversation::model::Tenant;

use super::Context;
use super::user::{add_member, audit, auth_service, new_password};

/// Longest tenant id: it appears in URLs and log lines.
const MAX_TENANT_ID_CHARS: usize = 64;

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant and make EMAIL its owner (creating the account if it is new; a new
    /// account gets a generated password, printed once, unless one is given on stdin).
    Create {
        /// Short id, used in URLs (`may`): lower-case letters, digits, `-` and `_`.
        id: String,
        /// The owner's login email.
        #[arg(long)]
        owner: String,
        /// The tenant's display name (`Thời Trang Mây`). Default: the id.
        #[arg(long)]
        name: Option<String>,
        /// Read a new owner account's password from stdin (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create or update a tenant, its bots and their FAQ from a shop file (idempotent).
    Apply {
        /// The shop file (see `samples/demo-shop/shop.toml`).
        file: PathBuf,
    },
}

pub(crate) async fn run(context: &Context, command: TenantCommand) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Create {
            id,
            owner,
            name,
            password_stdin,
        } => create(context, &id, &owner, name.as_deref(), password_stdin).await,
        TenantCommand::Apply { file } => {
            let store = context.open_store().await?;
            let applied = loa::conversation::shop_file::apply(&*store, &file).await?;
            println!(
                "tenant '{}' applied from {}",
                applied.tenant_id,
                file.display()
            );
            for (bot, faq, widget) in applied.bots {
                let widget = if widget { "widget on" } else { "no widget" };
                println!("  bot '{bot}': {faq} FAQ entries, {widget}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `loa tenant create`: checks everything it can before writing anything.
async fn create(
    context: &Context,
    id: &str,
    owner: &str,
    name: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    check_tenant_id(id)?;
    let email = normalize_email(owner).with_context(|| format!("--owner '{owner}'"))?;
    let store = context.open_store().await?;
    if store.tenant(id).await?.is_some() {
        anyhow::bail!("tenant '{id}' exists (`loa tenant apply` updates a tenant)");
    }
    let auth = auth_service(context, &store)?;
    // The account first: a weak password then leaves no tenant without an owner behind.
    let (user, password) = match store.user_by_email(&email).await? {
        Some(_) if password_stdin => {
            anyhow::bail!("{email} already has an account; --password-stdin is only for a new one")
        }
        Some(user) => (user, None),
        None => {
            let password = new_password(password_stdin)?;
            let user = auth
                .create_user(&email, "", Some(password.text()))
                .await
                .with_context(|| format!("cannot create the owner's account {email}"))?;
            (user, Some(password))
        }
    };
    let created = password.is_some();
    let name = name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(id);
    let tenant = Tenant {
        id: id.to_owned(),
        name: name.to_owned(),
        created_at_ms: loa::conversation::pipeline::now_ms(),
    };
    store
        .put_tenant(&tenant)
        .await
        .context("cannot store the tenant")?;
    let detail = serde_json::json!({"name": tenant.name});
    audit(
        &store,
        Some(id),
        "tenant.created",
        &format!("tenant:{id}"),
        detail,
    )
    .await?;
    if created {
        let detail = serde_json::json!({"email": user.email});
        audit(
            &store,
            Some(id),
            "user.created",
            &format!("user:{}", user.id),
            detail,
        )
        .await?;
    }
    add_member(&store, id, &user.id, Role::Owner).await?;
    println!("tenant '{id}' created ({name})");
    let account = if created {
        "new account"
    } else {
        "existing account"
    };
    println!("owner: {} ({}, {account})", user.email, user.id);
    if let Some(password) = password {
        password.print_if_generated();
    }
    Ok(ExitCode::SUCCESS)
}

/// A tenant id is short and URL-safe.
fn check_tenant_id(id: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    let starts_well = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if id.is_empty()
        || id.chars().count() > MAX_TENANT_ID_CHARS
        || !starts_well
        || !id.chars().all(allowed)
    {
        anyhow::bail!(
            "invalid tenant id '{id}': 1 to {MAX_TENANT_ID_CHARS} lower-case letters, digits, '-' or '_', starting with a letter or digit"
        );
    }
    Ok(())
}
