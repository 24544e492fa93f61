//! Splitting a URL into the parts `wasi:http` wants, and percent-encoding.
//!
//! Deliberately small (no `url` crate): plugins only need `scheme://authority/path?query`,
//! and every kilobyte of code is loaded for every plugin instance.

/// A URL split the way `wasi:http/types.outgoing-request` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// Lowercased scheme, e.g. `https`.
    pub scheme: String,
    /// `host` or `host:port`, as written.
    pub authority: &'a str,
    /// Path and query, always starting with `/`; the fragment is dropped (it never reaches
    /// the server anyway).
    pub path_with_query: String,
}

/// Splits an absolute `http(s)` URL; the error says what is wrong with it.
pub(crate) fn split_url(url: &str) -> Result<UrlParts<'_>, String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters".into());
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| String::from("missing scheme (expected https://...)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "unsupported scheme '{scheme}' (expected http or https)"
        ));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if authority.is_empty() {
        return Err("missing host".into());
    }
    if authority.contains('@') {
        // Credentials in a URL end up in logs; a header is the place for them.
        return Err("credentials in the URL are not supported; send them in a header".into());
    }
    let without_fragment = tail.split('#').next().unwrap_or_default();
    let path_with_query = if without_fragment.starts_with('/') {
        without_fragment.to_owned()
    } else {
        format!("/{without_fragment}")
    };
    Ok(UrlParts {
        scheme,
        authority,
        path_with_query,
    })
}

/// Percent-encodes everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`),
/// so the result is safe as one path segment or one query value: `percent_encode("A/1 2")`
/// is `A%2F1%202`.
pub fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_scheme_authority_and_path() {
        let parts = split_url("HTTPS://shop.example.com:8443/api/orders?x=1#top").unwrap();
        assert_eq!(parts.scheme, "https");
        assert_eq!(parts.authority, "shop.example.com:8443");
        assert_eq!(parts.path_with_query, "/api/orders?x=1");
    }

    #[test]
    fn missing_path_becomes_root() {
        assert_eq!(split_url("http://localhost").unwrap().path_with_query, "/");
        assert_eq!(split_url("http://h?q=1").unwrap().path_with_query, "/?q=1");
    }

    #[test]
    fn rejects_other_schemes_missing_host_and_credentials() {
        assert!(
            split_url("ftp://h/x")
                .unwrap_err()
                .contains("unsupported scheme 'ftp'")
        );
        assert!(
            split_url("https:///x")
                .unwrap_err()
                .contains("missing host")
        );
        assert!(
            split_url("https://u:p@h/")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(
            split_url("shop.example.com/x")
                .unwrap_err()
                .contains("missing scheme")
        );
        assert!(
            split_url("https://h/a b")
                .unwrap_err()
                .contains("whitespace")
        );
    }

    #[test]
    fn percent_encode_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(percent_encode("A-1_b.c~"), "A-1_b.c~");
        assert_eq!(percent_encode("A/1 2?#"), "A%2F1%202%3F%23");
        assert_eq!(percent_encode("đơn"), "%C4%91%C6%A1n");
    }
}
