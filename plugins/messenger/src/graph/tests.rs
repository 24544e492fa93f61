//! Send API answers as Meta documents them, sorted.

use super::*;

fn error_body(code: i64, subcode: Option<i64>, message: &str) -> Vec<u8> {
    let mut error = serde_json::json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    serde_json::json!({ "error": error })
        .to_string()
        .into_bytes()
}

fn is_transient(result: &Result<Accepted, DeliveryError>) -> bool {
    matches!(result, Err(DeliveryError::Transient(_)))
}

fn is_permanent(result: &Result<Accepted, DeliveryError>) -> bool {
    matches!(result, Err(DeliveryError::Permanent(_)))
}

#[test]
fn success_gives_the_message_id_and_the_raw_answer() {
    let body = br#"{"recipient_id":"PSID","message_id":"m_AG5Hz2U"}"#;
    let accepted = interpret(200, body, None).expect("accepted");
    assert_eq!(accepted.message_id.as_deref(), Some("m_AG5Hz2U"));
    assert_eq!(accepted.raw.as_bytes(), body);
}

#[test]
fn rate_limits_are_transient_whatever_the_status() {
    for code in [4, 17, 32, 613] {
        let result = interpret(400, &error_body(code, None, "rate limit"), None);
        assert!(is_transient(&result), "{code}: {result:?}");
    }
    let result = interpret(429, b"slow down", Some("30"));
    let Err(DeliveryError::Transient(failure)) = result else {
        panic!("transient: {result:?}")
    };
    assert_eq!(failure.retry_after_ms, Some(30_000));
}

#[test]
fn server_trouble_is_transient() {
    assert!(is_transient(&interpret(
        500,
        &error_body(2, None, "Service temporarily unavailable"),
        None
    )));
    assert!(is_transient(&interpret(
        400,
        &error_body(1, None, "An unknown error occurred"),
        None
    )));
    assert!(is_transient(&interpret(503, b"<html>busy</html>", None)));
    assert!(is_transient(&interpret(
        502,
        &error_body(9999, None, "new"),
        None
    )));
}

#[test]
fn outside_the_window_is_permanent_with_the_message() {
    let result = interpret(
        400,
        &error_body(
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window.",
        ),
        None,
    );
    let Err(DeliveryError::Permanent(reason)) = result else {
        panic!("permanent: {result:?}")
    };
    assert_eq!(
        reason,
        "Graph API error 10/2018278: (#10) This message is sent outside of allowed window. \
         (HTTP 400, fbtrace_id AbCdEf)"
    );
}

#[test]
fn bad_tokens_parameters_and_unavailable_people_are_permanent() {
    for code in [100, 190, 200, 551] {
        assert!(
            is_permanent(&interpret(400, &error_body(code, None, "no"), None)),
            "{code}"
        );
    }
    assert!(is_permanent(&interpret(
        500,
        &error_body(190, None, "token"),
        None
    )));
    assert!(is_permanent(&interpret(404, b"not found", None)));
}

#[test]
fn a_2xx_answer_with_an_error_is_an_error() {
    assert!(is_permanent(&interpret(
        200,
        &error_body(100, None, "bad"),
        None
    )));
}

#[test]
fn denied_hosts_and_bad_urls_are_permanent_timeouts_transient() {
    let failed = |code: &str| HttpError::Failed {
        url: "https://graph.facebook.com/v21.0/me/messages?access_token=SECRET".into(),
        code: code.into(),
    };
    let denied = transport_failure(&failed("HTTP-request-denied"));
    let DeliveryError::Permanent(reason) = &denied else {
        panic!("permanent: {denied:?}")
    };
    assert!(reason.contains("http_grants"), "{reason}");
    let timeout = transport_failure(&failed("HTTP-response-timeout"));
    let DeliveryError::Transient(failure) = &timeout else {
        panic!("transient: {timeout:?}")
    };
    for reason in [reason, &failure.reason] {
        assert!(!reason.contains("SECRET"), "the token leaked: {reason}");
    }
    assert!(matches!(
        transport_failure(&HttpError::InvalidUrl {
            url: "x".into(),
            reason: "missing scheme".into()
        }),
        DeliveryError::Permanent(_)
    ));
}

#[test]
fn long_answers_are_cut_for_the_log() {
    let body = "x".repeat(5000);
    let Err(DeliveryError::Transient(failure)) = interpret(500, body.as_bytes(), None) else {
        panic!("transient")
    };
    assert!(failure.reason.chars().count() < 2100);
}

#[test]
fn the_send_api_url_has_the_version_and_the_encoded_token() {
    assert_eq!(
        messages_url("https://graph.facebook.com/", "v21.0", "EAAB+x/y"),
        "https://graph.facebook.com/v21.0/me/messages?access_token=EAAB%2Bx%2Fy"
    );
    assert_eq!(
        messages_url("http://127.0.0.1:9000", "/v19.0/", "t"),
        "http://127.0.0.1:9000/v19.0/me/messages?access_token=t"
    );
}
