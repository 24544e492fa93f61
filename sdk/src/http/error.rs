//! [`HttpError`], and `wasi:http` error codes spelled as in the WIT (`HTTP-request-denied`).

use crate::bindings::imports::wasi::http::types::ErrorCode;
use crate::types::PluginError;

/// Why an HTTP request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be sent (not http/https, no host ...).
    #[error("invalid URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be built (a header the host forbids, a bad method ...).
    #[error("invalid request to {url}: {reason}")]
    InvalidRequest {
        /// The URL of the request.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host or the network refused or failed the request; `code` is the
    /// `wasi:http` error code as spelled in the WIT, e.g. `HTTP-request-denied` when the
    /// plugin's manifest or the tenant does not allow this host.
    #[error("request to {url} failed: {code}")]
    Failed {
        /// The URL of the request.
        url: String,
        /// The `wasi:http` error code, with its details.
        code: String,
    },
    /// Sending the request body or reading the response body broke off.
    #[error("body of {url} broke off: {reason}")]
    Body {
        /// The URL of the request.
        url: String,
        /// The stream error.
        reason: String,
    },
    /// The response body is larger than the request's cap.
    #[error("response from {url} is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The URL of the request.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The server answered with a status the caller did not accept (from
    /// [`Response::error_for_status`](super::Response::error_for_status) and the JSON helpers).
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// The URL of the request.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, for the log.
        body: String,
    },
    /// The request body could not be encoded as JSON, or the response is not the JSON
    /// the caller expected.
    #[error("JSON from or to {url}: {reason}")]
    Json {
        /// The URL of the request.
        url: String,
        /// serde's explanation.
        reason: String,
    },
}

impl HttpError {
    /// The HTTP status, when the error is an unaccepted status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the server may have received and acted on the request although no usable
    /// answer came back: it was sent, then the answer timed out, broke off or was too
    /// large (`connection-read-timeout`, `HTTP-response-timeout`, `connection-terminated`,
    /// `HTTP-response-incomplete`, a body that broke off, …). `false` when the request
    /// cannot have got there: no connection (refused, DNS, connect timeout, a host the
    /// plugin may not reach) or a request never sent. A channel plugin answers such a send
    /// `in-doubt` rather than `transient`, so the host asks before sending it again.
    pub fn may_have_arrived(&self) -> bool {
        match self {
            Self::Failed { code, .. } => MAY_HAVE_ARRIVED
                .iter()
                .any(|prefix| code.starts_with(prefix)),
            Self::Body { .. } | Self::ResponseTooLarge { .. } | Self::Status { .. } => true,
            Self::InvalidUrl { .. } | Self::InvalidRequest { .. } | Self::Json { .. } => false,
        }
    }
}

/// `wasi:http` error codes raised after the request went out, before its answer was whole.
const MAY_HAVE_ARRIVED: &[&str] = &[
    "connection-terminated",
    "connection-read-timeout",
    "HTTP-response-",
    "HTTP-protocol-error",
    "internal-error",
];

/// Whatever went wrong, it happened at a service the plugin calls.
impl From<HttpError> for PluginError {
    fn from(error: HttpError) -> Self {
        Self::Upstream(error.to_string())
    }
}

