//! `plugin.toml`: what a plugin is, what it asks for, and its limits, validated on load.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::PluginLoadError;

/// The world a plugin implements, which decides the exports it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// World `tool-provider`, exports `loa:plugin/tools`.
    Tool,
    /// World `middleware`, exports `loa:plugin/hooks`.
    Middleware,
    /// World `channel-adapter`, exports `loa:plugin/channel`.
    Channel,
}

impl PluginKind {
    /// The WIT world of this kind.
    pub fn world(self) -> &'static str {
        match self {
            Self::Tool => "tool-provider",
            Self::Middleware => "middleware",
            Self::Channel => "channel-adapter",
        }
    }

    /// The `loa:plugin` interface a component of this kind must export.
    pub fn exported_interface(self) -> &'static str {
        match self {
            Self::Tool => "tools",
            Self::Middleware => "hooks",
            Self::Channel => "channel",
        }
    }

    /// The kind whose world exports `interface`, if any.
    pub fn from_exported_interface(interface: &str) -> Option<Self> {
        [Self::Tool, Self::Middleware, Self::Channel]
            .into_iter()
            .find(|kind| kind.exported_interface() == interface)
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tool => "tool",
            Self::Middleware => "middleware",
            Self::Channel => "channel",
        })
    }
}

/// A parsed and validated `plugin.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Identity and kind.
    pub plugin: PluginSection,
    /// What the plugin asks to reach.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Config keys the tenant fills in, by name.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigKey>,
    /// Limits lower than the host's defaults.
    #[serde(default)]
    pub limits: ManifestLimits,
}

/// `[plugin]`: who the plugin is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Lowercase letters, digits and `-`, starting with a letter, at most 64 characters.
    pub name: String,
    /// Semantic version; several versions of one plugin can be installed side by side.
    pub version: semver::Version,
    /// Which world the component implements.
    pub kind: PluginKind,
    /// One line for people choosing plugins.
    #[serde(default)]
    pub description: String,
}

/// `[capabilities]`: what the plugin may reach outside its sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Hosts it may call over HTTP: `api.example.com`, `*.example.com`, or `*` for any host the
    /// tenant grants. A call also needs the tenant's grant.
    #[serde(default)]
    pub http: Vec<String>,
}

/// One `[config.<key>]` entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigKey {
    /// What to fill in, shown to the tenant's admin.
    #[serde(default)]
    pub description: String,
    /// Stored encrypted and never shown again once entered.
    #[serde(default)]
    pub secret: bool,
    /// The plugin cannot work without it.
    #[serde(default)]
    pub required: bool,
    /// Used when the tenant leaves the key empty.
    #[serde(default)]
    pub default: Option<String>,
}

/// `[limits]`: optional, and only ever lower than the host's own limits.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestLimits {
    /// Memory cap in MiB.
    pub memory_mib: Option<u32>,
    /// Deadline per call in ms.
    pub timeout_ms: Option<u64>,
}

impl Manifest {
    /// Reads and validates `plugin.toml` at `path`.
    pub fn load(path: &Path) -> Result<Self, PluginLoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| PluginLoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PluginLoadError> {
        let manifest: Self = toml::from_str(text).map_err(|error| PluginLoadError::Manifest {
            path: path.to_owned(),
            problem: error.to_string(),
        })?;
        manifest
            .validate()
            .map_err(|problem| PluginLoadError::Manifest {
                path: path.to_owned(),
                problem,
            })?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), String> {
        validate_name(&self.plugin.name)?;
        for host in &self.capabilities.http {
            validate_host_pattern(host)?;
        }
        for key in self.config.keys() {
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                return Err(format!(
                    "config key '{key}' may only hold letters, digits, '_', '-' and '.'"
                ));
            }
        }
        if self.limits.memory_mib == Some(0) {
            return Err("limits.memory_mib must be at least 1".into());
        }
        if self.limits.timeout_ms == Some(0) {
            return Err("limits.timeout_ms must be at least 1".into());
        }
        Ok(())
    }

    /// `name@version`, how people refer to one installed plugin.
    pub fn id(&self) -> String {
        format!("{}@{}", self.plugin.name, self.plugin.version)
    }

    /// The config keys marked secret.
    pub fn secret_keys(&self) -> impl Iterator<Item = &str> {
        self.config
            .iter()
            .filter(|(_, key)| key.secret)
            .map(|(name, _)| name.as_str())
    }
}

