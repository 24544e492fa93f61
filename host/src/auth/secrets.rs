//! Secrets at rest (plugin API keys, channel tokens, plugin key-value values): sealed with
//! ChaCha20-Poly1305 under a key derived from the master key, stored as
//! `enc:v1:<base64(nonce || ciphertext)>` (text) or `enc:v1b:` followed by the raw nonce and
//! ciphertext (bytes), and masked in every response: once entered, a secret is never shown
//! again.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use super::master_key::{MasterKey, SECRETS_KEY_LABEL, fill_random};

/// What a sealed value starts with. The version lets a later scheme coexist with this one.
pub const SEALED_PREFIX: &str = "enc:v1:";
/// What a sealed byte value starts with. Distinct from [`SEALED_PREFIX`]: the rest is the raw
/// nonce and ciphertext, not base64, since a byte column needs no text encoding (and base64
/// would cost a third more space).
pub const SEALED_BYTES_PREFIX: &[u8] = b"enc:v1b:";
/// What a response shows instead of a secret, whatever its length (the length is a hint).
pub const MASKED: &str = "********";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The stored value is not `enc:v1:` followed by base64 of a nonce and a ciphertext (or
    /// `enc:v1b:` followed by them).
    #[error("stored secret is malformed: {0}")]
    Malformed(&'static str),
    /// The value was changed, or sealed under another master key.
    #[error("stored secret cannot be decrypted: it was altered or sealed under another master key")]
    Undecryptable,
    /// The OS random number generator or the cipher failed.
    #[error("cannot seal secret: {0}")]
    Seal(String),
}

/// Seals and opens secrets at rest. Cheap to clone; share one per host.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box keyed by the `loa/secrets/v1` subkey of `master`.
    pub fn new(master: &MasterKey) -> Self {
        let key = master.derive(SECRETS_KEY_LABEL);
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key.as_slice())),
        }
    }

    /// Encrypts `plaintext` with a fresh random nonce: sealing the same value twice gives
    /// two different strings.
    pub fn seal(&self, plaintext: &str) -> Result<String, SecretError> {
        let sealed = self.encrypt(plaintext.as_bytes(), b"")?;
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(sealed)))
    }

    /// Decrypts a value written by [`SecretBox::seal`]. A value without the `enc:v1:`
    /// prefix was stored before encryption existed and is returned as it is.
    pub fn open(&self, stored: &str) -> Result<String, SecretError> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let sealed = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed("not base64 after enc:v1:"))?;
        let plaintext = self.decrypt(&sealed, b"")?;
        // Only seal() writes under this key, and it writes UTF-8.
        String::from_utf8(plaintext).map_err(|_| SecretError::Malformed("not UTF-8"))
    }

    /// Encrypts the bytes `plaintext` with a fresh random nonce, as `enc:v1b:` followed by
    /// the nonce and the ciphertext: sealing the same value twice gives two different results.
    /// `context` (where the value is kept) is authenticated, not stored: the result opens
    /// only with the same context, so a sealed value copied to another place is refused.
    pub fn seal_bytes(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        let sealed = self.encrypt(plaintext, context)?;
        let mut stored = Vec::with_capacity(SEALED_BYTES_PREFIX.len() + sealed.len());
        stored.extend_from_slice(SEALED_BYTES_PREFIX);
        stored.extend_from_slice(&sealed);
        Ok(stored)
    }

    /// Decrypts bytes written by [`SecretBox::seal_bytes`] with the same `context`. Bytes
    /// without the `enc:v1b:` prefix were stored before encryption existed and are returned
    /// as they are.
    pub fn open_bytes(&self, stored: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        match stored.strip_prefix(SEALED_BYTES_PREFIX) {
            Some(sealed) => self.decrypt(sealed, context),
            None => Ok(stored.to_vec()),
        }
    }

    /// `nonce || ciphertext` of `plaintext` under a fresh random nonce, authenticating
    /// `context` (empty for the string form, whose format predates it).
    fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce).map_err(|error| SecretError::Seal(error.to_string()))?;
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| SecretError::Seal("value too long".to_owned()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The plaintext of `nonce || ciphertext`, checking its tag over it and `context`.
    fn decrypt(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed("too short for a nonce and a tag"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| SecretError::Undecryptable)
    }

    /// Whether `stored` is a sealed value (rather than plaintext from before encryption).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// Whether `stored` is sealed bytes (rather than plaintext from before encryption).
    pub fn is_sealed_bytes(stored: &[u8]) -> bool {
        stored.starts_with(SEALED_BYTES_PREFIX)
    }
}

