//! Opaque credentials: refresh tokens (`loa_rt_…`) and API keys (`loa_ak_…_…`). Both are
//! random, shown to their owner once, and stored only as SHA-256 hashes; the recognisable
//! prefixes let secret scanners (and people) tell what a leaked string is.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::master_key::{MasterKeyError, fill_random};

/// What every refresh token starts with.
pub const REFRESH_TOKEN_PREFIX: &str = "loa_rt_";
/// What every API key starts with; the key id (`ak_…`) follows `loa_`.
pub const API_KEY_PREFIX: &str = "loa_ak_";
/// Characters of a key shown in lists ([`crate::store::ApiKey::prefix`]).
pub const API_KEY_DISPLAY_CHARS: usize = 12;

/// Hex digits of the random part of a key id (13 bytes: unique without coordination).
const KEY_ID_HEX: usize = 26;
/// Hex digits of a key's secret (32 bytes).
const KEY_SECRET_HEX: usize = 64;

/// SHA-256 of `value`, hex: how refresh tokens and key secrets are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Whether two stored hashes are equal, in time that does not depend on where they differ.
pub fn hashes_match(left: &str, right: &str) -> bool {
    left.len() == right.len() && bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

/// A new refresh token (`loa_rt_` + 32 random bytes, base64url) and its stored hash.
pub fn new_refresh_token() -> Result<(String, String), MasterKeyError> {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes)?;
    let token = format!("{REFRESH_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = sha256_hex(&token);
    Ok((token, hash))
}

/// Whether `token` looks like a refresh token at all (checked before any store lookup).
pub fn is_refresh_token(token: &str) -> bool {
    token
        .strip_prefix(REFRESH_TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == 43 && URL_SAFE_NO_PAD.decode(rest).is_ok())
}

/// A new API key, as given to its owner once, and what is stored of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// `ak_` + 26 hex digits: the stored id and the public part of the key.
    pub id: String,
    /// The whole key: `loa_` + id + `_` + 64 hex digits of secret.
    pub full_key: String,
    /// Its first [`API_KEY_DISPLAY_CHARS`] characters, for lists.
    pub prefix: String,
    /// SHA-256 (hex) of the secret part.
    pub secret_hash: String,
}

/// Makes a new API key. Id and secret are hex, so the `_` before the secret is the last one
/// and the id parses back out unambiguously ([`parse_api_key`]).
pub fn new_api_key() -> Result<NewApiKey, MasterKeyError> {
    let mut id = [0u8; KEY_ID_HEX / 2];
    let mut secret = [0u8; KEY_SECRET_HEX / 2];
    fill_random(&mut id)?;
    fill_random(&mut secret)?;
    let id = format!("ak_{}", hex::encode(id));
    let secret = hex::encode(secret);
    let full_key = format!("loa_{id}_{secret}");
    Ok(NewApiKey {
        prefix: full_key[..API_KEY_DISPLAY_CHARS].to_owned(),
        secret_hash: sha256_hex(&secret),
        id,
        full_key,
    })
}

/// The key id and the secret of a presented API key; `None` when it is not shaped like one
/// (no store lookup is needed to refuse it).
pub fn parse_api_key(full_key: &str) -> Option<(&str, &str)> {
    let rest = full_key.strip_prefix("loa_")?;
    let (id, secret) = rest.rsplit_once('_')?;
    let id_hex = id.strip_prefix("ak_")?;
    let is_hex = |text: &str, len: usize| {
        text.len() == len
            && text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    };
    (is_hex(id_hex, KEY_ID_HEX) && is_hex(secret, KEY_SECRET_HEX)).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_prefixed_random_and_stored_hashed() {
        let (token, hash) = new_refresh_token().expect("token");
        assert!(token.starts_with("loa_rt_"), "{token}");
        assert!(is_refresh_token(&token));
        assert_eq!(hash, sha256_hex(&token));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token[7..]));
        assert_ne!(token, new_refresh_token().expect("token").0);
        for bad in ["", "loa_rt_", "loa_rt_short", "loa_ak_x", &token[1..]] {
            assert!(!is_refresh_token(bad), "{bad}");
        }
    }

    #[test]
    fn api_key_parses_back_to_its_id_and_secret() {
        let key = new_api_key().expect("key");
        assert!(key.full_key.starts_with(API_KEY_PREFIX), "{}", key.full_key);
        assert_eq!(key.id.len(), 3 + KEY_ID_HEX);
        assert_eq!(key.prefix, key.full_key[..12]);
        let (id, secret) = parse_api_key(&key.full_key).expect("parses");
        assert_eq!(id, key.id);
        assert!(hashes_match(&sha256_hex(secret), &key.secret_hash));
        assert!(!key.full_key.contains(&key.secret_hash));
    }

    #[test]
    fn misshapen_api_keys_do_not_parse() {
        let key = new_api_key().expect("key").full_key;
        let upper = key.to_uppercase();
        let truncated = &key[..key.len() - 1];
        let extra = format!("{key}0");
        let swapped = key.replacen("loa_ak_", "loa_rt_", 1);
        for bad in [
            "",
            "loa_",
            "loa_ak__",
            upper.as_str(),
            truncated,
            &extra,
            &swapped,
        ] {
            assert_eq!(parse_api_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn hash_comparison_needs_equal_length_and_content() {
        let hash = sha256_hex("secret");
        assert!(hashes_match(&hash, &sha256_hex("secret")));
        assert!(!hashes_match(&hash, &sha256_hex("secreT")));
        assert!(!hashes_match(&hash, &hash[..63]));
        assert!(!hashes_match("", &hash));
    }
}
