//! The admin API's interim guard: one bearer token from `http.admin_token` or
//! `LOA_ADMIN_TOKEN`, until accounts and roles replace it. Without a token every admin
//! route answers 503, so a host nobody configured exposes no write access.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ApiError;

/// Fixed HMAC key: tokens are compared as HMAC tags so the comparison is constant-time
/// and of equal length whatever the tokens' lengths (the key need not be secret).
const TAG_KEY: &[u8] = b"loa admin token v1";

/// The configured token, kept only as its tag.
pub(super) struct AdminGuard {
    expected: Option<Vec<u8>>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    /// A bearer token that is not the configured one.
    Wrong,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Wrong => "wrong",
        }
    }
}

fn mac() -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(TAG_KEY)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

impl AdminGuard {
    /// A guard for `token` (`None`: the admin API is off).
    pub(super) fn new(token: Option<&str>) -> Self {
        Self {
            expected: token.map(|token| {
                let mut mac = mac();
                mac.update(token.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }),
        }
    }

    /// Whether a token is configured.
    pub(super) fn is_enabled(&self) -> bool {
        self.expected.is_some()
    }

    /// Checks the request's `Authorization: Bearer …` header against the token.
    fn check(&self, expected: &[u8], headers: &HeaderMap) -> Result<(), Refusal> {
        let value = headers.get(header::AUTHORIZATION).ok_or(Refusal::Missing)?;
        let presented = bearer_token(value).ok_or(Refusal::Malformed)?;
        let mut mac = mac();
        mac.update(presented.as_bytes());
        mac.verify_slice(expected).map_err(|_| Refusal::Wrong)
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Middleware of every admin route: 503 when the admin API is off, 401 without the right
/// token. Failures are logged with the reason and path, never with what was presented.
pub(super) async fn require_token(
    State(guard): State<Arc<AdminGuard>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &guard.expected else {
        tracing::debug!(path = %request.uri().path(), "admin API request while it is off");
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "admin_api_disabled",
            "the admin API is off on this host: set LOA_ADMIN_TOKEN (or http.admin_token in \
             loa.toml) to a long random secret and restart loa serve",
        )
        .into_response();
    };
    if let Err(refusal) = guard.check(expected, request.headers()) {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            reason = refusal.as_str(),
            "admin API request refused"
        );
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the admin token as `Authorization: Bearer <token>`",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).expect("a valid header value"),
        );
        headers
    }

    fn check(token: &str, headers: &HeaderMap) -> Result<(), Refusal> {
        let guard = AdminGuard::new(Some(token));
        let expected = guard.expected.clone().expect("a token is configured");
        guard.check(&expected, headers)
    }

    #[test]
    fn the_configured_token_passes_with_any_case_of_bearer() {
        assert_eq!(check("s3cret", &headers("Bearer s3cret")), Ok(()));
        assert_eq!(check("s3cret", &headers("bearer  s3cret ")), Ok(()));
    }

    #[test]
    fn another_token_or_a_prefix_of_it_is_wrong() {
        for presented in ["Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET"] {
            assert_eq!(
                check("s3cret", &headers(presented)),
                Err(Refusal::Wrong),
                "{presented}"
            );
        }
    }

    #[test]
    fn a_missing_or_non_bearer_header_is_refused() {
        assert_eq!(check("s3cret", &HeaderMap::new()), Err(Refusal::Missing));
        for presented in ["s3cret", "Basic czNjcmV0", "Bearer ", "Bearer"] {
            assert_eq!(
                check("s3cret", &headers(presented)),
                Err(Refusal::Malformed),
                "{presented}"
            );
        }
    }

    #[test]
    fn without_a_token_the_guard_is_off() {
        assert!(!AdminGuard::new(None).is_enabled());
        assert!(AdminGuard::new(Some("t")).is_enabled());
    }
}
