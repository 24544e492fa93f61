//! Access tokens: short-lived JWTs (HS256 only) signed with the `loa/jwt/v1` subkey of the
//! master key. The refresh tokens and API keys they pair with are in [`super::credentials`].
//!
//! Time is passed in (`now_ms`), never read here, so every check is testable; expiry has no
//! leeway: one host signs and checks, there is no clock skew to forgive.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::master_key::{JWT_KEY_LABEL, MasterKey};

/// The `iss` of every token loa issues.
pub const ISSUER: &str = "loa";
/// The `typ` claim of an access token (no other kind of JWT is issued yet; the claim keeps a
/// future kind from being accepted as an access token).
pub const ACCESS_TYPE: &str = "access";
/// Longer than any token loa issues: longer input is refused before any parsing.
const MAX_TOKEN_BYTES: usize = 4096;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id (`us_…`).
    pub sub: String,
    /// The refresh family of the login (`rf_…`): logging out revokes it, and with it this token.
    pub sid: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`ACCESS_TYPE`].
    pub typ: String,
    /// This token's own id (`at_…`, RFC 7519 §4.1.7): two tokens issued in the same
    /// second for the same login still differ, so logs and clients can tell them apart.
    pub jti: String,
}

/// Why an access token is refused (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or its claims are missing or mistyped.
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// Signed with something other than HS256 (including `none`).
    #[error("token algorithm '{0}' is not accepted (only HS256)")]
    WrongAlgorithm(String),
    /// The signature does not match: forged, altered, or signed with another key.
    #[error("token signature is invalid")]
    BadSignature,
    /// Past its `exp`.
    #[error("token has expired")]
    Expired,
    /// Issued by someone other than loa.
    #[error("token issuer is not loa")]
    WrongIssuer,
    /// A JWT of loa, but not an access token.
    #[error("token is not an access token")]
    WrongType,
    /// Signing failed (should not happen with an HMAC key).
    #[error("cannot sign token: {0}")]
    Signing(String),
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessTokens(..)")
    }
}

impl AccessTokens {
    /// Keys derived from `master`.
    pub fn new(master: &MasterKey) -> Self {
        let key = master.derive(JWT_KEY_LABEL);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[ISSUER]);
        // Checked in `verify` against the caller's clock, with no leeway.
        validation.validate_exp = false;
        validation.validate_aud = false;
        Self {
            encoding: EncodingKey::from_secret(key.as_slice()),
            decoding: DecodingKey::from_secret(key.as_slice()),
            validation,
        }
    }

    /// A token for `user_id` in refresh family `family_id`, valid `lifetime_ms` from
    /// `now_ms`; returns it and when it expires (ms, rounded down to the second).
    pub fn issue(
        &self,
        user_id: &str,
        family_id: &str,
        now_ms: i64,
        lifetime_ms: i64,
    ) -> Result<(String, i64), TokenError> {
        let exp = now_ms.saturating_add(lifetime_ms).div_euclid(1000);
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            sid: family_id.to_owned(),
            iat: now_ms.div_euclid(1000),
            exp,
            iss: ISSUER.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
            jti: crate::store::codec::new_id("at"),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| TokenError::Signing(error.to_string()))?;
        Ok((token, exp.saturating_mul(1000)))
    }

    /// The claims of a valid, unexpired access token signed by this host.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed("too long".to_owned()));
        }
        // Named before the library sees it, so `alg: none` and RS256 get a clear error
        // (the library only says "invalid header" for an algorithm it has no name for).
        let algorithm = header_algorithm(token)?;
        if algorithm != "HS256" {
            return Err(TokenError::WrongAlgorithm(algorithm));
        }
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|error| match error.into_kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm("HS256".to_owned()),
                ErrorKind::MissingRequiredClaim(claim) => {
                    TokenError::Malformed(format!("no '{claim}' claim"))
                }
                other => TokenError::Malformed(format!("{other:?}")),
            })?
            .claims;
        if claims.typ != ACCESS_TYPE {
            return Err(TokenError::WrongType);
        }
        if now_ms.div_euclid(1000) >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// The `alg` of a JWT's header, read without trusting anything else in it.
