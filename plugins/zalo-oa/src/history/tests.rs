//! Reading Zalo's conversation history and finding a reply in it.

use loa_sdk::{Attachment, Message};
use serde_json::json;

use super::*;
use crate::render;

const STARTED: u64 = 1_750_000_000_000;
const REPLY: &str = "Dạ shop có ship COD toàn quốc ạ.";

fn message(src: u64, time_ms: u64, text: &str, id: &str) -> Logged {
    Logged {
        from_oa: src == 0,
        time_ms,
        text: Some(text.into()),
        message_id: Some(id.into()),
    }
}

/// A full page of the customer's messages, all newer than the send.
fn customer_chatter(from_ms: u64) -> Vec<Logged> {
    (0..u64::from(PAGE_SIZE))
        .map(|n| message(1, from_ms - n, "alo?", &format!("user-{n}")))
        .collect()
}

#[test]
fn the_url_carries_the_query_as_encoded_json_with_a_numeric_user_id() {
    let url = page_url("https://openapi.zalo.me", "2468135790246813579", 10);
    let (base, data) = url.split_once("?data=").expect("a data parameter");
    assert_eq!(base, "https://openapi.zalo.me/v2.0/oa/conversation");
    assert!(!data.contains(['{', '"', ' ', ':']), "{data}");
    assert_eq!(
        data,
        "%7B%22user_id%22%3A2468135790246813579%2C%22offset%22%3A10%2C%22count%22%3A10%7D"
    );
}

#[test]
fn a_user_id_that_is_not_a_number_goes_as_a_string() {
    let url = page_url("http://127.0.0.1:9", "lan-1", 0);
    assert!(url.contains("%22user_id%22%3A%22lan-1%22%2C"), "{url}");
}

#[test]
fn the_text_looked_for_is_the_last_message_of_a_long_reply() {
    let long = format!("{}\n\n{}", "Điều 1. ".repeat(300), "Điều cuối.".repeat(10));
    let rendered = render::render(&Message {
        text: Some(long),
        ..Message::default()
    });
    assert!(rendered.parts.len() > 1);
    let last = rendered.parts.last().and_then(|part| part["text"].as_str());
    assert_eq!(last_text(&rendered.parts).ok(), last);
}

#[test]
fn a_reply_with_buttons_is_looked_for_by_its_text() {
    let parts = [json!({"text": REPLY, "attachment": {"type": "template"}})];
    assert_eq!(last_text(&parts), Ok(REPLY));
}

#[test]
fn a_reply_ending_in_an_image_cannot_be_looked_for() {
    let rendered = render::render(&Message {
        text: Some(REPLY.into()),
        attachments: vec![Attachment {
            url: "https://shop.example/ao.jpg".into(),
            mime: "image/jpeg".into(),
            name: None,
        }],
        ..Message::default()
    });
    assert!(last_text(&rendered.parts).is_err());
    assert!(last_text(&[]).is_err());
}

#[test]
fn a_page_is_read_newest_first_with_numbers_as_strings_accepted() {
    let body = json!({
        "data": [
            {"src": 0, "time": STARTED + 5, "type": "text", "message": REPLY,
             "message_id": "abc", "from_id": "oa", "to_id": "lan"},
            {"src": "1", "time": "1750000000001", "type": "photo", "message_id": 42},
        ],
        "error": 0,
        "message": "Success"
    });
    let page = parse_page(200, body.to_string().as_bytes()).expect("a page");
    assert_eq!(
        page,
        vec![
            message(0, STARTED + 5, REPLY, "abc"),
            Logged {
                from_oa: false,
                time_ms: 1_750_000_000_001,
                text: None,
                message_id: Some("42".into()),
            },
        ]
    );
}

#[test]
fn an_invalid_access_token_asks_for_a_refresh() {
    let body = br#"{"error": -216, "message": "Access token is invalid"}"#;
    assert_eq!(
        parse_page(200, body),
        Err(PageError::AccessToken(
            "Zalo error -216: Access token is invalid".into()
        ))
    );
}

