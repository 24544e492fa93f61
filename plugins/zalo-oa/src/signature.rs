//! `X-ZEvent-Signature`: Zalo signs every webhook for an OA as `mac=` followed by the
//! lowercase hex SHA-256 of the app id, the raw body, the body's `timestamp` and the OA
//! secret key, concatenated in that order. It is a plain hash over a concatenation, not an
//! HMAC: whoever knows the OA secret key can sign, nobody else can.

use sha2::{Digest, Sha256};

/// The header carrying the signature (compared case-insensitively, as HTTP names are).
pub const HEADER: &str = "x-zevent-signature";

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureProblem {
    /// No `X-ZEvent-Signature` header, or more than one.
    Missing,
    /// The header is not `mac=` followed by 64 hex digits.
    Malformed,
    /// Well-formed, but not this body's signature with this OA secret key.
    Mismatch,
}

impl SignatureProblem {
    /// Machine-readable code for the JSON error body.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing_signature",
            Self::Malformed | Self::Mismatch => "invalid_signature",
        }
    }

    /// What the sender should check, for the JSON error body.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "the request has no (single) X-ZEvent-Signature header",
            Self::Malformed => "X-ZEvent-Signature is not 'mac=' followed by 64 hex digits",
            Self::Mismatch => {
                "X-ZEvent-Signature does not match the body: are the channel's app_id and \
                 oa_secret_key those of the OA that sent it?"
            }
        }
    }
}

/// `mac=<hex>`: what Zalo sends for `body` with this `timestamp` (the body's own
/// `timestamp` field, as written). For tests.
#[cfg(test)]
pub fn sign(app_id: &str, body: &[u8], timestamp: &str, oa_secret_key: &str) -> String {
    format!(
        "mac={}",
        hex(&digest(app_id, body, timestamp, oa_secret_key))
    )
}

/// Checks `header` (the value of [`HEADER`], if present) against `body`. The digest is
/// compared in constant time; the `mac=` prefix may be in any case, and a bare digest
/// without it is accepted too (the prefix carries no secret).
pub fn verify(
    app_id: &str,
    body: &[u8],
    timestamp: &str,
    oa_secret_key: &str,
    header: Option<&str>,
) -> Result<(), SignatureProblem> {
    let header = header.ok_or(SignatureProblem::Missing)?.trim();
    let presented = match header.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mac=") => &header[4..],
        _ => header,
    };
    let presented = decode_hex(presented)
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SignatureProblem::Malformed)?;
    let expected = digest(app_id, body, timestamp, oa_secret_key);
    if constant_time_eq(&presented, &expected) {
        Ok(())
    } else {
        Err(SignatureProblem::Mismatch)
    }
}

fn digest(app_id: &str, body: &[u8], timestamp: &str, oa_secret_key: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(app_id.as_bytes());
    hasher.update(body);
    hasher.update(timestamp.as_bytes());
    hasher.update(oa_secret_key.as_bytes());
    hasher.finalize().into()
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Hex digits (either case) to bytes; `None` for odd lengths or other characters.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths: how long
/// a wrong guess takes must not tell how many of its first bytes were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let longest = a.len().max(b.len());
    let mut difference = u8::from(a.len() != b.len());
    for index in 0..longest {
        let left = a.get(index).copied().unwrap_or(0);
        let right = b.get(index).copied().unwrap_or(0);
        difference |= left ^ right;
    }
    // Keep the optimizer from turning the loop into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_ID: &str = "1234567890123456789";
    const SECRET: &str = "oa-secret-key";
    const TIMESTAMP: &str = "1718000100000";
    const BODY: &str = r#"{"app_id":"1234567890123456789","event_name":"user_send_text","sender":{"id":"246813579"},"recipient":{"id":"579135246"},"message":{"msg_id":"5f1c2a","text":"shop có ship COD không?"},"timestamp":"1718000100000"}"#;
    /// sha256(APP_ID + BODY + TIMESTAMP + SECRET), computed independently with Python's
    /// hashlib, the way Zalo's documentation describes the mac.
    const MAC: &str = "mac=79eac076a292ea9c80ebd1dd94ff8f8f45f441a9a55ebaf20cc6df42ecf835e1";

    fn check(header: Option<&str>) -> Result<(), SignatureProblem> {
        verify(APP_ID, BODY.as_bytes(), TIMESTAMP, SECRET, header)
    }

    #[test]
    fn the_documented_mac_is_accepted() {
        assert_eq!(sign(APP_ID, BODY.as_bytes(), TIMESTAMP, SECRET), MAC);
        assert_eq!(check(Some(MAC)), Ok(()));
    }

    #[test]
    fn prefix_case_uppercase_hex_and_a_bare_digest_are_accepted() {
        assert_eq!(check(Some(&MAC.to_uppercase())), Ok(()));
        assert_eq!(check(Some(&MAC[4..])), Ok(()));
        assert_eq!(check(Some(&format!("  {MAC} "))), Ok(()));
    }

    #[test]
    fn another_body_timestamp_app_or_secret_is_a_mismatch() {
        let other_body = BODY.replace("COD", "cod");
        assert_eq!(
            verify(APP_ID, other_body.as_bytes(), TIMESTAMP, SECRET, Some(MAC)),
            Err(SignatureProblem::Mismatch)
        );
        for (app, timestamp, secret) in [
            ("1234567890123456780", TIMESTAMP, SECRET),
            (APP_ID, "1718000100001", SECRET),
            (APP_ID, TIMESTAMP, "oa-secret-kez"),
        ] {
            assert_eq!(
                verify(app, BODY.as_bytes(), timestamp, secret, Some(MAC)),
                Err(SignatureProblem::Mismatch),
                "{app} {timestamp} {secret}"
            );
        }
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        assert_eq!(check(None), Err(SignatureProblem::Missing));
        for header in ["", "mac=", "mac=xyz", "sha256=79ea", &MAC[..MAC.len() - 2]] {
            assert_eq!(
                check(Some(header)),
                Err(SignatureProblem::Malformed),
                "{header}"
            );
        }
        assert_eq!(SignatureProblem::Missing.code(), "missing_signature");
        assert_eq!(SignatureProblem::Mismatch.code(), "invalid_signature");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(constant_time_eq(b"", b""));
    }
}
