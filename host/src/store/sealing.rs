//! Secrets at rest in the store: every value of a channel's `secrets`, of a tenant's
//! plugin `config`, a bot's LLM key and every value of a plugin's key-value store (the Zalo
//! OA plugin keeps its access and refresh tokens there) is sealed with the host's
//! [`SecretBox`] on write and opened on read, so a copy of the database (a backup, a dump,
//! a stolen disk) holds no usable secret. Key-value keys stay in the clear: the store lists
//! them by prefix in SQL, and they name things rather than hold secrets.
//!
//! Values written before encryption was configured (no `enc:v1:` or `enc:v1b:` prefix)
//! still read as they are, and are sealed on their next write.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{KvScope, StoreError, TenantPluginSettings};
use crate::auth::SecretBox;
use crate::conversation::model::{Bot, Channel};

/// The store's sealing of secret values: with a [`SecretBox`], or none (values stay as
/// given, and a sealed value cannot be read).
#[derive(Clone, Default)]
pub(crate) struct SecretValues {
    secrets: Option<Arc<SecretBox>>,
}

impl SecretValues {
    /// Seals with `secrets`.
    pub(crate) fn new(secrets: Arc<SecretBox>) -> Self {
        Self {
            secrets: Some(secrets),
        }
    }

    fn seal_map(
        &self,
        values: &BTreeMap<String, String>,
        whose: &dyn Fn() -> String,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let Some(secrets) = &self.secrets else {
            return Ok(values.clone());
        };
        values
            .iter()
            .map(|(name, value)| {
                let sealed = secrets.seal(value).map_err(|error| {
                    StoreError::Backend(format!("{} '{name}': {error}", whose()))
                })?;
                Ok((name.clone(), sealed))
            })
            .collect()
    }

    fn open_map(
        &self,
        values: BTreeMap<String, String>,
        whose: &dyn Fn() -> String,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        values
            .into_iter()
            .map(|(name, stored)| {
                let opened = match &self.secrets {
                    Some(secrets) => secrets.open(&stored).map_err(|error| {
                        StoreError::Corrupt(format!("{} '{name}': {error}", whose()))
                    })?,
                    None if SecretBox::is_sealed(&stored) => {
                        return Err(no_master_key(&whose(), &name));
                    }
                    None => stored,
                };
                Ok((name, opened))
            })
            .collect()
    }

    /// `channel` as stored: its secrets sealed.
    pub(crate) fn seal_channel(&self, channel: &Channel) -> Result<Channel, StoreError> {
        let whose = || format!("channel '{}' secret", channel.id);
        Ok(Channel {
            secrets: self.seal_map(&channel.secrets, &whose)?,
            ..channel.clone()
        })
    }

    /// A stored channel with its secrets opened.
    pub(crate) fn open_channel(&self, mut channel: Channel) -> Result<Channel, StoreError> {
        let id = channel.id.clone();
        let whose = move || format!("channel '{id}' secret");
        channel.secrets = self.open_map(std::mem::take(&mut channel.secrets), &whose)?;
        Ok(channel)
    }

    /// `bot` as stored: its LLM key sealed.
    pub(crate) fn seal_bot(&self, bot: &Bot) -> Result<Bot, StoreError> {
        let mut bot = bot.clone();
        if let Some(llm) = &mut bot.settings.llm
            && let Some(key) = llm.api_key.take()
        {
            let whose = || format!("bot '{}' LLM", bot.id);
            let sealed = self.seal_map(&BTreeMap::from([("api_key".to_owned(), key)]), &whose)?;
            llm.api_key = sealed.into_values().next();
        }
        Ok(bot)
    }

    /// A stored bot with its LLM key opened.
    pub(crate) fn open_bot(&self, mut bot: Bot) -> Result<Bot, StoreError> {
        let id = bot.id.clone();
        if let Some(llm) = &mut bot.settings.llm
            && let Some(key) = llm.api_key.take()
        {
            let whose = move || format!("bot '{id}' LLM");
            let opened = self.open_map(BTreeMap::from([("api_key".to_owned(), key)]), &whose)?;
            llm.api_key = opened.into_values().next();
        }
        Ok(bot)
    }

    /// `settings` as stored: its config values sealed.
    pub(crate) fn seal_settings(
        &self,
        settings: &TenantPluginSettings,
    ) -> Result<TenantPluginSettings, StoreError> {
        let whose = || {
            format!(
                "tenant '{}' plugin '{}' config",
                settings.tenant_id, settings.plugin
            )
        };
        Ok(TenantPluginSettings {
            config: self.seal_map(&settings.config, &whose)?,
            ..settings.clone()
        })
    }

    /// Stored settings with their config values opened.
    pub(crate) fn open_settings(
        &self,
        mut settings: TenantPluginSettings,
    ) -> Result<TenantPluginSettings, StoreError> {
        let (tenant, plugin) = (settings.tenant_id.clone(), settings.plugin.clone());
        let whose = move || format!("tenant '{tenant}' plugin '{plugin}' config");
        settings.config = self.open_map(std::mem::take(&mut settings.config), &whose)?;
        Ok(settings)
    }

    /// A plugin's key-value `value` as stored: sealed (borrowed as it is without a key).
    pub(crate) fn seal_kv_value<'a>(
        &self,
        scope: &KvScope,
        key: &str,
        value: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, StoreError> {
        let Some(secrets) = &self.secrets else {
            return Ok(Cow::Borrowed(value));
        };
        let sealed = secrets
            .seal_bytes(value, &kv_context(scope, key))
            .map_err(|error| {
                StoreError::Backend(format!("{} '{key}': {error}", kv_whose(scope)))
            })?;
        Ok(Cow::Owned(sealed))
    }

