//! The tenant's configuration for this plugin (the `[config.*]` keys of its `plugin.toml`).

use std::collections::BTreeMap;

use crate::bindings::imports::loa::plugin::host;
use crate::types::PluginError;

/// The value of `key`, secrets included (decrypted); `None` when the tenant did not set it.
pub fn get(key: &str) -> Option<String> {
    host::config_get(key)
}

/// The value of `key`, or `default` when the tenant did not set it or left it blank.
pub fn get_or(key: &str, default: &str) -> String {
    present(get(key)).unwrap_or_else(|| default.to_owned())
}

/// The value of `key`, or [`PluginError::Config`] (`missing config key 'api_key'`) when the
/// tenant did not set it. A blank value counts as missing: it is never a usable setting.
pub fn require(key: &str) -> Result<String, PluginError> {
    present(get(key)).ok_or_else(|| missing(key))
}

/// All of the tenant's configuration for this plugin, by key.
pub fn all() -> BTreeMap<String, String> {
    host::config_all().into_iter().collect()
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.trim().is_empty())
}

fn missing(key: &str) -> PluginError {
    PluginError::Config(format!("missing config key '{key}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_value_counts_as_missing() {
        assert_eq!(present(Some("  ".into())), None);
        assert_eq!(present(Some("v".into())).as_deref(), Some("v"));
    }

    #[test]
    fn missing_key_error_names_the_key() {
        assert_eq!(
            missing("api_key"),
            PluginError::Config("missing config key 'api_key'".into())
        );
    }
}
