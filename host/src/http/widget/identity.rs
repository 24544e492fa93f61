//! Who is on the other side of a widget socket: an anonymous visitor id (made by the host,
//! kept by the browser) or a shop user whose id the shop signed with the bot's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest visitor id accepted back from a browser.
const MAX_VISITOR_ID: usize = 64;

/// A fresh anonymous visitor id.
pub fn new_visitor_id() -> String {
    format!("v_{}", uuid::Uuid::new_v4().simple())
}

/// Whether `id` is one the host could have made (anything else is replaced, so a page
/// cannot pick another visitor's conversation by guessing a short id).
pub fn is_valid_visitor_id(id: &str) -> bool {
    id.len() <= MAX_VISITOR_ID
        && id.len() >= 18
        && id.starts_with("v_")
        && id[2..].bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Whether `signature_hex` is `hex(HMAC-SHA256(secret, user_id))`, compared in constant time.
pub fn verify_user(secret: &str, user_id: &str, signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

/// The signature a shop's backend computes (for tests and docs).
pub fn sign_user(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let signature = sign_user("s3cret", "u42");
        assert!(verify_user("s3cret", "u42", &signature));
    }

    #[test]
    fn a_wrong_secret_user_or_garbage_does_not_verify() {
        let signature = sign_user("s3cret", "u42");
        assert!(!verify_user("other", "u42", &signature));
        assert!(!verify_user("s3cret", "u43", &signature));
        assert!(!verify_user("s3cret", "u42", "zz"));
        assert!(!verify_user("s3cret", "u42", ""));
    }

    #[test]
    fn only_host_made_visitor_ids_are_kept() {
        assert!(is_valid_visitor_id(&new_visitor_id()));
        assert!(!is_valid_visitor_id("v_1"));
        assert!(!is_valid_visitor_id("u:someone-else-0000000000"));
        assert!(!is_valid_visitor_id(&format!("v_{}", "a".repeat(80))));
    }
}