fn header_algorithm(token: &str) -> Result<String, TokenError> {
    let malformed = |what: &str| TokenError::Malformed(what.to_owned());
    let header = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| malformed("header is not base64url"))?;
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|_| malformed("header is not JSON"))?;
    value
        .get("alg")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| malformed("header has no 'alg'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000_123;
    const LIFE: i64 = 15 * 60_000;

    fn tokens(seed: u8) -> AccessTokens {
        AccessTokens::new(&MasterKey::from_bytes([seed; 32]))
    }

    /// A token with any header and claims, signed (or not) by hand.
    fn craft(header: &str, claims: &serde_json::Value, signature: &str) -> String {
        let claims = serde_json::to_vec(claims).expect("json");
        format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"sub": "us_1", "sid": "rf_1", "iat": NOW / 1000,
            "exp": NOW / 1000 + 900, "iss": "loa", "typ": "access", "jti": "at_1"})
    }

    #[test]
    fn two_tokens_of_one_login_in_one_second_differ() {
        let (first, _) = tokens(1).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        let (second, _) = tokens(1).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        assert_ne!(first, second);
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let (token, expires_at_ms) = tokens(1).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        assert_eq!(expires_at_ms, (NOW + LIFE) / 1000 * 1000);
        let claims = tokens(1).verify(&token, NOW + LIFE - 1000).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("us_1", "rf_1"));
        assert_eq!(claims.iat, NOW / 1000);
    }

    #[test]
    fn expired_token_is_refused_with_no_leeway() {
        let (token, expires_at_ms) = tokens(1).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        assert_eq!(
            tokens(1).verify(&token, expires_at_ms),
            Err(TokenError::Expired)
        );
        assert_eq!(
            tokens(1).verify(&token, expires_at_ms + 3_600_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn token_signed_with_another_key_is_refused() {
        let (token, _) = tokens(2).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        assert_eq!(tokens(1).verify(&token, NOW), Err(TokenError::BadSignature));
        // Same header and signature, claims changed to another user.
        let (token, _) = tokens(1).issue("us_1", "rf_1", NOW, LIFE).expect("issue");
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = "us_admin".into();
        let forged = craft(r#"{"alg":"HS256","typ":"JWT"}"#, &forged, parts[2]);
        assert_eq!(
            tokens(1).verify(&forged, NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let none = craft(r#"{"alg":"none","typ":"JWT"}"#, &claims(), "");
        assert_eq!(
            tokens(1).verify(&none, NOW),
            Err(TokenError::WrongAlgorithm("none".to_owned()))
        );
        let hs512 = craft(r#"{"alg":"HS512"}"#, &claims(), "AAAA");
        assert!(matches!(
            tokens(1).verify(&hs512, NOW),
            Err(TokenError::WrongAlgorithm(_))
        ));
        let rs256 = craft(r#"{"alg":"RS256"}"#, &claims(), "AAAA");
        assert!(matches!(
            tokens(1).verify(&rs256, NOW),
            Err(TokenError::WrongAlgorithm(_))
        ));
    }

    #[test]
    fn wrong_issuer_or_type_is_refused_even_when_signed() {
        let sign = |claims: &serde_json::Value| {
            let key = MasterKey::from_bytes([1; 32]).derive(JWT_KEY_LABEL);
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                claims,
                &EncodingKey::from_secret(key.as_slice()),
            )
            .expect("sign")
        };
        let mut other_issuer = claims();
        other_issuer["iss"] = "someone".into();
        assert_eq!(
            tokens(1).verify(&sign(&other_issuer), NOW),
            Err(TokenError::WrongIssuer)
        );
        let mut refresh = claims();
        refresh["typ"] = "refresh".into();
        assert_eq!(
            tokens(1).verify(&sign(&refresh), NOW),
            Err(TokenError::WrongType)
        );
        let mut no_exp = claims();
        no_exp.as_object_mut().expect("object").remove("exp");
        assert!(matches!(
            tokens(1).verify(&sign(&no_exp), NOW),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for token in [
            "",
            "abc",
            "a.b.c",
            "....",
            "eyJhbGciOiJIUzI1NiJ9.e30.x",
            &"a".repeat(5000),
        ] {
            assert!(
                matches!(tokens(1).verify(token, NOW), Err(TokenError::Malformed(_))),
                "{token}"
            );
        }
    }
}
