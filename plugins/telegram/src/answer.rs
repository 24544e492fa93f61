//! What a Bot API answer means for a delivery: sent (with its `message_id`), worth trying
//! again (flood control, server trouble, no answer), or not (chat not found, bot blocked).
//!
//! Telegram answers `{"ok":true,"result":{...}}` or
//! `{"ok":false,"error_code":N,"description":"...","parameters":{"retry_after":S}}`.

use loa_sdk::http::HttpError;
use loa_sdk::{DeliveryError, TransientFailure};
use serde::Deserialize;

/// How much of a Bot API answer the delivery log keeps: a sent message's JSON is well
/// under this, and an odd answer (an HTML error page) is cut rather than stored whole.
pub const MAX_PROVIDER_RESPONSE_CHARS: usize = 2000;

/// A request the Bot API accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `result.message_id`, when the answer is a sent message.
    pub message_id: Option<i64>,
    /// The answer as received, cut to [`MAX_PROVIDER_RESPONSE_CHARS`].
    pub raw: String,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

/// The meaning of the Bot API's answer (`status`, `body`) to a call of `method`.
pub fn interpret(method: &str, status: u16, body: &[u8]) -> Result<Accepted, DeliveryError> {
    let raw = cut(&String::from_utf8_lossy(body), MAX_PROVIDER_RESPONSE_CHARS);
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        // Not the Bot API speaking (a proxy's page, a cut-off body): the status is all
        // there is to go by.
        let reason =
            format!("{method}: HTTP {status} with an answer that is not Bot API JSON: {raw}");
        return Err(match status {
            429 | 500..=599 => transient(reason, None),
            // A 2xx without JSON says nothing about whether the message went out; another
            // try is the lesser evil than a reply that is silently lost.
            200..=299 => transient(reason, None),
            _ => DeliveryError::Permanent(reason),
        });
    };
    if answer.ok && (200..300).contains(&status) {
        let message_id = answer
            .result
            .as_ref()
            .and_then(|result| result.get("message_id"))
            .and_then(serde_json::Value::as_i64);
        return Ok(Accepted { message_id, raw });
    }
    let code = answer.error_code.unwrap_or(status);
    let description = answer
        .description
        .unwrap_or_else(|| format!("HTTP {status}"));
    let parameters = answer.parameters.unwrap_or(Parameters {
        retry_after: None,
        migrate_to_chat_id: None,
    });
    let reason = format!("{method}: Telegram error {code}: {description}");
    Err(match code {
        // Flood control: Telegram says how many seconds to wait.
        429 => transient(
            reason,
            parameters
                .retry_after
                .map(|seconds| seconds.saturating_mul(1000)),
        ),
        500..=599 => transient(reason, None),
        401 => DeliveryError::Permanent(format!(
            "{reason} (the bot_token secret of this channel is wrong or revoked)"
        )),
        // A group that became a supergroup has a new id; only the customer writing
        // again (from the new chat) can fix the conversation.
        400 if parameters.migrate_to_chat_id.is_some() => DeliveryError::Permanent(format!(
            "{reason} (the group moved to chat {})",
            parameters.migrate_to_chat_id.unwrap_or_default()
        )),
        // 400 chat not found, 403 bot blocked by the user / kicked, and anything else:
        // the same request will get the same answer.
        _ => DeliveryError::Permanent(reason),
    })
}

/// A request that got no answer: a timeout or a refused connection may pass, so it is
/// worth another try; a URL or a host the plugin may not call will not change by itself.
/// The error names the URL, which carries `bot_token`: it is masked, because the reason
/// goes into the delivery log.
pub fn failed_request(error: &HttpError, bot_token: &str) -> DeliveryError {
    let reason = redact(&error.to_string(), bot_token);
    match error {
        HttpError::InvalidUrl { .. } | HttpError::InvalidRequest { .. } => {
            DeliveryError::Permanent(format!("{reason} (check the api_base_url secret)"))
        }
        HttpError::Failed { code, .. } if code.starts_with("HTTP-request-denied") => {
            DeliveryError::Permanent(format!(
                "{reason} (the tenant must grant the Bot API host to the telegram plugin)"
            ))
        }
        _ => transient(reason, None),
    }
}

