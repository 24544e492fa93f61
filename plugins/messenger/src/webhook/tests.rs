//! The handshake and signed batches, as Meta sends them.

use loa_sdk::EventKind;
use serde_json::Value;

use super::*;

const SECRET: &str = "app-secret";
const VERIFY: &str = "verify me";

fn post(body: &str, headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        path_with_query: "/v1/hooks/fb-may".into(),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn signed(body: &str) -> HttpRequest {
    let signature = signature::sign(SECRET, body.as_bytes());
    post(body, &[("X-Hub-Signature-256", &signature)])
}

fn error_code(handled: &Handled) -> String {
    let body: Value = serde_json::from_slice(&handled.outcome.response.body).expect("JSON error");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const MESSAGE: &str = r#"{"object":"page","entry":[{"id":"P","time":1,"messaging":[
    {"sender":{"id":"PSID"},"recipient":{"id":"P"},"timestamp":2,
     "message":{"mid":"m_1","text":"hi"}}]}]}"#;

#[test]
fn the_handshake_echoes_the_challenge() {
    let handled = verify_subscription(
        "/v1/hooks/fb?hub.mode=subscribe&hub.verify_token=verify+me&hub.challenge=1158201444",
        VERIFY,
    );
    assert_eq!(handled.outcome.response.status, 200);
    assert_eq!(handled.outcome.response.body, b"1158201444");
    assert!(handled.outcome.events.is_empty());
}

#[test]
fn a_percent_encoded_verify_token_is_decoded() {
    let handled = verify_subscription(
        "/h?hub.verify_token=verify%20me&hub.challenge=42&hub.mode=subscribe",
        VERIFY,
    );
    assert_eq!(handled.outcome.response.status, 200);
    assert_eq!(handled.outcome.response.body, b"42");
}

#[test]
fn a_wrong_or_missing_token_or_mode_is_forbidden() {
    for path in [
        "/h?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
        "/h?hub.mode=subscribe&hub.challenge=1",
        "/h?hub.mode=unsubscribe&hub.verify_token=verify+me&hub.challenge=1",
        "/h",
    ] {
        let handled = verify_subscription(path, VERIFY);
        assert_eq!(handled.outcome.response.status, 403, "{path}");
        assert!(handled.outcome.events.is_empty());
        assert_eq!(handled.notes.len(), 1);
    }
}

#[test]
fn a_signed_batch_is_accepted_with_its_events() {
    let handled = receive_events(&signed(MESSAGE), SECRET, 0);
    assert_eq!(handled.outcome.response.status, 200);
    assert_eq!(handled.outcome.response.body, b"EVENT_RECEIVED");
    assert_eq!(handled.outcome.events.len(), 1);
    assert_eq!(handled.outcome.events[0].channel_message_id, "m_1");
    assert!(matches!(
        &handled.outcome.events[0].kind,
        EventKind::Message(message) if message.text.as_deref() == Some("hi")
    ));
}

#[test]
fn the_signature_header_name_is_case_insensitive() {
    let signature = signature::sign(SECRET, MESSAGE.as_bytes());
    let request = post(MESSAGE, &[("x-hub-signature-256", &signature)]);
    assert_eq!(
        receive_events(&request, SECRET, 0).outcome.response.status,
        200
    );
}

#[test]
fn a_missing_or_wrong_signature_is_401_without_events() {
    let missing = receive_events(&post(MESSAGE, &[]), SECRET, 0);
    assert_eq!(missing.outcome.response.status, 401);
    assert_eq!(error_code(&missing), "missing_signature");
    assert!(missing.outcome.events.is_empty());

    let forged = signature::sign("not-the-secret", MESSAGE.as_bytes());
    let wrong = receive_events(
        &post(MESSAGE, &[("X-Hub-Signature-256", &forged)]),
        SECRET,
        0,
    );
    assert_eq!(wrong.outcome.response.status, 401);
    assert_eq!(error_code(&wrong), "invalid_signature");
    assert!(wrong.outcome.events.is_empty());
}

#[test]
fn a_signed_body_that_is_not_a_page_webhook_is_400_with_the_reason() {
    let handled = receive_events(&signed(r#"{"object":"user","entry":[]}"#), SECRET, 0);
    assert_eq!(handled.outcome.response.status, 400);
    assert_eq!(error_code(&handled), "not_a_page_webhook");
    let body = String::from_utf8_lossy(&handled.outcome.response.body).into_owned();
    assert!(body.contains("\\\"user\\\""), "{body}");
    assert!(handled.outcome.events.is_empty());
}

#[test]
fn other_methods_are_405_naming_the_allowed_ones() {
    let handled = method_not_allowed("PUT");
    assert_eq!(handled.outcome.response.status, 405);
    assert!(
        handled
            .outcome
            .response
            .headers
            .contains(&("allow".into(), "GET, POST".into()))
    );
}

#[test]
fn percent_decoding_keeps_bad_escapes_as_they_are() {
    assert_eq!(percent_decode("a%2Fb+c%zz%"), "a/b c%zz%");
    assert_eq!(percent_decode("%C4%91"), "đ");
}
