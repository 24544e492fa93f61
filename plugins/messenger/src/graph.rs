//! The Send API's answers: the sent message's id, or an error sorted into "try again
//! later" (rate limits, Meta's own trouble) and "trying again cannot help" (outside the
//! 24-hour window, the person is unavailable, a bad token or request).
//!
//! Reasons never contain the request URL: it carries the Page access token.

use loa_sdk::http::{HttpError, percent_encode};
use loa_sdk::{DeliveryError, TransientFailure};
use serde::Deserialize;

/// Default Graph API host, when the tenant sets no `api_base_url`.
pub const DEFAULT_API_BASE_URL: &str = "https://graph.facebook.com";

/// Default Graph API version, when the tenant sets no `api_version`: a version Meta
/// supports for two years from its release, pinned so Meta's changes arrive on purpose.
pub const DEFAULT_API_VERSION: &str = "v21.0";

/// How much of a raw response is kept for the delivery log.
pub const MAX_KEPT_RESPONSE_CHARS: usize = 2000;

/// A message the Send API accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `message_id` of the answer, when it has one.
    pub message_id: Option<String>,
    /// The answer as sent, cut to [`MAX_KEPT_RESPONSE_CHARS`].
    pub raw: String,
}

/// `{base}/{version}/me/messages?access_token=…`, the Send API as Meta documents it (`me`
/// is the Page the token belongs to).
pub fn messages_url(api_base_url: &str, api_version: &str, page_access_token: &str) -> String {
    format!(
        "{}/{}/me/messages?access_token={}",
        api_base_url.trim().trim_end_matches('/'),
        api_version.trim().trim_matches('/'),
        percent_encode(page_access_token.trim())
    )
}

#[derive(Deserialize)]
struct Answer {
    message_id: Option<String>,
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct GraphError {
    message: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    fbtrace_id: Option<String>,
}

/// Graph error codes worth retrying: 1 unknown error, 2 service temporarily unavailable,
/// 4 / 17 / 32 / 613 rate limits (app, user, page, calls), 1200 temporary send failure.
const TRANSIENT_CODES: &[i64] = &[1, 2, 4, 17, 32, 613, 1200];

/// The Send API's answer to one call: HTTP `status`, `body`, and `Retry-After` if any.
pub fn interpret(
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
) -> Result<Accepted, DeliveryError> {
    let raw = cut(&String::from_utf8_lossy(body));
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    let (message_id, error) = match answer {
        Some(answer) => (answer.message_id, answer.error),
        None => (None, None),
    };
    if (200..300).contains(&status) && error.is_none() {
        return Ok(Accepted { message_id, raw });
    }
    let retry_after_ms = retry_after.and_then(parse_retry_after_ms);
    let Some(error) = error else {
        let reason = format!("Send API answered HTTP {status}: {raw}");
        return Err(if status == 429 || status >= 500 {
            transient(reason, retry_after_ms)
        } else {
            DeliveryError::Permanent(reason)
        });
    };
    let reason = describe(status, &error);
    let code = error.code.unwrap_or_default();
    if TRANSIENT_CODES.contains(&code) || status == 429 {
        return Err(transient(reason, retry_after_ms));
    }
    // Named so a change to the list below is a decision, not an accident:
    // 10 + 2018278 outside the 24-hour window, 551 person unavailable, 100 invalid
    // parameter (unknown PSID …), 190 invalid or expired token, 200 missing permission.
    let known_permanent = matches!(code, 10 | 100 | 190 | 200 | 551);
    if !known_permanent && status >= 500 {
        return Err(transient(reason, retry_after_ms));
    }
    Err(DeliveryError::Permanent(reason))
}

/// A request that got no answer. Timeouts and broken connections may pass; a host the
/// tenant did not grant or a bad URL will not, until someone changes the settings.
pub fn transport_failure(error: &HttpError) -> DeliveryError {
    match error {
        HttpError::Failed { code, .. } if code.contains("HTTP-request-denied") => {
            DeliveryError::Permanent(format!(
                "the Graph API host is not allowed ({code}): grant it to the messenger plugin \
                 for this tenant (http_grants) and check api_base_url"
            ))
        }
        HttpError::Failed { code, .. } if code.contains("destination-IP-prohibited") => {
            DeliveryError::Permanent(format!(
                "api_base_url points at a private or loopback address ({code})"
            ))
        }
        HttpError::Failed { code, .. } => transient(format!("Send API call failed: {code}"), None),
        HttpError::Body { reason, .. } => {
            transient(format!("Send API answer broke off: {reason}"), None)
        }
        HttpError::ResponseTooLarge { limit, .. } => {
            transient(format!("Send API answer larger than {limit} bytes"), None)
        }
        HttpError::InvalidUrl { reason, .. } => {
            DeliveryError::Permanent(format!("api_base_url is not a usable URL: {reason}"))
        }
        HttpError::InvalidRequest { reason, .. } => {
            DeliveryError::Permanent(format!("Send API request refused by the host: {reason}"))
        }
        HttpError::Json { reason, .. } => {
            DeliveryError::Permanent(format!("message could not be encoded: {reason}"))
        }
        HttpError::Status { status, body, .. } => {
            // Not produced by `send`, handled for completeness.
            transient(format!("Send API answered HTTP {status}: {body}"), None)
        }
    }
}

/// Why a Graph API call answered `status` with `body`: Graph's error code and message, or
/// the start of the body when it has none.
pub fn error_reason(status: u16, body: &[u8]) -> String {
    let error = serde_json::from_slice::<Answer>(body)
        .ok()
        .and_then(|answer| answer.error);
    match error {
        Some(error) => describe(status, &error),
        None => format!(
            "Graph API answered HTTP {status}: {}",
            cut(&String::from_utf8_lossy(body))
        ),
    }
}

fn describe(status: u16, error: &GraphError) -> String {
    let code = error
        .code
        .map_or_else(|| "?".to_owned(), |code| code.to_string());
    let subcode = error
        .error_subcode
        .map(|subcode| format!("/{subcode}"))
        .unwrap_or_default();
    let message = error.message.as_deref().unwrap_or("no message");
    let trace = error
        .fbtrace_id
        .as_deref()
        .map(|id| format!(", fbtrace_id {id}"))
        .unwrap_or_default();
    format!("Graph API error {code}{subcode}: {message} (HTTP {status}{trace})")
}

fn transient(reason: String, retry_after_ms: Option<u64>) -> DeliveryError {
    DeliveryError::Transient(TransientFailure {
        reason,
        retry_after_ms,
    })
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the Graph API).
fn parse_retry_after_ms(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok()?.checked_mul(1000)
}

/// `text` cut to [`MAX_KEPT_RESPONSE_CHARS`] characters.
pub fn cut(text: &str) -> String {
    loa_sdk::text::cut_chars(text, MAX_KEPT_RESPONSE_CHARS)
}

#[cfg(test)]
mod tests;
