//! What the customer-service API's answer means for a delivery.
//!
//! Zalo answers HTTP 200 for most failures too, with the outcome in the body:
//! `{"error": 0, "message": "Success", "data": {"message_id": …}}` when the message went
//! out, `{"error": -216, "message": "Access token is invalid"}` and the like when not.
//! Requests carry the access token in a header, never in the URL, so reasons may name
//! the URL; they never contain a token.

use loa_sdk::http::HttpError;
use loa_sdk::{DeliveryError, TransientFailure};
use serde_json::Value;

/// How much of a raw answer the delivery log keeps.
pub const MAX_KEPT_RESPONSE_CHARS: usize = 2000;

/// Access token invalid or expired: refresh it and send again.
pub const ACCESS_TOKEN_INVALID: i64 = -216;

/// A message Zalo took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `data.message_id`, when the answer has one.
    pub message_id: Option<String>,
    /// The answer as received, cut to [`MAX_KEPT_RESPONSE_CHARS`].
    pub raw: String,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The access token was not accepted (error -216): a fresh one may do.
    AccessToken(String),
    /// Anything else, sorted for the host.
    Delivery(DeliveryError),
}

/// The ZNS API's "access token invalid" (its codes are its own).
pub const ZNS_ACCESS_TOKEN_INVALID: i64 = -124;

/// Which API answered: the customer-service message API or ZNS (template messages); the
/// envelope is the same, the error codes and the id's name differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/v3.0/oa/message/cs`.
    CustomerService,
    /// `/message/template` (ZNS).
    Template,
}

/// The answer (`status`, `body`, `Retry-After` if any) to one customer-service send.
pub fn interpret(status: u16, body: &[u8], retry_after: Option<&str>) -> Result<Accepted, Refused> {
    interpret_for(Api::CustomerService, status, body, retry_after)
}