    /// A stored key-value value opened: plaintext from before the key reads as it is.
    pub(crate) fn open_kv_value(
        &self,
        scope: &KvScope,
        key: &str,
        stored: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        if !SecretBox::is_sealed_bytes(&stored) {
            return Ok(stored);
        }
        match &self.secrets {
            Some(secrets) => secrets
                .open_bytes(&stored, &kv_context(scope, key))
                .map_err(|error| {
                    StoreError::Corrupt(format!("{} '{key}': {error}", kv_whose(scope)))
                }),
            None => Err(no_master_key(&kv_whose(scope), key)),
        }
    }
}

/// What a sealed key-value value is bound to: its tenant, plugin and key (ids hold no NUL,
/// and the key comes last). A value copied to another key's or plugin's row does not open.
fn kv_context(scope: &KvScope, key: &str) -> Vec<u8> {
    format!("{}\0{}\0{key}", scope.tenant_id, scope.plugin).into_bytes()
}

/// Names a plugin's key-value store in errors.
fn kv_whose(scope: &KvScope) -> String {
    format!(
        "tenant '{}' plugin '{}' key-value",
        scope.tenant_id, scope.plugin
    )
}

/// A sealed value read by a loa without a master key: it can only be refused.
fn no_master_key(whose: &str, name: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "{whose} '{name}' is encrypted, and this loa has no master key to open it; \
         configure the key it was sealed with"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::master_key::MasterKey;
    use crate::conversation::model::ChannelKind;

    fn channel(secret: &str) -> Channel {
        Channel {
            id: "may-zalo".into(),
            tenant_id: "may".into(),
            bot_id: "may-bot".into(),
            kind: ChannelKind::Widget,
            secrets: BTreeMap::from([("oa_secret".to_owned(), secret.to_owned())]),
            enabled: true,
            created_at_ms: 0,
        }
    }

    fn sealing(seed: u8) -> SecretValues {
        SecretValues::new(Arc::new(SecretBox::new(&MasterKey::from_bytes([seed; 32]))))
    }

    #[test]
    fn a_sealed_channel_hides_its_secrets_and_opens_to_them() {
        let values = sealing(1);
        let sealed = values.seal_channel(&channel("s3cret")).expect("seal");
        let stored = &sealed.secrets["oa_secret"];
        assert!(SecretBox::is_sealed(stored), "{stored}");
        assert!(!stored.contains("s3cret"));
        assert_eq!(
            values.open_channel(sealed).expect("open"),
            channel("s3cret")
        );
    }

    #[test]
    fn without_a_key_values_pass_through_but_sealed_ones_are_refused() {
        let plain = SecretValues::default();
        let stored = plain.seal_channel(&channel("s3cret")).expect("seal");
        assert_eq!(stored, channel("s3cret"));
        let sealed = sealing(1).seal_channel(&channel("s3cret")).expect("seal");
        let error = plain.open_channel(sealed).expect_err("no key");
        assert!(error.to_string().contains("master key"), "{error}");
    }

    #[test]
    fn a_value_sealed_under_another_key_is_corrupt_not_garbage() {
        let sealed = sealing(1).seal_channel(&channel("s3cret")).expect("seal");
        let error = sealing(2).open_channel(sealed).expect_err("other key");
        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("oa_secret")),
            "{error:?}"
        );
    }

    #[test]
    fn plugin_config_is_sealed_and_opened_per_value() {
        let values = sealing(3);
        let settings = TenantPluginSettings {
            tenant_id: "may".into(),
            plugin: "zalo-oa".into(),
            config: BTreeMap::from([
                ("api_key".to_owned(), "k-123".to_owned()),
                ("oa_id".to_owned(), "42".to_owned()),
            ]),
            ..TenantPluginSettings::default()
        };
        let sealed = values.seal_settings(&settings).expect("seal");
        assert!(
            sealed
                .config
                .values()
                .all(|value| SecretBox::is_sealed(value))
        );
        assert_eq!(values.open_settings(sealed).expect("open"), settings);
    }

    fn kv_scope() -> KvScope {
        KvScope {
            tenant_id: "may".into(),
            plugin: "zalo-oa".into(),
        }
    }

    #[test]
    fn a_sealed_kv_value_hides_the_plaintext_and_opens_to_it() {
        let values = sealing(4);
        let sealed = values
            .seal_kv_value(&kv_scope(), "token", b"rt-5521")
            .expect("seal")
            .into_owned();
        assert!(SecretBox::is_sealed_bytes(&sealed));
        assert!(!sealed.windows(7).any(|window| window == b"rt-5521"));
        assert_eq!(
            values
                .open_kv_value(&kv_scope(), "token", sealed)
                .expect("open"),
            b"rt-5521"
        );
        assert_eq!(
            values
                .open_kv_value(&kv_scope(), "token", b"legacy".to_vec())
                .expect("plaintext from before the key"),
            b"legacy"
        );
    }

    #[test]
    fn without_a_key_kv_values_pass_through_but_sealed_ones_are_refused() {
        let plain = SecretValues::default();
        let stored = plain
            .seal_kv_value(&kv_scope(), "token", b"rt-5521")
            .expect("seal");
        assert!(matches!(stored, Cow::Borrowed(b"rt-5521")));
        let sealed = sealing(4)
            .seal_kv_value(&kv_scope(), "token", b"rt-5521")
            .expect("seal")
            .into_owned();
        let error = plain
            .open_kv_value(&kv_scope(), "token", sealed.clone())
            .expect_err("no key");
        assert!(
            matches!(&error, StoreError::Corrupt(message)
                if message.contains("master key") && message.contains("'token'")),
            "{error:?}"
        );
        let error = sealing(5)
            .open_kv_value(&kv_scope(), "token", sealed)
            .expect_err("other key");
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    }
}
