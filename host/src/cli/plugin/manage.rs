//! `loa plugin install|list|inspect|enable|disable`: plugins in the data directory and
//! their per-tenant settings.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use loa::plugins::LoadedPlugin;
use loa::store::TenantPluginSettings;

use super::{DirArg, parse_key_value};
use crate::cli::Context;
use crate::cli::user::audit;

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    #[command(flatten)]
    dir: DirArg,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// A plugin directory, or an installed plugin as `name` or `name@version`.
    #[arg(default_value = ".")]
    plugin: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EnableArgs {
    /// Installed plugin name.
    name: String,
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// Pin this version (default: keep the current pin, or follow the newest installed).
    #[arg(long, value_name = "VERSION")]
    pin: Option<semver::Version>,
    /// Config value, `key=value` (repeatable); replaces that key only.
    #[arg(long = "config", value_parser = parse_key_value)]
    config: Vec<(String, String)>,
    /// Host the plugin may call for this tenant (repeatable); added to the grants.
    #[arg(long = "grant")]
    grants: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DisableArgs {
    /// Installed plugin name.
    name: String,
    /// The tenant.
    #[arg(long)]
    tenant: String,
}

pub(crate) async fn install(context: &Context, args: InstallArgs) -> anyhow::Result<ExitCode> {
    let registry = context.registry().await?;
    let plugin = registry.install(&args.dir.dir).await?;
    // Host-wide, so in no tenant's log: the operators' own record.
    audit(
        &context.open_store().await?,
        None,
        "plugin.installed",
        &format!("plugin:{}", plugin.id()),
        serde_json::json!({ "kind": plugin.kind().to_string() }),
    )
    .await?;
    println!(
        "installed {} ({} plugin) into {}",
        plugin.id(),
        plugin.kind(),
        plugin.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn list(context: &Context) -> anyhow::Result<ExitCode> {
    let store = context.open_store().await?;
    let installed = store.installed_plugins().await?;
    if installed.is_empty() {
        println!(
            "no plugins installed in {} (install one with `loa plugin install DIR`)",
            context.config.data_dir.display()
        );
    }
    for plugin in installed {
        println!(
            "{:<24} {:<10} {:<11} {}",
            plugin.name, plugin.version, plugin.kind, plugin.description
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn load_for_inspect(context: &Context, plugin: &str) -> anyhow::Result<Arc<LoadedPlugin>> {
    let path = Path::new(plugin);
    if path.join("plugin.toml").is_file() {
        let store: Arc<dyn loa::store::Store> =
            Arc::new(loa::store::sqlite::SqliteStore::in_memory()?);
        return Ok(Arc::new(context.engine(store)?.load(path)?));
    }
    let (name, version) = match plugin.split_once('@') {
        Some((name, version)) => (
            name,
            Some(semver::Version::parse(version).with_context(|| format!("version '{version}'"))?),
        ),
        None => (plugin, None),
    };
    Ok(context.registry().await?.get(name, version.as_ref())?)
}

pub(crate) async fn inspect(context: &Context, args: InspectArgs) -> anyhow::Result<ExitCode> {
    let plugin = load_for_inspect(context, &args.plugin).await?;
    let manifest = &plugin.manifest;
    if args.json {
        let report = serde_json::json!({
            "id": plugin.id(),
            "manifest": manifest,
            "world": format!("loa:plugin/{}@{}", plugin.kind().world(), loa::plugins::WIT_VERSION),
            "exports": plugin.exports,
            "imports": plugin.imports,
            "size_bytes": plugin.wasm_bytes,
            "sha256": plugin.sha256,
            "limits": {
                "memory_mib": plugin.limits.memory_mib,
                "timeout_ms": plugin.limits.timeout.as_millis() as u64,
                "max_response_bytes": plugin.limits.max_response_bytes,
            },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "plugin       {} ({})",
        plugin.id(),
        manifest.plugin.description
    );
    println!(
        "world        loa:plugin/{}@{}",
        plugin.kind().world(),
        loa::plugins::WIT_VERSION
    );
    println!("exports      {}", plugin.exports.join(", "));
    println!("imports      {}", plugin.imports.join(", "));
    println!(
        "size         {:.1} KiB, sha256 {}",
        plugin.wasm_bytes as f64 / 1024.0,
        plugin.sha256
    );
    println!(
        "http hosts   {}",
        or_none(&manifest.capabilities.http.join(", "))
    );
    let config: Vec<String> = manifest
        .config
        .iter()
        .map(|(key, spec)| {
            let mut flags = Vec::new();
            if spec.required {
                flags.push("required");
            }
            if spec.secret {
                flags.push("secret");
            }
            if flags.is_empty() {
                key.clone()
            } else {
                format!("{key} ({})", flags.join(", "))
            }
        })
        .collect();
    println!("config       {}", or_none(&config.join(", ")));
    println!(
        "limits       {} MiB memory, {} ms per call, {} KiB response",
        plugin.limits.memory_mib,
        plugin.limits.timeout.as_millis(),
        plugin.limits.max_response_bytes / 1024
    );
    Ok(ExitCode::SUCCESS)
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

pub(crate) async fn enable(context: &Context, args: EnableArgs) -> anyhow::Result<ExitCode> {
    let registry = context.registry().await?;
    // Refuse to pin a version that is not installed: the tenant's bot would break later.
    let plugin = registry.get(&args.name, args.pin.as_ref())?;
    let store = context.open_store().await?;
    let mut settings = store
        .tenant_plugin(&args.tenant, &args.name)
        .await?
        .unwrap_or_else(|| TenantPluginSettings {
            tenant_id: args.tenant.clone(),
            plugin: args.name.clone(),
            ..TenantPluginSettings::default()
        });
    settings.enabled = true;
    if args.pin.is_some() {
        settings.pinned_version = args.pin.clone();
    }
    settings.config.extend(args.config.iter().cloned());
    for grant in &args.grants {
        if !settings.http_grants.contains(grant) {
            settings.http_grants.push(grant.clone());
        }
    }
    let was_switched_off = settings.breaker.take();
    store.put_tenant_plugin(&settings).await?;
    audit(
        &store,
        Some(&args.tenant),
        "plugin.configured",
        &format!("plugin:{}", args.name),
        serde_json::json!({
            "enabled": true,
            "pinned_version": settings.pinned_version.as_ref().map(ToString::to_string),
            "config_keys": settings.config.keys().collect::<Vec<_>>(),
            "http_grants": settings.http_grants,
            "breaker_reset": was_switched_off.is_some(),
        }),
    )
    .await?;
    println!(
        "enabled {} for tenant '{}' (version {})",
        args.name,
        args.tenant,
        settings.pinned_version.as_ref().map_or_else(
            || format!("newest, now {}", plugin.manifest.plugin.version),
            ToString::to_string
        )
    );
    if let Some(trip) = was_switched_off {
        println!(
            "  switched back on after its breaker tripped: {}",
            trip.reason
        );
    }
    let missing: Vec<&str> = plugin
        .manifest
        .config
        .iter()
        .filter(|(key, spec)| {
            spec.required && spec.default.is_none() && !settings.config.contains_key(*key)
        })
        .map(|(key, _)| key.as_str())
        .collect();
    if !missing.is_empty() {
        println!(
            "  warning: required config not set yet: {}",
            missing.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn disable(context: &Context, args: DisableArgs) -> anyhow::Result<ExitCode> {
    let store = context.open_store().await?;
    let Some(mut settings) = store.tenant_plugin(&args.tenant, &args.name).await? else {
        println!("{} was not enabled for tenant '{}'", args.name, args.tenant);
        return Ok(ExitCode::SUCCESS);
    };
    settings.enabled = false;
    store.put_tenant_plugin(&settings).await?;
    audit(
        &store,
        Some(&args.tenant),
        "plugin.configured",
        &format!("plugin:{}", args.name),
        serde_json::json!({ "enabled": false }),
    )
    .await?;
    println!("disabled {} for tenant '{}'", args.name, args.tenant);
    Ok(ExitCode::SUCCESS)
}