/// The error code as the WIT spells it, with its payload when there is one.
pub(crate) fn describe_error_code(code: &ErrorCode) -> String {
    let detail = |name: &str, detail: Option<String>| match detail {
        Some(detail) => format!("{name} ({detail})"),
        None => name.to_owned(),
    };
    let field_size = |payload: &crate::bindings::imports::wasi::http::types::FieldSizePayload| {
        let name = payload.field_name.as_deref().unwrap_or("?");
        match payload.field_size {
            Some(size) => format!("field {name}, {size} bytes"),
            None => format!("field {name}"),
        }
    };
    match code {
        ErrorCode::DnsTimeout => "DNS-timeout".into(),
        ErrorCode::DnsError(payload) => detail(
            "DNS-error",
            match (&payload.rcode, payload.info_code) {
                (Some(rcode), Some(info)) => Some(format!("rcode {rcode}, info {info}")),
                (Some(rcode), None) => Some(format!("rcode {rcode}")),
                (None, Some(info)) => Some(format!("info {info}")),
                (None, None) => None,
            },
        ),
        ErrorCode::DestinationNotFound => "destination-not-found".into(),
        ErrorCode::DestinationUnavailable => "destination-unavailable".into(),
        ErrorCode::DestinationIpProhibited => "destination-IP-prohibited".into(),
        ErrorCode::DestinationIpUnroutable => "destination-IP-unroutable".into(),
        ErrorCode::ConnectionRefused => "connection-refused".into(),
        ErrorCode::ConnectionTerminated => "connection-terminated".into(),
        ErrorCode::ConnectionTimeout => "connection-timeout".into(),
        ErrorCode::ConnectionReadTimeout => "connection-read-timeout".into(),
        ErrorCode::ConnectionWriteTimeout => "connection-write-timeout".into(),
        ErrorCode::ConnectionLimitReached => "connection-limit-reached".into(),
        ErrorCode::TlsProtocolError => "TLS-protocol-error".into(),
        ErrorCode::TlsCertificateError => "TLS-certificate-error".into(),
        ErrorCode::TlsAlertReceived(payload) => detail(
            "TLS-alert-received",
            payload
                .alert_message
                .clone()
                .or_else(|| payload.alert_id.map(|id| format!("alert {id}"))),
        ),
        ErrorCode::HttpRequestDenied => "HTTP-request-denied".into(),
        ErrorCode::HttpRequestLengthRequired => "HTTP-request-length-required".into(),
        ErrorCode::HttpRequestBodySize(size) => {
            detail("HTTP-request-body-size", size.map(|s| format!("{s} bytes")))
        }
        ErrorCode::HttpRequestMethodInvalid => "HTTP-request-method-invalid".into(),
        ErrorCode::HttpRequestUriInvalid => "HTTP-request-URI-invalid".into(),
        ErrorCode::HttpRequestUriTooLong => "HTTP-request-URI-too-long".into(),
        ErrorCode::HttpRequestHeaderSectionSize(size) => detail(
            "HTTP-request-header-section-size",
            size.map(|s| format!("{s} bytes")),
        ),
        ErrorCode::HttpRequestHeaderSize(payload) => {
            detail("HTTP-request-header-size", payload.as_ref().map(field_size))
        }
        ErrorCode::HttpRequestTrailerSectionSize(size) => detail(
            "HTTP-request-trailer-section-size",
            size.map(|s| format!("{s} bytes")),
        ),
        ErrorCode::HttpRequestTrailerSize(payload) => {
            detail("HTTP-request-trailer-size", Some(field_size(payload)))
        }
        ErrorCode::HttpResponseIncomplete => "HTTP-response-incomplete".into(),
        ErrorCode::HttpResponseHeaderSectionSize(size) => detail(
            "HTTP-response-header-section-size",
            size.map(|s| format!("{s} bytes")),
        ),
        ErrorCode::HttpResponseHeaderSize(payload) => {
            detail("HTTP-response-header-size", Some(field_size(payload)))
        }
        ErrorCode::HttpResponseBodySize(size) => detail(
            "HTTP-response-body-size",
            size.map(|s| format!("{s} bytes")),
        ),
        ErrorCode::HttpResponseTrailerSectionSize(size) => detail(
            "HTTP-response-trailer-section-size",
            size.map(|s| format!("{s} bytes")),
        ),
        ErrorCode::HttpResponseTrailerSize(payload) => {
            detail("HTTP-response-trailer-size", Some(field_size(payload)))
        }
        ErrorCode::HttpResponseTransferCoding(coding) => {
            detail("HTTP-response-transfer-coding", coding.clone())
        }
        ErrorCode::HttpResponseContentCoding(coding) => {
            detail("HTTP-response-content-coding", coding.clone())
        }
        ErrorCode::HttpResponseTimeout => "HTTP-response-timeout".into(),
        ErrorCode::HttpUpgradeFailed => "HTTP-upgrade-failed".into(),
        ErrorCode::HttpProtocolError => "HTTP-protocol-error".into(),
        ErrorCode::LoopDetected => "loop-detected".into(),
        ErrorCode::ConfigurationError => "configuration-error".into(),
        ErrorCode::InternalError(message) => detail("internal-error", message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(code: &ErrorCode) -> HttpError {
        HttpError::Failed {
            url: "https://openapi.zalo.me/v3.0/oa/message/cs".into(),
            code: describe_error_code(code),
        }
    }

    #[test]
    fn only_errors_after_the_request_went_out_may_have_reached_the_server() {
        for code in [
            ErrorCode::ConnectionReadTimeout,
            ErrorCode::ConnectionTerminated,
            ErrorCode::HttpResponseTimeout,
            ErrorCode::HttpResponseIncomplete,
            ErrorCode::HttpProtocolError,
        ] {
            assert!(failed(&code).may_have_arrived(), "{code:?}");
        }
        for code in [
            ErrorCode::ConnectionRefused,
            ErrorCode::ConnectionTimeout,
            ErrorCode::DnsTimeout,
            ErrorCode::DestinationNotFound,
            ErrorCode::HttpRequestDenied,
            ErrorCode::TlsCertificateError,
        ] {
            assert!(!failed(&code).may_have_arrived(), "{code:?}");
        }
        let broke_off = HttpError::Body {
            url: "https://graph.facebook.com/".into(),
            reason: "closed".into(),
        };
        assert!(broke_off.may_have_arrived());
        let bad_url = HttpError::InvalidUrl {
            url: "ftp://x".into(),
            reason: "scheme".into(),
        };
        assert!(!bad_url.may_have_arrived());
    }

    #[test]
    fn denied_request_names_the_wit_error_code() {
        let error = HttpError::Failed {
            url: "https://evil.example.com/steal".into(),
            code: describe_error_code(&ErrorCode::HttpRequestDenied),
        };
        assert_eq!(
            PluginError::from(error),
            PluginError::Upstream(
                "request to https://evil.example.com/steal failed: HTTP-request-denied".into()
            )
        );
    }

    #[test]
    fn error_code_payload_is_shown() {
        assert_eq!(
            describe_error_code(&ErrorCode::InternalError(Some("boom".into()))),
            "internal-error (boom)"
        );
        assert_eq!(
            describe_error_code(&ErrorCode::HttpResponseBodySize(None)),
            "HTTP-response-body-size"
        );
    }
}