/// The answer of `api` (`status`, `body`, `Retry-After` if any) to one send.
pub fn interpret_for(
    api: Api,
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
) -> Result<Accepted, Refused> {
    let raw = cut(&String::from_utf8_lossy(body));
    let retry_after_ms = retry_after.and_then(parse_retry_after_ms);
    if status == 429 || status >= 500 {
        return Err(transient(
            format!("Zalo answered HTTP {status}: {raw}"),
            retry_after_ms,
        ));
    }
    let answer: Option<Value> = serde_json::from_slice(body).ok();
    let Some(code) = answer
        .as_ref()
        .and_then(|answer| answer.get("error"))
        .and_then(Value::as_i64)
    else {
        let reason = format!("Zalo answered HTTP {status} without its JSON: {raw}");
        // A 2xx that is not Zalo speaking says nothing about whether the message went
        // out; another try is the lesser evil than a reply silently lost.
        return Err(if (200..300).contains(&status) {
            transient(reason, None)
        } else {
            Refused::Delivery(DeliveryError::Permanent(reason))
        });
    };
    let message = answer
        .as_ref()
        .and_then(|answer| answer.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("no message");
    if code == 0 && (200..300).contains(&status) {
        let id_at = match api {
            Api::CustomerService => "/data/message_id",
            Api::Template => "/data/msg_id",
        };
        let message_id = answer
            .as_ref()
            .and_then(|answer| answer.pointer(id_at))
            .and_then(|id| match id {
                Value::String(id) => Some(id.clone()),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            });
        return Ok(Accepted { message_id, raw });
    }
    let said = format!("Zalo error {code}: {message}");
    if api == Api::Template {
        return Err(template_refusal(code, said, retry_after_ms));
    }
    Err(match code {
        ACCESS_TOKEN_INVALID => Refused::AccessToken(said),
        // Requests per minute over the app's limit.
        -32 => transient(format!("{said} (rate limit)"), retry_after_ms),
        // The OA's message quota is used up for now.
        -211 => transient(format!("{said} (quota used up)"), retry_after_ms),
        -213 => permanent(format!(
            "{said} (the customer does not follow the OA, or has blocked it: Zalo takes \
             customer-service messages only to followers)"
        )),
        -230 => permanent(format!(
            "{said} (outside the customer-service window: the customer has not written to \
             the OA in the last 7 days, and only they can reopen it)"
        )),
        -201 => permanent(format!(
            "{said} (Zalo refused the message as invalid; the same message would be refused \
             again)"
        )),
        // Anything else Zalo says no to (OA or app not allowed, user banned …) gets the
        // same answer on the same request.
        _ => permanent(said),
    })
}

/// What a ZNS error code means (Zalo's ZNS error table).
fn template_refusal(code: i64, said: String, retry_after_ms: Option<u64>) -> Refused {
    match code {
        ZNS_ACCESS_TOKEN_INVALID | ACCESS_TOKEN_INVALID => Refused::AccessToken(said),
        // "Unknown error, please try again later", and the app's rate limit.
        -100 | -32 => transient(format!("{said} (try again later)"), retry_after_ms),
        -108 => permanent(format!("{said} (the phone number is not valid for ZNS)")),
        -109 => permanent(format!(
            "{said} (no such ZNS template for this OA: check the template id in the ZNS console)"
        )),
        -111 | -112 => permanent(format!(
            "{said} (the parameters do not match the template's: check their names and values)"
        )),
        -114 | -118 | -119 => permanent(format!(
            "{said} (this person cannot receive ZNS: no Zalo account on the number, inactive,              or they refused ZNS messages)"
        )),
        -115 => permanent(format!(
            "{said} (the ZNS balance is used up: top it up in the ZNS console, then retry              the dead letter)"
        )),
        _ => permanent(said),
    }
}

/// A request that got no answer. Timeouts and broken connections may pass; a host the
/// tenant did not grant or a bad URL will not, until someone changes the settings.
pub fn transport_failure(what: &str, error: &HttpError) -> DeliveryError {
    match error {
        HttpError::Failed { code, .. } if code.contains("HTTP-request-denied") => {
            DeliveryError::Permanent(format!(
                "{what}: the host is not allowed ({code}): grant openapi.zalo.me and \
                 oauth.zaloapp.com to the zalo-oa plugin for this tenant (http_grants)"
            ))
        }
        HttpError::Failed { code, .. } if code.contains("destination-IP-prohibited") => {
            DeliveryError::Permanent(format!(
                "{what}: the configured base URL points at a private or loopback address \
                 ({code})"
            ))
        }
        HttpError::Failed { code, .. } => plain_transient(format!("{what} failed: {code}")),
        HttpError::Body { reason, .. } => {
            plain_transient(format!("{what}: the answer broke off: {reason}"))
        }
        HttpError::ResponseTooLarge { limit, .. } => {
            plain_transient(format!("{what}: the answer is larger than {limit} bytes"))
        }
        HttpError::InvalidUrl { reason, .. } => DeliveryError::Permanent(format!(
            "{what}: api_base_url or oauth_base_url is not a usable URL: {reason}"
        )),
        HttpError::InvalidRequest { reason, .. } => {
            DeliveryError::Permanent(format!("{what}: the host refused the request: {reason}"))
        }
        HttpError::Json { reason, .. } => {
            DeliveryError::Permanent(format!("{what}: could not be encoded: {reason}"))
        }
        HttpError::Status { status, .. } => {
            plain_transient(format!("{what}: Zalo answered HTTP {status}"))
        }
    }
}

fn transient(reason: String, retry_after_ms: Option<u64>) -> Refused {
    Refused::Delivery(DeliveryError::Transient(TransientFailure {
        reason,
        retry_after_ms,
    }))
}

fn plain_transient(reason: String) -> DeliveryError {
    DeliveryError::Transient(TransientFailure {
        reason,
        retry_after_ms: None,
    })
}

fn permanent(reason: String) -> Refused {
    Refused::Delivery(DeliveryError::Permanent(reason))
}

/// `Retry-After` in seconds (Zalo does not document one; honoured when sent).
fn parse_retry_after_ms(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok()?.checked_mul(1000)
}

/// `text` cut to [`MAX_KEPT_RESPONSE_CHARS`] characters.
pub fn cut(text: &str) -> String {
    loa_sdk::text::cut_chars(text, MAX_KEPT_RESPONSE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zalo(code: i64, message: &str) -> Vec<u8> {
        serde_json::json!({"error": code, "message": message})
            .to_string()
            .into_bytes()
    }

    fn permanent_reason(result: Result<Accepted, Refused>) -> String {
        match result {
            Err(Refused::Delivery(DeliveryError::Permanent(reason))) => reason,
            other => panic!("expected a permanent failure, got {other:?}"),
        }
    }

    fn transient_failure(result: Result<Accepted, Refused>) -> TransientFailure {
        match result {
            Err(Refused::Delivery(DeliveryError::Transient(failure))) => failure,
            other => panic!("expected a transient failure, got {other:?}"),
        }
    }

    #[test]
    fn a_zns_answer_gives_its_msg_id_and_sorts_its_own_codes() {
        let body = br#"{"error":0,"message":"Success","data":{"msg_id":"a1b2","sent_time":"1700000000000","quota":{"dailyQuota":"500","remainingQuota":"499"}}}"#;
        let accepted = interpret_for(Api::Template, 200, body, None).expect("accepted");
        assert_eq!(accepted.message_id.as_deref(), Some("a1b2"));
        assert!(matches!(
            interpret_for(
                Api::Template,
                200,
                &zalo(-124, "Access token is invalid"),
                None
            ),
            Err(Refused::AccessToken(_))
        ));
        let quota = permanent_reason(interpret_for(
            Api::Template,
            200,
            &zalo(-115, "Out of quota"),
            None,
        ));
        assert!(quota.contains("top it up"), "{quota}");
        let phone = permanent_reason(interpret_for(
            Api::Template,
            200,
            &zalo(-108, "Phone number invalid"),
            None,
        ));
        assert!(phone.contains("-108"), "{phone}");
        let again = transient_failure(interpret_for(
            Api::Template,
            200,
            &zalo(-100, "Unknown error"),
            None,
        ));
        assert!(again.reason.contains("-100"), "{}", again.reason);
        // The customer-service table does not apply: -230 is just another ZNS refusal.
        let other = permanent_reason(interpret_for(Api::Template, 200, &zalo(-230, "x"), None));
        assert!(!other.contains("customer-service window"), "{other}");
    }

    #[test]
    fn success_gives_the_message_id_and_the_raw_answer() {
        let body =
            br#"{"data":{"message_id":"7d6a3f0c","user_id":"2468"},"error":0,"message":"Success"}"#;
        let accepted = interpret(200, body, None).expect("accepted");
        assert_eq!(accepted.message_id.as_deref(), Some("7d6a3f0c"));
        assert_eq!(accepted.raw.as_bytes(), body);
    }

    #[test]
    fn an_invalid_access_token_asks_for_a_refresh() {
        assert_eq!(
            interpret(200, &zalo(-216, "Access token is invalid"), None),
            Err(Refused::AccessToken(
                "Zalo error -216: Access token is invalid".into()
            ))
        );
    }

    #[test]
    fn not_following_outside_the_window_and_bad_params_are_permanent_and_named() {
        let not_following = permanent_reason(interpret(
            200,
            &zalo(-213, "User has not followed OA"),
            None,
        ));
        assert!(
            not_following.contains("-213") && not_following.contains("follow"),
            "{not_following}"
        );
        let window = permanent_reason(interpret(
            200,
            &zalo(
                -230,
                "User has not interacted with the OA in the past 7 days",
            ),
            None,
        ));
        assert!(
            window.contains("-230") && window.contains("window"),
            "{window}"
        );
        let invalid = permanent_reason(interpret(200, &zalo(-201, "Parameters are invalid"), None));
        assert!(invalid.contains("-201"), "{invalid}");
        let unknown = permanent_reason(interpret(200, &zalo(-224, "OA tier"), None));
        assert_eq!(unknown, "Zalo error -224: OA tier");
    }

    #[test]
    fn rate_limits_quota_server_errors_and_odd_2xx_are_transient() {
        assert!(
            transient_failure(interpret(200, &zalo(-32, "Exceed rate limit"), None))
                .reason
                .contains("rate limit")
        );
        assert!(
            transient_failure(interpret(200, &zalo(-211, "Out of quota"), None))
                .reason
                .contains("quota")
        );
        assert_eq!(
            transient_failure(interpret(503, b"<html>busy</html>", Some("7"))).retry_after_ms,
            Some(7000)
        );
        transient_failure(interpret(429, b"", None));
        transient_failure(interpret(500, &zalo(-213, "even so"), None));
        transient_failure(interpret(200, b"<html>ok?</html>", None));
    }

    #[test]
    fn a_4xx_without_zalos_json_is_permanent() {
        permanent_reason(interpret(404, b"not found", None));
    }

    #[test]
    fn timeouts_retry_and_denied_hosts_do_not() {
        let timeout = HttpError::Failed {
            url: "https://openapi.zalo.me/v3.0/oa/message/cs".into(),
            code: "connection-read-timeout".into(),
        };
        assert!(matches!(
            transport_failure("send", &timeout),
            DeliveryError::Transient(_)
        ));
        let denied = HttpError::Failed {
            url: "https://openapi.zalo.me/x".into(),
            code: "HTTP-request-denied".into(),
        };
        assert!(matches!(
            transport_failure("send", &denied),
            DeliveryError::Permanent(reason) if reason.contains("http_grants")
        ));
    }

    #[test]
    fn long_answers_are_cut_on_a_character() {
        let long = "ă".repeat(MAX_KEPT_RESPONSE_CHARS + 5);
        assert_eq!(cut(&long).chars().count(), MAX_KEPT_RESPONSE_CHARS + 1);
        assert_eq!(cut("ok"), "ok");
    }
}