/// `text` with every occurrence of `secret` replaced by `***`.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    text.replace(secret, "***")
}

/// At most `max` characters of `text`, with `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_owned(),
    }
}

fn transient(reason: String, retry_after_ms: Option<u64>) -> DeliveryError {
    DeliveryError::Transient(TransientFailure {
        reason,
        retry_after_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permanent(result: Result<Accepted, DeliveryError>) -> String {
        match result {
            Err(DeliveryError::Permanent(reason)) => reason,
            other => panic!("expected a permanent failure, got {other:?}"),
        }
    }

    fn transient_failure(result: Result<Accepted, DeliveryError>) -> TransientFailure {
        match result {
            Err(DeliveryError::Transient(failure)) => failure,
            other => panic!("expected a transient failure, got {other:?}"),
        }
    }

    #[test]
    fn a_sent_message_gives_its_id_and_the_raw_answer() {
        let body =
            br#"{"ok":true,"result":{"message_id":42,"chat":{"id":7},"date":1,"text":"hi"}}"#;
        let accepted = interpret("sendMessage", 200, body).unwrap();
        assert_eq!(accepted.message_id, Some(42));
        assert_eq!(accepted.raw.as_bytes(), body);
    }

    #[test]
    fn flood_control_is_transient_with_telegrams_wait_in_ms() {
        let body = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#;
        let failure = transient_failure(interpret("sendMessage", 429, body));
        assert_eq!(failure.retry_after_ms, Some(3000));
        assert!(
            failure.reason.contains("Too Many Requests"),
            "{}",
            failure.reason
        );
    }

    #[test]
    fn server_errors_and_non_json_answers_are_transient() {
        let body = br#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#;
        assert_eq!(
            transient_failure(interpret("sendMessage", 502, body)).retry_after_ms,
            None
        );
        transient_failure(interpret("sendMessage", 503, b"<html>down</html>"));
        transient_failure(interpret("sendMessage", 200, b"<html>ok?</html>"));
    }

    #[test]
    fn blocked_bot_and_unknown_chat_are_permanent_with_telegrams_words() {
        let blocked = br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#;
        assert!(
            permanent(interpret("sendMessage", 403, blocked))
                .contains("bot was blocked by the user")
        );
        let missing =
            br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#;
        assert_eq!(
            permanent(interpret("sendPhoto", 400, missing)),
            "sendPhoto: Telegram error 400: Bad Request: chat not found"
        );
    }

    #[test]
    fn a_wrong_token_and_a_migrated_group_say_what_to_do() {
        let unauthorized = br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#;
        assert!(permanent(interpret("sendMessage", 401, unauthorized)).contains("bot_token"));
        let migrated = br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}"#;
        assert!(permanent(interpret("sendMessage", 400, migrated)).contains("-1001234"));
    }

    #[test]
    fn timeouts_retry_and_denied_hosts_do_not() {
        let timeout = HttpError::Failed {
            url: "https://api.telegram.org/bot1:x/sendMessage".into(),
            code: "connection-read-timeout".into(),
        };
        assert!(matches!(
            failed_request(&timeout, "1:x"),
            DeliveryError::Transient(_)
        ));
        let denied = HttpError::Failed {
            url: "https://api.telegram.org/x".into(),
            code: "HTTP-request-denied".into(),
        };
        assert!(matches!(
            failed_request(&denied, "1:x"),
            DeliveryError::Permanent(reason) if reason.contains("grant")
        ));
    }

    #[test]
    fn the_bot_token_never_reaches_the_delivery_log() {
        let timeout = HttpError::Failed {
            url: "https://api.telegram.org/bot123:SECRET/sendMessage".into(),
            code: "connection-timeout".into(),
        };
        let DeliveryError::Transient(failure) = failed_request(&timeout, "123:SECRET") else {
            panic!("a timeout is transient");
        };
        assert!(!failure.reason.contains("SECRET"), "{}", failure.reason);
        assert!(
            failure.reason.contains("bot***/sendMessage"),
            "{}",
            failure.reason
        );
    }

    #[test]
    fn long_answers_are_cut_on_a_character() {
        assert_eq!(cut("ăâêô", 2), "ăâ…");
        assert_eq!(cut("ok", 2), "ok");
    }
}