/// What to show in place of a secret: always [`MASKED`], never a part of the value.
pub fn mask(_secret: &str) -> &'static str {
    MASKED
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the sealed bytes of these tests are kept.
    const CONTEXT: &[u8] = b"may\0zalo-oa\0token";

    fn secret_box(seed: u8) -> SecretBox {
        SecretBox::new(&MasterKey::from_bytes([seed; 32]))
    }

    #[test]
    fn sealed_value_opens_to_the_plaintext_and_hides_it() {
        let secrets = secret_box(7);
        let sealed = secrets.seal("zalo-oa-token-1234 ✓").expect("seal");
        assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
        assert!(!sealed.contains("zalo"), "{sealed}");
        assert!(SecretBox::is_sealed(&sealed));
        assert_eq!(secrets.open(&sealed).expect("open"), "zalo-oa-token-1234 ✓");
        assert_eq!(
            secrets
                .open(&secrets.seal("").expect("seal"))
                .expect("open"),
            ""
        );
    }

    #[test]
    fn same_value_seals_differently_each_time() {
        let secrets = secret_box(7);
        assert_ne!(
            secrets.seal("x").expect("seal"),
            secrets.seal("x").expect("seal")
        );
    }

    #[test]
    fn plaintext_from_before_encryption_reads_as_is() {
        assert_eq!(
            secret_box(7).open("legacy-token").expect("open"),
            "legacy-token"
        );
        assert!(!SecretBox::is_sealed("legacy-token"));
    }

    #[test]
    fn tampered_value_is_refused() {
        let secrets = secret_box(7);
        let sealed = secrets.seal("secret").expect("seal");
        let mut bytes = STANDARD
            .decode(&sealed[SEALED_PREFIX.len()..])
            .expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{SEALED_PREFIX}{}", STANDARD.encode(&bytes));
        assert!(matches!(
            secrets.open(&tampered),
            Err(SecretError::Undecryptable)
        ));
        bytes[last] ^= 1;
        bytes[0] ^= 1; // the nonce is authenticated too
        let tampered = format!("{SEALED_PREFIX}{}", STANDARD.encode(&bytes));
        assert!(matches!(
            secrets.open(&tampered),
            Err(SecretError::Undecryptable)
        ));
    }

    #[test]
    fn another_master_key_cannot_open() {
        let sealed = secret_box(7).seal("secret").expect("seal");
        let error = secret_box(8).open(&sealed).expect_err("wrong key");
        assert!(matches!(error, SecretError::Undecryptable), "{error}");
    }

    #[test]
    fn malformed_sealed_values_are_errors_not_panics() {
        let secrets = secret_box(7);
        for stored in [
            "enc:v1:",
            "enc:v1:!!!",
            "enc:v1:AAAA",
            "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                matches!(secrets.open(stored), Err(SecretError::Malformed(_))),
                "{stored}"
            );
        }
    }

    #[test]
    fn sealed_bytes_open_to_the_plaintext_and_hide_it() {
        let secrets = secret_box(7);
        let token = b"{\"refresh_token\":\"zalo-rt-1234\"}\x00\xff";
        let sealed = secrets.seal_bytes(token, CONTEXT).expect("seal");
        assert!(sealed.starts_with(SEALED_BYTES_PREFIX));
        assert!(SecretBox::is_sealed_bytes(&sealed));
        assert!(!sealed.windows(5).any(|window| window == b"zalo-"));
        assert_eq!(secrets.open_bytes(&sealed, CONTEXT).expect("open"), token);
        let empty = secrets.seal_bytes(b"", CONTEXT).expect("seal");
        assert_eq!(secrets.open_bytes(&empty, CONTEXT).expect("open"), b"");
        assert_ne!(
            secrets.seal_bytes(token, CONTEXT).expect("seal"),
            sealed,
            "fresh nonce each time"
        );
    }

    #[test]
    fn plaintext_bytes_from_before_encryption_read_as_they_are() {
        let legacy = b"legacy-token\x00\x01";
        assert_eq!(
            secret_box(7).open_bytes(legacy, CONTEXT).expect("open"),
            legacy
        );
        assert!(!SecretBox::is_sealed_bytes(legacy));
        // A sealed string is not sealed bytes: each form has its own prefix.
        let sealed_text = secret_box(7).seal("x").expect("seal");
        assert!(!SecretBox::is_sealed_bytes(sealed_text.as_bytes()));
    }

    #[test]
    fn tampered_bytes_are_refused() {
        let secrets = secret_box(7);
        let sealed = secrets.seal_bytes(b"secret", CONTEXT).expect("seal");
        for index in [SEALED_BYTES_PREFIX.len(), sealed.len() - 1] {
            // The first byte after the prefix is the nonce, the last the tag.
            let mut tampered = sealed.clone();
            tampered[index] ^= 1;
            assert!(
                matches!(
                    secrets.open_bytes(&tampered, CONTEXT),
                    Err(SecretError::Undecryptable)
                ),
                "byte {index}"
            );
        }
        assert!(matches!(
            secret_box(8).open_bytes(&sealed, CONTEXT),
            Err(SecretError::Undecryptable)
        ));
        assert!(
            matches!(
                secrets.open_bytes(&sealed, b"may\0zalo-oa\0other-key"),
                Err(SecretError::Undecryptable)
            ),
            "bytes sealed for one place do not open in another"
        );
        let mut short = SEALED_BYTES_PREFIX.to_vec();
        short.extend_from_slice(&[0; NONCE_LEN + TAG_LEN - 1]);
        assert!(matches!(
            secrets.open_bytes(&short, CONTEXT),
            Err(SecretError::Malformed(_))
        ));
    }

    #[test]
    fn mask_never_reveals_any_part() {
        assert_eq!(mask("sk-live-abcdef"), "********");
        assert_eq!(mask("a"), MASKED);
        assert_eq!(format!("{:?}", secret_box(1)), "SecretBox(..)");
    }
}
