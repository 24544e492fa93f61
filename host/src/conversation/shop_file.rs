//! A shop described in one TOML file (tenant, bots, their texts and FAQ files), applied to
//! the store idempotently: `loa tenant apply shop.toml` creates it the first time and
//! updates it after, keeping conversations and the bots' widget secrets.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::{Bot, BotSettings, Channel, ChannelKind, FaqEntry, Tenant};
use super::pipeline::now_ms;
use crate::store::{Store, StoreError, new_id};

/// Why a shop file could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ShopFileError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The shop file is not valid.
    #[error("invalid shop file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A FAQ line is not valid.
    #[error("{path}:{line}: {message}")]
    Faq {
        /// The FAQ file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopFile {
    /// The tenant.
    pub tenant: TenantSection,
    /// Its bots.
    #[serde(default)]
    pub bots: Vec<BotSection>,
}

/// `[tenant]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSection {
    /// Short id (`may`).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// One `[[bots]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSection {
    /// Public id, the widget's `data-bot`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether the bot has a web widget. Default true.
    #[serde(default = "yes")]
    pub widget: bool,
    /// FAQ file (JSON lines `{"id","question","answer","variants"?,"tags"?}`), relative
    /// to the shop file.
    #[serde(default)]
    pub faq: Option<PathBuf>,
    /// Languages, texts, thresholds, plugins.
    #[serde(default)]
    pub settings: BotSettings,
}

fn yes() -> bool {
    true
}

/// What applying did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The tenant id.
    pub tenant_id: String,
    /// (bot id, FAQ entries, has a widget) per bot.
    pub bots: Vec<(String, usize, bool)>,
}

/// Reads `path` and applies it.
pub async fn apply(store: &dyn Store, path: &Path) -> Result<Applied, ShopFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ShopFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: ShopFile = toml::from_str(&text).map_err(|error| ShopFileError::Parse {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    // Read every FAQ before writing anything: a bad line leaves the store untouched.
    let mut faqs = Vec::new();
    for bot in &file.bots {
        faqs.push(match &bot.faq {
            Some(faq) => Some(read_faq(&base.join(faq))?),
            None => None,
        });
    }
    let now = now_ms();
    let tenant_id = file.tenant.id.clone();
    let existing_tenant = store.tenant(&tenant_id).await?;
    store
        .put_tenant(&Tenant {
            id: tenant_id.clone(),
            name: file.tenant.name.clone(),
            created_at_ms: existing_tenant.map_or(now, |tenant| tenant.created_at_ms),
        })
        .await?;
    let mut applied = Applied {
        tenant_id: tenant_id.clone(),
        bots: Vec::new(),
    };
    for (section, faq) in file.bots.into_iter().zip(faqs) {
        let existing = store.bot(&section.id).await?;
        let bot = Bot {
            id: section.id.clone(),
            tenant_id: tenant_id.clone(),
            name: section.name,
            settings: section.settings,
            // Kept across applies: shops sign their users with it.
            widget_secret: existing
                .as_ref()
                .map(|bot| bot.widget_secret.clone())
                .unwrap_or_else(|| new_id("ws")),
            created_at_ms: existing.map_or(now, |bot| bot.created_at_ms),
        };
        store.put_bot(&bot).await?;
        let widget_id = Channel::widget_id(&bot.id);
        let created_at_ms = store
            .channel(&widget_id)
            .await?
            .map_or(now, |channel| channel.created_at_ms);
        store
            .put_channel(&Channel {
                id: widget_id,
                tenant_id: tenant_id.clone(),
                bot_id: bot.id.clone(),
                kind: ChannelKind::Widget,
                secrets: Default::default(),
                enabled: section.widget,
                created_at_ms,
            })
            .await?;
        let faq_count = match faq {
            Some(entries) => {
                store.replace_faq(&tenant_id, &bot.id, &entries).await?;
                entries.len()
            }
            None => store.faq_entries(&tenant_id, &bot.id).await?.len(),
        };
        applied.bots.push((bot.id, faq_count, section.widget));
    }
    Ok(applied)
}

/// Reads a FAQ file of JSON lines; blank lines are skipped.
pub fn read_faq(path: &Path) -> Result<Vec<FaqEntry>, ShopFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ShopFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut entries: Vec<FaqEntry> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let faq_error = |message: String| ShopFileError::Faq {
            path: path.to_owned(),
            line: index + 1,
            message,
        };
        let entry: FaqEntry =
            serde_json::from_str(line).map_err(|error| faq_error(error.to_string()))?;
        if entry.id.trim().is_empty()
            || entry.question.trim().is_empty()
            || entry.answer.trim().is_empty()
        {
            return Err(faq_error(
                "id, question and answer must not be empty".into(),
            ));
        }
        if entries.iter().any(|seen| seen.id == entry.id) {
            return Err(faq_error(format!("id '{}' appears twice", entry.id)));
        }
        entries.push(entry);
    }
    Ok(entries)
}