#[test]
fn other_errors_and_odd_answers_are_unreadable() {
    let cases: [(u16, &[u8], &str); 6] = [
        (
            200,
            br#"{"error": -201, "message": "Parameters are invalid"}"#,
            "-201",
        ),
        (502, b"<html>bad gateway</html>", "HTTP 502"),
        (200, b"<html>portal</html>", "without its JSON"),
        (200, br#"{"data": []}"#, "no error code"),
        (200, br#"{"error": 0, "data": null}"#, "no list"),
        (
            200,
            br#"{"error": 0, "data": [{"src": 0, "message": "x"}]}"#,
            "`time`",
        ),
    ];
    for (status, body, says) in cases {
        match parse_page(status, body) {
            Err(PageError::Unreadable(reason)) => assert!(reason.contains(says), "{reason}"),
            other => panic!("{status} {body:?}: {other:?}"),
        }
    }
}

#[test]
fn the_reply_from_the_oa_after_the_send_began_is_found() {
    let sought = Sought::new(REPLY, Some("prev"), STARTED);
    let page = [
        message(1, STARTED + 900, "cảm ơn shop", "u2"),
        message(0, STARTED + 120, REPLY, "mine"),
        message(1, STARTED - 20_000, "shop có ship COD không?", "u1"),
    ];
    assert_eq!(scan(&sought, &page), Scan::Found(page[1].clone()));
}

#[test]
fn the_same_text_from_the_customer_is_not_the_reply() {
    let sought = Sought::new(REPLY, None, STARTED);
    let page = [message(1, STARTED + 10, REPLY, "u1")];
    assert_eq!(scan(&sought, &page), Scan::Absent);
}

#[test]
fn the_walk_stops_at_the_previous_reply_even_with_the_same_text() {
    let sought = Sought::new(REPLY, Some("prev"), STARTED);
    let page = [
        message(1, STARTED + 50, "shop có ship COD không?", "u2"),
        message(0, STARTED + 10, REPLY, "prev"),
    ];
    assert_eq!(scan(&sought, &page), Scan::Absent);
}

#[test]
fn messages_older_than_the_send_less_the_allowance_do_not_count() {
    let sought = Sought::new(REPLY, None, STARTED);
    let just_inside = [message(0, STARTED - CLOCK_ALLOWANCE_MS, REPLY, "a")];
    assert!(matches!(scan(&sought, &just_inside), Scan::Found(_)));
    let too_old = [message(0, STARTED - CLOCK_ALLOWANCE_MS - 1, REPLY, "a")];
    assert_eq!(scan(&sought, &too_old), Scan::Absent);
}

#[test]
fn text_differing_only_in_surrounding_whitespace_matches_and_nothing_else_does() {
    let sought = Sought::new(REPLY, None, STARTED);
    let padded = [message(0, STARTED, &format!("{REPLY}\n"), "a")];
    assert!(matches!(scan(&sought, &padded), Scan::Found(_)));
    let other = [message(0, STARTED, "Dạ shop có ship COD toàn quốc.", "a")];
    assert_eq!(scan(&sought, &other), Scan::Absent);
}

#[test]
fn a_full_page_of_newer_messages_reads_on_and_a_short_one_ends_the_search() {
    let sought = Sought::new(REPLY, Some("prev"), STARTED);
    let full = customer_chatter(STARTED + 5_000);
    assert_eq!(scan(&sought, &full), Scan::ReadOn);
    assert_eq!(scan(&sought, &full[..3]), Scan::Absent);
    assert_eq!(scan(&sought, &[]), Scan::Absent);
}

#[test]
fn the_receipt_names_the_message_found() {
    let found = message(0, STARTED + 7, REPLY, "0000abc");
    let receipt = receipt(&found);
    assert_eq!(receipt.provider_message_id.as_deref(), Some("0000abc"));
    let response = receipt.provider_response.unwrap_or_default();
    assert!(response.contains("0000abc"), "{response}");
}
