//! The webhook endpoint: the `GET` subscription handshake and signed `POST` event batches,
//! each answered the way Meta expects (the challenge echoed, `200 EVENT_RECEIVED`), and
//! every refusal as a JSON error the operator can act on.

use loa_sdk::{HttpRequest, HttpResponse, WebhookOutcome};

use crate::inbound;
use crate::signature::{self, SignatureProblem};

/// What the plugin made of a webhook request, with lines for the plugin's log.
#[derive(Debug)]
pub struct Handled {
    /// Events and the answer for the host.
    pub outcome: WebhookOutcome,
    /// What was refused or skipped, for the log (never secrets).
    pub notes: Vec<String>,
}

impl Handled {
    fn answer(response: HttpResponse) -> Self {
        Self {
            outcome: WebhookOutcome {
                events: Vec::new(),
                response,
            },
            notes: Vec::new(),
        }
    }

    fn refused(status: u16, code: &str, message: &str) -> Self {
        let mut handled = Self::answer(json_error(status, code, message));
        handled.notes.push(format!("{status} {code}: {message}"));
        handled
    }
}

/// `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: Meta checks that the
/// endpoint belongs to whoever typed the verify token into the app dashboard. The
/// challenge is echoed as plain text; anything else is 403 and no events.
pub fn verify_subscription(path_with_query: &str, verify_token: &str) -> Handled {
    let query = query_pairs(path_with_query);
    let value = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if value("hub.mode") != Some("subscribe") {
        return Handled::refused(
            403,
            "not_a_subscription",
            "expected a Messenger webhook handshake (hub.mode=subscribe) or a signed POST",
        );
    }
    let token_matches = value("hub.verify_token")
        .is_some_and(|given| constant_time_eq(given.as_bytes(), verify_token.as_bytes()));
    if !token_matches {
        return Handled::refused(
            403,
            "invalid_verify_token",
            "hub.verify_token is not this channel's verify_token",
        );
    }
    match value("hub.challenge") {
        Some(challenge) if !challenge.is_empty() => Handled::answer(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: challenge.as_bytes().to_vec(),
        }),
        _ => Handled::refused(400, "missing_challenge", "hub.challenge is missing"),
    }
}

/// A `POST` of events: signature first (nothing is read from a body that is not Meta's),
/// then the body. Facebook wants a 200 quickly, whatever the bot does with the events.
pub fn receive_events(request: &HttpRequest, app_secret: &str, now_ms: u64) -> Handled {
    let header = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(signature::HEADER))
        .map(|(_, value)| value.as_str());
    if let Err(problem) = signature::verify(app_secret, &request.body, header) {
        return refused_signature(problem);
    }
    let parsed = match inbound::parse(&request.body, now_ms) {
        Ok(parsed) => parsed,
        Err(inbound::NotAPageWebhook(reason)) => {
            return Handled::refused(400, "not_a_page_webhook", &reason);
        }
    };
    Handled {
        outcome: WebhookOutcome {
            events: parsed.events,
            response: HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                body: b"EVENT_RECEIVED".to_vec(),
            },
        },
        notes: parsed
            .skipped
            .into_iter()
            .map(|reason| format!("skipped {reason}"))
            .collect(),
    }
}

/// Any other method: Meta only ever sends `GET` (handshake) and `POST` (events).
pub fn method_not_allowed(method: &str) -> Handled {
    let mut handled = Handled::refused(
        405,
        "method_not_allowed",
        &format!("{method} is not used by Messenger webhooks; expected GET or POST"),
    );
    handled
        .outcome
        .response
        .headers
        .push(("allow".into(), "GET, POST".into()));
    handled
}

fn refused_signature(problem: SignatureProblem) -> Handled {
    Handled::refused(401, problem.code(), problem.message())
}

/// `{"error": {"code": …, "message": …}}` with `status`.
fn json_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// The query's `name=value` pairs, percent-decoded (`+` is a space, as forms encode it).
fn query_pairs(path_with_query: &str) -> Vec<(String, String)> {
    let Some((_, query)) = path_with_query.split_once('?') else {
        return Vec::new();
    };
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(value)) => {
                decoded.push(value);
                index += 3;
            }
            (b'+', None) => {
                decoded.push(b' ');
                index += 1;
            }
            (other, None) => {
                decoded.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Equal bytes, in a time that depends on the length only: a verify token must not be
/// guessable one character at a time.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests;
