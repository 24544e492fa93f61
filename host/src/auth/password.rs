//! Passwords: argon2id hashes (PHC strings), the password policy, and a dummy check that
//! costs as much as a real one, so an unknown email cannot be told apart by timing.
//!
//! Hashing takes tens of milliseconds of CPU on purpose: callers on the async runtime run
//! these functions in `spawn_blocking`.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::master_key::fill_random;

/// Longest password accepted, in bytes: argon2 would take any length, but a megabyte
/// "password" is a denial-of-service attempt, not a secret.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a new password is refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer characters than the configured minimum.
    #[error("password is too short: at least {min} characters")]
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// More than [`MAX_PASSWORD_BYTES`].
    #[error("password is too long: at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Only spaces, tabs or newlines.
    #[error("password must not be only whitespace")]
    Blank,
}

/// Why hashing or verifying failed for a reason other than a wrong password.
#[derive(Debug, thiserror::Error)]
pub enum PasswordHashError {
    /// The stored hash is not a PHC string argon2 understands.
    #[error("stored password hash is unreadable: {0}")]
    Unreadable(String),
    /// Hashing failed (no randomness for the salt, or argon2 refused its input).
    #[error("cannot hash password: {0}")]
    Hashing(String),
}

/// Checks a new password against the policy: at least `min_chars` characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes, not only whitespace.
pub fn check_policy(password: &str, min_chars: usize) -> Result<(), PasswordPolicyError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordPolicyError::TooLong);
    }
    if password.trim().is_empty() {
        return Err(PasswordPolicyError::Blank);
    }
    if password.chars().count() < min_chars {
        return Err(PasswordPolicyError::TooShort { min: min_chars });
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh random salt, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> Result<String, PasswordHashError> {
    let mut salt = [0u8; 16];
    fill_random(&mut salt).map_err(|error| PasswordHashError::Hashing(error.to_string()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| PasswordHashError::Hashing(error.to_string()))?;
    // Default parameters are OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordHashError::Hashing(error.to_string()))
}

/// Whether `password` matches `stored` (a PHC string). The parameters come from the stored
/// string, so hashes made with older parameters still verify. An empty `stored` (an
/// invitation not yet accepted) matches nothing, after the same work as a real check.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordHashError> {
    if stored.is_empty() {
        verify_dummy(password);
        return Ok(false);
    }
    let parsed = PasswordHash::new(stored)
        .map_err(|error| PasswordHashError::Unreadable(error.to_string()))?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        // Parses as PHC but holds no hash: it would never match, and that is a data problem.
        return Err(PasswordHashError::Unreadable("no salt or hash".to_owned()));
    }
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(error) => Err(PasswordHashError::Unreadable(error.to_string())),
    }
}

/// Spends the time of one real verification and throws the result away: called when the
/// email is unknown, so the answer takes as long as for a known email and a wrong password.
pub fn verify_dummy(password: &str) {
    // A hash of a random password with the default parameters, made once per process.
    static DUMMY: LazyLock<Option<String>> =
        LazyLock::new(|| hash_password(&generate_password().ok()?).ok());
    if let Some(dummy) = DUMMY.as_deref()
        && let Ok(parsed) = PasswordHash::new(dummy)
    {
        let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
    }
}

/// A strong random password for a new account or a reset (24 characters, 144 bits), shown
/// once to the person who runs the command.
pub fn generate_password() -> Result<String, PasswordHashError> {
    let mut bytes = [0u8; 18];
    fill_random(&mut bytes).map_err(|error| PasswordHashError::Hashing(error.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn hash_verifies_the_right_password_only() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash).expect("verify"));
        assert!(!verify_password("correct horse batterY", &hash).expect("verify"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").expect("hash"),
            "salted"
        );
    }

    #[test]
    fn empty_hash_matches_nothing_and_garbage_hash_is_an_error() {
        assert!(!verify_password("", "").expect("verify"));
        assert!(!verify_password("anything at all", "").expect("verify"));
        for garbage in [
            "$argon2id$garbage",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1",
        ] {
            assert!(
                matches!(
                    verify_password("x", garbage),
                    Err(PasswordHashError::Unreadable(_))
                ),
                "{garbage}"
            );
        }
    }

    #[test]
    fn policy_names_what_is_wrong() {
        assert_eq!(
            check_policy("short", 10),
            Err(PasswordPolicyError::TooShort { min: 10 })
        );
        assert_eq!(
            check_policy("            ", 10),
            Err(PasswordPolicyError::Blank)
        );
        assert_eq!(check_policy("", 0), Err(PasswordPolicyError::Blank));
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(check_policy(&long, 10), Err(PasswordPolicyError::TooLong));
        assert!(check_policy(&"a".repeat(MAX_PASSWORD_BYTES), 10).is_ok());
        // Characters, not bytes: ten Vietnamese letters are ten characters.
        assert!(check_policy("mậtkhẩuđây", 10).is_ok());
        assert!(check_policy("mậtkhẩuđâ", 10).is_err());
        assert!(
            PasswordPolicyError::TooShort { min: 10 }
                .to_string()
                .contains("at least 10")
        );
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let one = generate_password().expect("generate");
        assert_eq!(one.len(), 24);
        assert!(check_policy(&one, 20).is_ok());
        assert_ne!(one, generate_password().expect("generate"));
    }

    #[test]
    fn dummy_check_costs_about_as_much_as_a_real_one() {
        let hash = hash_password("correct horse battery").expect("hash");
        verify_dummy("warm-up"); // the first call also builds the dummy hash
        let timed = |check: &dyn Fn()| {
            let start = Instant::now();
            for _ in 0..3 {
                check();
            }
            start.elapsed()
        };
        let real = timed(&|| {
            let _ = verify_password("wrong password", &hash);
        });
        let dummy = timed(&|| verify_dummy("wrong password"));
        // Generous bounds: the point is "same order of work", not a benchmark.
        assert!(
            dummy > real / 3 && dummy < real * 3,
            "real {real:?}, dummy {dummy:?}"
        );
        assert!(
            real > Duration::from_millis(1),
            "argon2 really ran: {real:?}"
        );
    }
}