fn validate_name(name: &str) -> Result<(), String> {
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "plugin.name '{name}' must be 1-64 lowercase letters, digits or '-', starting with a letter"
        ))
    }
}

fn validate_host_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    let well_formed = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':')
        && !host.contains('*');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "capabilities.http entry '{pattern}' is not a host name, '*.domain' or '*'"
        ))
    }
}

/// Where a plugin's files are: `plugin.toml` and `plugin.wasm` side by side.
#[derive(Debug, Clone)]
pub struct PluginDir {
    /// The directory.
    pub root: PathBuf,
}

impl PluginDir {
    /// The directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `<root>/plugin.toml`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("plugin.toml")
    }

    /// `<root>/plugin.wasm`.
    pub fn wasm_path(&self) -> PathBuf {
        self.root.join("plugin.wasm")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, PluginLoadError> {
        Manifest::parse(text, Path::new("plugin.toml"))
    }

    const GOOD: &str = r#"
[plugin]
name = "order-status"
version = "1.2.0"
kind = "tool"
description = "Order lookups"

[capabilities]
http = ["api.example.com", "*.shop.vn"]

[config.api_key]
secret = true
required = true

[limits]
timeout_ms = 500
"#;

    #[test]
    fn well_formed_manifest_parses_with_all_sections() {
        let manifest = parse(GOOD).expect("valid manifest");
        assert_eq!(manifest.id(), "order-status@1.2.0");
        assert_eq!(manifest.plugin.kind, PluginKind::Tool);
        assert_eq!(manifest.secret_keys().collect::<Vec<_>>(), ["api_key"]);
        assert_eq!(manifest.limits.timeout_ms, Some(500));
    }

    #[test]
    fn unknown_field_is_named_in_the_error() {
        let error = parse(&GOOD.replace("description =", "descripton =")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("plugin.toml"), "{message}");
        assert!(message.contains("descripton"), "{message}");
    }

    #[test]
    fn bad_version_is_rejected() {
        let error = parse(&GOOD.replace("1.2.0", "one")).unwrap_err();
        assert!(error.to_string().contains("version"), "{error}");
    }

    #[test]
    fn unknown_kind_is_rejected() {
        let error = parse(&GOOD.replace("kind = \"tool\"", "kind = \"robot\"")).unwrap_err();
        assert!(error.to_string().contains("robot"), "{error}");
    }

    #[test]
    fn uppercase_name_is_rejected() {
        let error = parse(&GOOD.replace("order-status", "Order_Status")).unwrap_err();
        assert!(error.to_string().contains("plugin.name"), "{error}");
    }

    #[test]
    fn wildcard_inside_host_is_rejected() {
        let error = parse(&GOOD.replace("api.example.com", "api.*.com")).unwrap_err();
        assert!(error.to_string().contains("capabilities.http"), "{error}");
    }

    #[test]
    fn zero_limits_are_rejected() {
        let error = parse(&GOOD.replace("timeout_ms = 500", "timeout_ms = 0")).unwrap_err();
        assert!(error.to_string().contains("timeout_ms"), "{error}");
    }

    #[test]
    fn kind_maps_to_its_exported_interface_and_back() {
        for kind in [
            PluginKind::Tool,
            PluginKind::Middleware,
            PluginKind::Channel,
        ] {
            assert_eq!(
                PluginKind::from_exported_interface(kind.exported_interface()),
                Some(kind)
            );
        }
    }
}
