//! The webhook endpoint: only signed `POST`s of Zalo OA events get through, each refusal
//! a JSON error the admin can act on, and every accepted event is answered 200 (Zalo
//! resends an event it got no 200 for).

use loa_sdk::{HttpRequest, HttpResponse, WebhookOutcome};

use crate::inbound::{self, Envelope, NotAZaloEvent};
use crate::signature::{self, SignatureProblem};

/// What the plugin made of a webhook request, with lines for the plugin's log.
#[derive(Debug)]
pub struct Handled {
    /// Events and the answer for the host.
    pub outcome: WebhookOutcome,
    /// What was refused or ignored, for the log (never secrets).
    pub notes: Vec<String>,
}

impl Handled {
    fn refused(status: u16, code: &str, message: &str) -> Self {
        Self {
            outcome: WebhookOutcome {
                events: Vec::new(),
                response: error(status, code, message),
            },
            notes: vec![format!("{status} {code}: {message}")],
        }
    }
}

/// The channel's keys the webhook is checked with.
pub struct Keys<'a> {
    /// The Zalo app's id, as in every event's `app_id`.
    pub app_id: &'a str,
    /// The OA secret key the events are signed with.
    pub oa_secret_key: &'a str,
}

/// Checks and parses one request: method, then the signature header's presence, then the
/// body's shape (the signature covers its `timestamp`), then the signature itself.
pub fn receive(request: &HttpRequest, keys: &Keys<'_>, now_ms: u64) -> Handled {
    if !request.method.eq_ignore_ascii_case("POST") {
        let mut handled = Handled::refused(
            405,
            "method_not_allowed",
            &format!("Zalo posts OA events; {} is not accepted", request.method),
        );
        handled
            .outcome
            .response
            .headers
            .push(("allow".into(), "POST".into()));
        return handled;
    }
    let presented: Vec<&str> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(signature::HEADER))
        .map(|(_, value)| value.as_str())
        .collect();
    let header = match presented.as_slice() {
        [] => return refused_signature(SignatureProblem::Missing),
        [one] => *one,
        _ => return refused_signature(SignatureProblem::Missing),
    };
    let envelope: Envelope = match inbound::envelope(&request.body, keys.app_id) {
        Ok(envelope) => envelope,
        Err(NotAZaloEvent(reason)) => {
            return Handled::refused(400, "not_a_zalo_event", &reason);
        }
    };
    let checked = signature::verify(
        keys.app_id.trim(),
        &request.body,
        &envelope.timestamp,
        keys.oa_secret_key,
        Some(header),
    );
    if let Err(problem) = checked {
        return refused_signature(problem);
    }
    let parsed = inbound::events(&envelope, now_ms);
    Handled {
        outcome: WebhookOutcome {
            events: parsed.events,
            response: json(200, r#"{"ok":true}"#.to_owned()),
        },
        notes: parsed.ignored.into_iter().collect(),
    }
}

/// The channel id in `/v1/hooks/{channel_id}?…`: the last path segment.
pub fn channel_id(path_with_query: &str) -> &str {
    let path = path_with_query.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

fn refused_signature(problem: SignatureProblem) -> Handled {
    Handled::refused(401, problem.code(), problem.message())
}

/// `{"error": {"code": …, "message": …}}` with `status`.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    json(status, body.to_string())
}

fn json(status: u16, body: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use loa_sdk::EventKind;
    use serde_json::json;

    use super::*;

    const APP: &str = "1234567890123456789";
    const SECRET: &str = "oa-secret";

    fn keys() -> Keys<'static> {
        Keys {
            app_id: APP,
            oa_secret_key: SECRET,
        }
    }

    fn text_event() -> Vec<u8> {
        json!({
            "app_id": APP, "event_name": "user_send_text", "timestamp": "1718000100000",
            "sender": {"id": "246813579"}, "recipient": {"id": "579135246"},
            "message": {"msg_id": "m1", "text": "hi"}
        })
        .to_string()
        .into_bytes()
    }

    fn request(method: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            path_with_query: "/v1/hooks/zalo-may".into(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body,
        }
    }

    fn signed(body: Vec<u8>) -> HttpRequest {
        let mac = signature::sign(APP, &body, "1718000100000", SECRET);
        request("POST", body, &[("X-ZEvent-Signature", &mac)])
    }

    fn code(handled: &Handled) -> String {
        let body: serde_json::Value =
            serde_json::from_slice(&handled.outcome.response.body).expect("JSON");
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn a_signed_event_is_accepted_with_its_event() {
        let handled = receive(&signed(text_event()), &keys(), 0);
        assert_eq!(handled.outcome.response.status, 200);
        assert_eq!(handled.outcome.events.len(), 1);
        assert!(matches!(
            handled.outcome.events[0].kind,
            EventKind::Message(_)
        ));
    }

    #[test]
    fn missing_doubled_or_wrong_signatures_are_401_without_events() {
        let body = text_event();
        let missing = receive(&request("POST", body.clone(), &[]), &keys(), 0);
        assert_eq!(
            (missing.outcome.response.status, code(&missing)),
            (401, "missing_signature".into())
        );
        let mac = signature::sign(APP, &body, "1718000100000", SECRET);
        let twice = request(
            "POST",
            body.clone(),
            &[("x-zevent-signature", &mac), ("X-ZEvent-Signature", &mac)],
        );
        assert_eq!(receive(&twice, &keys(), 0).outcome.response.status, 401);
        let forged = signature::sign(APP, &body, "1718000100000", "guess");
        let wrong = receive(
            &request("POST", body, &[("x-zevent-signature", &forged)]),
            &keys(),
            0,
        );
        assert_eq!(
            (wrong.outcome.response.status, code(&wrong)),
            (401, "invalid_signature".into())
        );
        assert!(wrong.outcome.events.is_empty());
    }

    #[test]
    fn a_body_that_is_not_a_zalo_event_is_400_with_the_reason() {
        let handled = receive(&signed(b"hello".to_vec()), &keys(), 0);
        assert_eq!(handled.outcome.response.status, 400);
        assert_eq!(code(&handled), "not_a_zalo_event");
        let mut other_app: serde_json::Value = serde_json::from_slice(&text_event()).unwrap();
        other_app["app_id"] = "42".into();
        let handled = receive(&signed(other_app.to_string().into_bytes()), &keys(), 0);
        assert_eq!(handled.outcome.response.status, 400);
        assert!(handled.outcome.events.is_empty());
    }

    #[test]
    fn only_post_is_accepted() {
        let handled = receive(&request("GET", Vec::new(), &[]), &keys(), 0);
        assert_eq!(handled.outcome.response.status, 405);
        assert!(
            handled
                .outcome
                .response
                .headers
                .contains(&("allow".into(), "POST".into()))
        );
    }

    #[test]
    fn the_channel_id_is_the_last_path_segment() {
        assert_eq!(channel_id("/v1/hooks/zalo-may"), "zalo-may");
        assert_eq!(channel_id("/v1/hooks/zalo-may/?x=1"), "zalo-may");
        assert_eq!(channel_id(""), "");
    }
}
