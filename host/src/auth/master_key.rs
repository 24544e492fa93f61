//! The host's master key: 32 bytes from the config, the environment, or a key file the
//! host creates in its data dir on first use; every other key (JWT signing, secrets at
//! rest) is derived from it, so one value is all an operator has to back up.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The environment variable read when the config has no `auth.master_key`.
pub const MASTER_KEY_ENV: &str = "LOA_MASTER_KEY";
/// The key file's name inside the data dir.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Label of the key that signs access tokens.
pub const JWT_KEY_LABEL: &str = "loa/jwt/v1";
/// Label of the key that encrypts secrets at rest.
pub const SECRETS_KEY_LABEL: &str = "loa/secrets/v1";

/// Why the master key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The value is not base64 of exactly 32 bytes. The message names where it came from,
    /// never the value.
    #[error(
        "the master key from {origin} is malformed: {reason} (expected base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
    )]
    Malformed {
        /// Where it came from.
        origin: KeyOrigin,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file could not be created or read.
    #[error("master key file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The key file can be read by other users of the machine.
    #[error(
        "master key file {path} is readable or writable by group or others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The OS random number generator failed.
    #[error("cannot generate random bytes: {0}")]
    Random(String),
}

/// Where a master key came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `auth.master_key` in the config file.
    Config,
    /// The `LOA_MASTER_KEY` environment variable.
    Env,
    /// The key file (read, or created now).
    File(PathBuf),
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config => f.write_str("config field auth.master_key"),
            Self::Env => write!(f, "environment variable {MASTER_KEY_ENV}"),
            Self::File(path) => write!(f, "key file {}", path.display()),
        }
    }
}

/// 32 secret bytes; wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, MasterKeyError> {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key from, in order: `config_key` (`auth.master_key`), `$LOA_MASTER_KEY`, else
    /// `<data_dir>/master.key`, created on first use.
    pub fn load(
        config_key: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, KeyOrigin), MasterKeyError> {
        let env_key = std::env::var(MASTER_KEY_ENV).ok();
        Self::resolve(config_key, env_key.as_deref(), data_dir)
    }

    /// [`MasterKey::load`] with the environment's value passed in (tests do not touch the
    /// process environment). An empty value counts as unset.
    pub fn resolve(
        config_key: Option<&str>,
        env_key: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, KeyOrigin), MasterKeyError> {
        let given = [(config_key, KeyOrigin::Config), (env_key, KeyOrigin::Env)];
        for (value, origin) in given {
            if let Some(value) = value.filter(|value| !value.trim().is_empty()) {
                let key = Self::decode(value, &origin)?;
                return Ok((key, origin));
            }
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let key = super::key_file::read_or_create(&path)?;
        Ok((key, KeyOrigin::File(path)))
    }

    /// Parses base64 of 32 bytes (standard or URL-safe alphabet, padding optional).
    pub(super) fn decode(value: &str, origin: &KeyOrigin) -> Result<Self, MasterKeyError> {
        let malformed = |reason: String| MasterKeyError::Malformed {
            origin: origin.clone(),
            reason,
        };
        let trimmed = value.trim().trim_end_matches('=');
        let normalized: String = trimmed
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(normalized.as_bytes())
                .map_err(|error| malformed(format!("not base64 ({error})")))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| malformed(format!("{} bytes instead of 32", decoded.len())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// HMAC-SHA256 of `label` under the master key: an independent 32-byte key per use, so
    /// a leak of one (say, a JWT signing key in a core dump) does not reveal the others.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.bytes.as_slice())
            .expect("HMAC accepts a key of any length");
        mac.update(label.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// The key in base64, as the key file holds it.
    pub(super) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes.as_slice()))
    }
}

/// Fills `bytes` from the OS random number generator.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), MasterKeyError> {
    getrandom::fill(bytes).map_err(|error| MasterKeyError::Random(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn config_wins_over_env_and_env_over_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let other = STANDARD.encode([9u8; 32]);
        let (from_config, origin) =
            MasterKey::resolve(Some(KEY), Some(&other), dir.path()).expect("config key");
        assert_eq!(origin, KeyOrigin::Config);
        assert_eq!(from_config.bytes[31], 31);
        let (from_env, origin) = MasterKey::resolve(None, Some(&other), dir.path()).expect("env");
        assert_eq!(origin, KeyOrigin::Env);
        assert_eq!(*from_env.bytes, [9u8; 32]);
        assert!(!dir.path().join(MASTER_KEY_FILE).exists());
    }

    #[test]
    fn malformed_keys_name_their_origin_not_their_value() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = MasterKey::resolve(Some("not base64!!"), None, dir.path()).expect_err("bad");
        let message = error.to_string();
        assert!(message.contains("auth.master_key"), "{message}");
        assert!(!message.contains("not base64!!"), "{message}");
        let short = STANDARD.encode([1u8; 16]);
        let error = MasterKey::resolve(None, Some(&short), dir.path()).expect_err("short");
        assert!(error.to_string().contains(MASTER_KEY_ENV), "{error}");
        assert!(error.to_string().contains("16 bytes"), "{error}");
    }

    #[test]
    fn url_safe_and_unpadded_keys_are_accepted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = [0xfbu8; 32];
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let (key, _) = MasterKey::resolve(Some(&url_safe), None, dir.path()).expect("url-safe");
        assert_eq!(*key.bytes, bytes);
    }

    #[test]
    fn derived_keys_differ_per_label_and_per_master() {
        let one = MasterKey::from_bytes([1; 32]);
        let two = MasterKey::from_bytes([2; 32]);
        assert_ne!(*one.derive(JWT_KEY_LABEL), *one.derive(SECRETS_KEY_LABEL));
        assert_ne!(*one.derive(JWT_KEY_LABEL), *two.derive(JWT_KEY_LABEL));
        assert_eq!(*one.derive(JWT_KEY_LABEL), *one.derive(JWT_KEY_LABEL));
        assert_eq!(format!("{one:?}"), "MasterKey(..)");
    }
}
