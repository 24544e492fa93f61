//! Browser-facing protections: security headers on every HTML page loa serves, and the
//! origin rules: the admin API answers cross-origin browsers only from configured origins
//! (CORS), and a bot's widget endpoints only from the origins that bot allows.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Adds `X-Content-Type-Options: nosniff` to every response, and to HTML pages the
/// headers that stop framing by other sites, plugins and referrer leaks. The policy does
/// not restrict scripts: the shop's own pages (`http.site_dir`) are theirs to write.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        for (name, value) in [
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
            (
                header::CONTENT_SECURITY_POLICY,
                "frame-ancestors 'self'; object-src 'none'; base-uri 'self'",
            ),
        ] {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        }
    }
    response
}

/// CORS of the admin API: none (same origin only) when `origins` is empty, else those
/// origins may call it with a bearer token.
pub fn admin_cors(origins: &[String]) -> Option<CorsLayer> {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| match HeaderValue::from_str(origin.trim_end_matches('/')) {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::warn!(origin, %error, "http.admin_origins: not a valid origin, ignored");
                None
            }
        })
        .collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The request's `Origin`, when a browser sent one from another site than this host.
/// Same-origin requests (the origin's host and port are the `Host` header) and clients
/// that send no `Origin` (servers, apps) return `None`: origin rules are for browsers.
pub fn cross_origin(headers: &HeaderMap) -> Option<&str> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    match host {
        Some(host) if host.eq_ignore_ascii_case(authority) => None,
        _ => Some(origin),
    }
}

/// Whether `origin` is in a bot's `allowed_origins` (`*` allows any; a trailing slash and
/// the case of the scheme and host do not matter).
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    allowed.iter().any(|entry| {
        let entry = entry.trim().trim_end_matches('/');
        entry == "*" || entry.eq_ignore_ascii_case(origin)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).expect("valid"));
        }
        map
    }

    #[test]
    fn same_origin_and_originless_requests_are_not_cross_origin() {
        assert_eq!(
            cross_origin(&headers(&[(header::HOST, "127.0.0.1:8080")])),
            None
        );
        let same = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "http://127.0.0.1:8080"),
        ]);
        assert_eq!(cross_origin(&same), None);
        let other = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "https://may.vn"),
        ]);
        assert_eq!(cross_origin(&other), Some("https://may.vn"));
    }

    #[test]
    fn allowed_origins_match_exactly_or_by_star() {
        let allowed = vec!["https://may.vn/".to_owned()];
        assert!(origin_allowed(&allowed, "https://may.vn"));
        assert!(origin_allowed(&allowed, "HTTPS://MAY.VN"));
        assert!(!origin_allowed(&allowed, "https://evil.may.vn"));
        assert!(!origin_allowed(&allowed, "https://may.vn.evil.com"));
        assert!(!origin_allowed(&[], "https://may.vn"));
        assert!(origin_allowed(&["*".to_owned()], "https://anyone.example"));
    }

    #[test]
    fn no_configured_origin_means_no_cors_layer() {
        assert!(admin_cors(&[]).is_none());
        assert!(admin_cors(&["https://admin.may.vn".to_owned()]).is_some());
    }
}
