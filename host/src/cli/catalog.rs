//! `loa catalog import FILE --tenant T`: replaces a tenant's product catalog, which the
//! `catalog` tool plugin reads from its key-value store (`product/<id>` and `catalog/meta`,
//! layout in `plugins/catalog/README.md`). The file is checked whole before anything is
//! written.

mod products_file;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use loa::store::{KvQuota, KvScope};

use super::Context;
use super::progress::SyncProgress;
use super::user::audit;

/// The plugin whose key-value scope holds the catalog (its manifest name).
const PLUGIN: &str = "catalog";
/// Key prefix of one product: `product/<id>` → the product as JSON.
const PRODUCT_PREFIX: &str = "product/";
/// Key of the import's summary: `{"count": n, "imported_at_ms": ms}`.
const META_KEY: &str = "catalog/meta";

/// Catalog commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CatalogCommand {
    /// Replace a tenant's product catalog (read by the `catalog` plugin) with a
    /// products.json file; products not in the file are removed. Nothing is written when
    /// the file has a problem.
    Import {
        /// `products.json`: `{"products": [{"id", "name", "category", "price", "description"?,
        /// "tags"?, "url"?, "variants": [{"sku", "size"?, "colour"?, "stock", "price"?}]}]}`
        /// (see `samples/demo-shop/products.json`).
        file: PathBuf,
        /// The tenant (shop).
        #[arg(long)]
        tenant: String,
    },
}

pub(crate) async fn run(context: &Context, command: CatalogCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogCommand::Import { file, tenant } => import(context, &file, &tenant).await,
    }
}

async fn import(context: &Context, file: &Path, tenant: &str) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the catalog file {}", file.display()))?;
    let products = match products_file::parse(&text) {
        Ok(products) => products,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{}: {problem}", file.display());
            }
            bail!(
                "{} problem(s) in {}: nothing imported",
                problems.len(),
                file.display()
            );
        }
    };
    let store = context.open_store().await?;
    if store.tenant(tenant).await?.is_none() {
        bail!("no tenant '{tenant}' (create it with `loa tenant create` or `loa tenant apply`)");
    }
    let scope = KvScope {
        tenant_id: tenant.to_owned(),
        plugin: PLUGIN.to_owned(),
    };
    // The plugin sandbox's own quota, so an import never stores what a plugin could not.
    let plugins = &context.config.plugins;
    let quota = KvQuota {
        max_keys: plugins.kv_max_keys,
        max_value_bytes: plugins.kv_max_value_kib as usize * 1024,
        ..KvQuota::default()
    };
    let mut values = Vec::with_capacity(products.len());
    for product in &products {
        let key = format!("{PRODUCT_PREFIX}{}", product.id);
        let value = serde_json::to_vec(product).context("encoding a product")?;
        quota
            .check_key(&key)
            .and_then(|()| quota.check_value(&key, &value))
            .with_context(|| format!("product '{}' cannot be stored", product.id))?;
        values.push((key, value));
    }
    let list_limit = u32::try_from(quota.max_keys).unwrap_or(u32::MAX);
    let before: BTreeSet<String> = store
        .kv_list_prefix(&scope, PRODUCT_PREFIX, list_limit)
        .await?
        .into_iter()
        .collect();
    let after: BTreeSet<&str> = values.iter().map(|(key, _)| key.as_str()).collect();
    let removed: Vec<&String> = before
        .iter()
        .filter(|key| !after.contains(key.as_str()))
        .collect();
    // New products are written before old ones go (a bot answering meanwhile never misses
    // a product that stays): at the peak the scope holds both, and the meta key.
    let peak = values.len() + removed.len() + 1;
    if peak as u64 > quota.max_keys {
        bail!(
            "the catalog would need {peak} keys while importing, over the plugin key quota of {} \
             (plugins.kv_max_keys)",
            quota.max_keys
        );
    }

    let progress = SyncProgress::with_unit("importing", "products", true);
    let total = values.len() + removed.len();
    for (done, (key, value)) in values.iter().enumerate() {
        store
            .kv_set(&scope, key, value, &quota)
            .await
            .with_context(|| format!("writing {key}"))?;
        progress.update(done + 1, total);
    }
    for (done, key) in removed.iter().enumerate() {
        store
            .kv_delete(&scope, key)
            .await
            .with_context(|| format!("deleting {key}"))?;
        progress.update(values.len() + done + 1, total);
    }
    let meta = serde_json::json!({
        "count": products.len(),
        "imported_at_ms": loa::conversation::pipeline::now_ms(),
    });
    store
        .kv_set(&scope, META_KEY, meta.to_string().as_bytes(), &quota)
        .await
        .with_context(|| format!("writing {META_KEY}"))?;
    progress.finish();
    audit(
        &store,
        Some(tenant),
        "catalog.imported",
        &format!("plugin:{PLUGIN}"),
        serde_json::json!({"products": products.len(), "removed": removed.len()}),
    )
    .await?;

    println!(
        "imported {} products ({} removed) into the catalog of tenant '{tenant}'",
        products.len(),
        removed.len()
    );
    let enabled = store
        .tenant_plugin(tenant, PLUGIN)
        .await?
        .is_some_and(|settings| settings.enabled);
    if !enabled {
        println!(
            "  note: the {PLUGIN} plugin is not enabled for tenant '{tenant}' yet: \
             `loa plugin enable {PLUGIN} --tenant {tenant}`"
        );
    }
    Ok(ExitCode::SUCCESS)
}
