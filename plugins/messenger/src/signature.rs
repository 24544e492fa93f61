//! `X-Hub-Signature-256`: Meta signs every webhook body with the app secret
//! (`sha256=` + hex HMAC-SHA256 of the raw bytes), so a forged event is refused unread.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature (compared case-insensitively, as HTTP names are).
pub const HEADER: &str = "x-hub-signature-256";

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureProblem {
    /// No `X-Hub-Signature-256` header.
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    Malformed,
    /// Well-formed, but not the body's HMAC with this app secret.
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
            Self::Missing => "the request has no X-Hub-Signature-256 header",
            Self::Malformed => "X-Hub-Signature-256 is not 'sha256=' followed by 64 hex digits",
            Self::Mismatch => {
                "X-Hub-Signature-256 does not match the body: is the channel's app_secret the \
                 app's secret?"
            }
        }
    }
}

/// Checks `header` (the value of [`HEADER`], if present) against `body` signed with
/// `app_secret`. The comparison takes the same time wherever the digests differ.
pub fn verify(app_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureProblem> {
    let header = header.ok_or(SignatureProblem::Missing)?.trim();
    let digest = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .and_then(|_| decode_hex(&header[7..]))
        .filter(|digest| digest.len() == 32)
        .ok_or(SignatureProblem::Malformed)?;
    let mut mac = <Hmac<Sha256>>::new_from_slice(app_secret.as_bytes())
        .map_err(|_| SignatureProblem::Mismatch)?;
    mac.update(body);
    // `verify_slice` compares in constant time (subtle), unlike `==` on the bytes.
    mac.verify_slice(&digest)
        .map_err(|_| SignatureProblem::Mismatch)
}

/// `sha256=<hex>` for `body` signed with `app_secret`: what Meta sends. For tests and tools.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "app-secret";
    const BODY: &[u8] = br#"{"object":"page","entry":[]}"#;

    #[test]
    fn the_documented_signature_is_accepted() {
        // HMAC-SHA256("app-secret", BODY), computed independently with Python's hmac module.
        let header = "sha256=e6e9d7a842a48e17f43a34d6125d0d933e2aab92ee37f0993a4d493b50e3d438";
        assert_eq!(sign(SECRET, BODY), header);
        assert_eq!(verify(SECRET, BODY, Some(header)), Ok(()));
    }

    #[test]
    fn uppercase_hex_and_prefix_are_accepted() {
        let signed = sign(SECRET, BODY).to_uppercase();
        assert_eq!(verify(SECRET, BODY, Some(&signed)), Ok(()));
    }

    #[test]
    fn a_missing_header_is_reported_as_missing() {
        assert_eq!(verify(SECRET, BODY, None), Err(SignatureProblem::Missing));
    }

    #[test]
    fn another_secret_or_body_is_a_mismatch() {
        let signed = sign("other-secret", BODY);
        assert_eq!(
            verify(SECRET, BODY, Some(&signed)),
            Err(SignatureProblem::Mismatch)
        );
        let signed = sign(SECRET, BODY);
        assert_eq!(
            verify(SECRET, b"{}", Some(&signed)),
            Err(SignatureProblem::Mismatch)
        );
    }

    #[test]
    fn sha1_or_garbage_is_malformed() {
        for header in [
            "sha1=0123456789abcdef0123456789abcdef01234567",
            "sha256=xyz",
            "sha256=abc",
            "sha256=",
            "",
        ] {
            assert_eq!(
                verify(SECRET, BODY, Some(header)),
                Err(SignatureProblem::Malformed),
                "{header}"
            );
        }
    }
}
