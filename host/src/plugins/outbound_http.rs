//! Outbound HTTP for plugins: only to hosts the manifest declares and the tenant granted,
//! and, after DNS, never to loopback / private / link-local addresses unless allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// A refused outbound request, reported with the call's failure.
#[derive(Debug, Clone)]
pub(crate) struct Denial {
    pub(crate) host: String,
    pub(crate) reason: String,
}

/// The hosts one (tenant, plugin) may reach. Shared by all its calls.
#[derive(Debug)]
pub(crate) struct HttpAllowlist {
    pub(crate) declared: Vec<String>,
    pub(crate) granted: Vec<String>,
    pub(crate) allow_private_network: bool,
}

impl HttpAllowlist {
    /// Why `host` may not be called, or `None` when it may.
    fn refusal(&self, host: &str) -> Option<String> {
        if !self
            .declared
            .iter()
            .any(|pattern| host_matches(pattern, host))
        {
            return Some(format!(
                "not in the plugin's capabilities.http {:?}",
                self.declared
            ));
        }
        if !self
            .granted
            .iter()
            .any(|pattern| host_matches(pattern, host))
        {
            return Some("not granted by the tenant".to_owned());
        }
        None
    }
}

/// Per call: the allowlist, plus the refusals this call ran into.
pub(crate) struct OutboundPolicy {
    allowlist: Arc<HttpAllowlist>,
    pub(crate) denials: Arc<Mutex<Vec<Denial>>>,
    connect_timeout: Duration,
}

impl OutboundPolicy {
    pub(crate) fn new(allowlist: Arc<HttpAllowlist>, deadline: Duration) -> Self {
        Self {
            allowlist,
            denials: Arc::default(),
            connect_timeout: deadline,
        }
    }

    /// The first refusal of this call, if any.
    pub(crate) fn first_denial(&self) -> Option<Denial> {
        lock(&self.denials).first().cloned()
    }
}

fn lock(denials: &Mutex<Vec<Denial>>) -> std::sync::MutexGuard<'_, Vec<Denial>> {
    denials
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn deny(denials: &Mutex<Vec<Denial>>, host: &str, reason: String) -> HttpError {
    tracing::warn!(host, reason = %reason, "plugin outbound HTTP refused");
    lock(denials).push(Denial {
        host: host.to_owned(),
        reason,
    });
    HttpError::HttpRequestDenied
}

/// `*` matches any host; `*.example.com` matches subdomains of example.com; anything else
/// matches itself, ignoring case.
pub(crate) fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(domain) => {
            host.len() > domain.len() + 1
                && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Addresses a plugin must not reach without `allow_private_network`: the machine itself,
/// the private networks behind it, link-local (cloud metadata at 169.254.169.254) and the like.
pub(crate) fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => is_private_v6(v6),
        },
    }
}

fn is_private_v4(address: Ipv4Addr) -> bool {
    let [first, second, ..] = address.octets();
    address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        // 100.64.0.0/10, carrier-grade NAT: private in practice.
        || (first == 100 && (64..128).contains(&second))
        || first == 0
}

fn is_private_v6(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    address.is_loopback()
        || address.is_unspecified()
        || address.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let allowlist = Arc::clone(&self.allowlist);
        let denials = Arc::clone(&self.denials);
        let connect_timeout = self.connect_timeout;
        Box::new(async move {
            let uri = request.uri().clone();
            let host = uri.host().unwrap_or_default().to_owned();
            if let Some(reason) = allowlist.refusal(&host) {
                return Err(deny(&denials, &host, reason));
            }
            let https = uri.scheme_str() == Some("https");
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let addresses: Vec<SocketAddr> = match tokio::time::timeout(
                connect_timeout,
                tokio::net::lookup_host((host.as_str(), port)),
            )
            .await
            {
                Ok(Ok(addresses)) => addresses.collect(),
                Ok(Err(_)) => return Err(HttpError::DestinationNotFound),
                Err(_) => return Err(HttpError::DnsTimeout),
            };
            let Some(first) = addresses.first().copied() else {
                return Err(HttpError::DestinationNotFound);
            };
            if !allowlist.allow_private_network
                && let Some(private) = addresses.iter().find(|address| is_private(address.ip()))
            {
                let reason = format!(
                    "{host} resolves to the private address {}; set plugins.allow_private_network to allow it",
                    private.ip()
                );
                return Err(deny(&denials, &host, reason));
            }
            // Plain HTTP connects to the address just checked, so a second DNS answer cannot
            // swap in a private one. HTTPS keeps the name for TLS, and resolves again.
            if !https {
                let pinned = http::uri::Builder::from(uri.clone())
                    .authority(first.to_string())
                    .build()
                    .map_err(|_| HttpError::HttpRequestUriInvalid)?;
                *request.uri_mut() = pinned;
            }
            let options = Some(RequestOptions {
                connect_timeout: options
                    .and_then(|options| options.connect_timeout)
                    .or(Some(connect_timeout)),
                ..options.unwrap_or_default()
            });
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_pattern_matches_only_that_host_ignoring_case() {
        assert!(host_matches("api.example.com", "API.example.com"));
        assert!(!host_matches("api.example.com", "evil.example.com"));
        assert!(!host_matches("api.example.com", "api.example.com.evil.io"));
    }

    #[test]
    fn wildcard_pattern_matches_subdomains_only() {
        assert!(host_matches("*.zalo.me", "openapi.zalo.me"));
        assert!(host_matches("*.zalo.me", "a.b.zalo.me"));
        assert!(!host_matches("*.zalo.me", "zalo.me"));
        assert!(!host_matches("*.zalo.me", "evilzalo.me"));
    }

    #[test]
    fn star_matches_any_host() {
        assert!(host_matches("*", "anything.example"));
    }

    #[test]
    fn loopback_private_link_local_and_mapped_addresses_are_private() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(address.parse().unwrap()), "{address}");
        }
    }

    #[test]
    fn public_addresses_are_not_private() {
        for address in ["1.1.1.1", "203.113.1.1", "2606:4700::1111"] {
            assert!(!is_private(address.parse().unwrap()), "{address}");
        }
    }

    #[test]
    fn undeclared_host_is_refused_before_grants_are_checked() {
        let allowlist = HttpAllowlist {
            declared: vec!["api.example.com".into()],
            granted: vec!["*".into()],
            allow_private_network: false,
        };
        let reason = allowlist.refusal("evil.example.com").unwrap();
        assert!(reason.contains("capabilities.http"), "{reason}");
        assert!(allowlist.refusal("api.example.com").is_none());
    }

    #[test]
    fn declared_but_ungranted_host_is_refused() {
        let allowlist = HttpAllowlist {
            declared: vec!["*".into()],
            granted: vec!["shop.vn".into()],
            allow_private_network: false,
        };
        assert_eq!(
            allowlist.refusal("other.vn").as_deref(),
            Some("not granted by the tenant")
        );
    }
}
