//! Webhook bodies as the Messenger Platform documents them, parsed.

use serde_json::{Value, json};

use super::*;

fn body(messaging: Value) -> Vec<u8> {
    json!({
        "object": "page",
        "entry": [{"id": "PAGE_ID", "time": 1_700_000_000_000_u64, "messaging": messaging}]
    })
    .to_string()
    .into_bytes()
}

fn only_event(messaging: Value) -> InboundEvent {
    let parsed = parse(&body(messaging), 1).expect("a page webhook");
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    assert_eq!(parsed.events.len(), 1, "{:?}", parsed.events);
    parsed.events.into_iter().next().expect("one event")
}

#[test]
fn a_text_message_becomes_a_message_event_keyed_by_its_mid() {
    let event = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": 1_700_000_000_123_u64,
        "message": {"mid": "m_abc", "text": "shop có ship COD không?"}
    }]));
    assert_eq!(event.channel_message_id, "m_abc");
    assert_eq!(event.contact.channel_user_id, "PSID_1");
    assert_eq!(event.timestamp_ms, 1_700_000_000_123);
    assert_eq!(
        event.kind,
        EventKind::Message(Message::from_text("shop có ship COD không?"))
    );
}

#[test]
fn a_quick_reply_press_is_a_postback_with_its_payload() {
    let event = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "timestamp": 5,
        "message": {"mid": "m_qr", "text": "Size M", "quick_reply": {"payload": "size:M"}}
    }]));
    assert_eq!(event.channel_message_id, "m_qr");
    assert_eq!(event.kind, EventKind::Postback("size:M".into()));
}

#[test]
fn a_postback_uses_its_mid_or_a_stable_id() {
    let with_mid = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "timestamp": 7,
        "postback": {"mid": "m_pb", "title": "Xem đơn", "payload": "ORDER_STATUS"}
    }]));
    assert_eq!(with_mid.channel_message_id, "m_pb");
    assert_eq!(with_mid.kind, EventKind::Postback("ORDER_STATUS".into()));

    let without_mid = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "timestamp": 7,
        "postback": {"title": "Bắt đầu", "payload": ""}
    }]));
    assert_eq!(without_mid.channel_message_id, "pb:PSID_1:7");
    // An empty payload says nothing; the title at least says what was pressed.
    assert_eq!(without_mid.kind, EventKind::Postback("Bắt đầu".into()));
}

#[test]
fn echoes_and_deliveries_are_ignored_and_reads_kept() {
    let parsed = parse(
        &body(json!([
            {"sender": {"id": "PAGE_ID"}, "timestamp": 1,
             "message": {"mid": "m_echo", "text": "our reply", "is_echo": true}},
            {"sender": {"id": "PSID_1"}, "timestamp": 2,
             "delivery": {"mids": ["m_echo"], "watermark": 2}},
            {"sender": {"id": "PSID_1"}, "timestamp": 3, "read": {"watermark": 1_700_000_000_999_u64}}
        ])),
        1,
    )
    .expect("a page webhook");
    assert_eq!(parsed.events.len(), 1, "{:?}", parsed.events);
    let read = &parsed.events[0];
    assert_eq!(read.kind, EventKind::Read(1_700_000_000_999));
    assert_eq!(read.channel_message_id, "read:PSID_1:1700000000999");
}

#[test]
fn attachments_become_loa_attachments() {
    let event = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "timestamp": 9,
        "message": {"mid": "m_att", "attachments": [
            {"type": "image", "payload": {"url": "https://cdn.fb/img.jpg"}},
            {"type": "file", "payload": {"url": "https://cdn.fb/bill.pdf"}},
            {"type": "location", "payload": {"coordinates": {"lat": 10.77, "long": 106.7}}},
            {"type": "fallback", "payload": {"url": "https://may.vn/p/1", "title": "Áo linen"}}
        ]}
    }]));
    let EventKind::Message(message) = event.kind else {
        panic!("a message: {:?}", event.kind)
    };
    assert_eq!(message.text, None);
    let shown: Vec<(&str, &str, Option<&str>)> = message
        .attachments
        .iter()
        .map(|file| (file.url.as_str(), file.mime.as_str(), file.name.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("https://cdn.fb/img.jpg", "image/*", None),
            ("https://cdn.fb/bill.pdf", "application/octet-stream", None),
            ("geo:10.77,106.7", GEO_URI_MIME, None),
            ("https://may.vn/p/1", "text/html", Some("Áo linen")),
        ]
    );
}

#[test]
fn a_message_with_nothing_readable_is_kept_raw() {
    let event = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "timestamp": 9,
        "message": {"mid": "m_sticker", "attachments": [{"type": "image", "payload": {"sticker_id": 369239263222822_u64}}]}
    }]));
    assert_eq!(event.channel_message_id, "m_sticker");
    assert!(matches!(event.kind, EventKind::Other(raw) if raw.contains("sticker_id")));
}

#[test]
fn other_events_are_kept_raw_with_a_stable_id() {
    let event = only_event(json!([{
        "sender": {"id": "PSID_1"},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": 11,
        "reaction": {"mid": "m_abc", "action": "react", "reaction": "love"}
    }]));
    assert_eq!(event.channel_message_id, "reaction:PSID_1:11");
    assert!(matches!(event.kind, EventKind::Other(raw) if raw.contains("\"love\"")));
}

#[test]
fn events_of_every_entry_are_read_and_a_malformed_item_is_skipped() {
    let body = json!({
        "object": "page",
        "entry": [
            {"id": "P", "time": 1, "messaging": [
                {"sender": {"id": "A"}, "timestamp": 1, "message": {"mid": "m1", "text": "một"}},
                {"recipient": {"id": "P"}, "timestamp": 2, "message": {"mid": "m2", "text": "no sender"}}
            ]},
            {"id": "P", "time": 2, "messaging": [
                {"sender": {"id": "B"}, "timestamp": 3, "message": {"mid": "m3", "text": "hai"}}
            ]},
            {"id": "P", "time": 3, "changes": [{"field": "feed"}]}
        ]
    });
    let parsed = parse(body.to_string().as_bytes(), 0).expect("a page webhook");
    let ids: Vec<&str> = parsed
        .events
        .iter()
        .map(|event| event.channel_message_id.as_str())
        .collect();
    assert_eq!(ids, vec!["m1", "m3"]);
    assert_eq!(parsed.skipped.len(), 1);
    assert!(parsed.skipped[0].contains("sender"), "{:?}", parsed.skipped);
}

#[test]
fn bodies_that_are_not_page_webhooks_say_why() {
    let cases: [(&[u8], &str); 4] = [
        (b"not json", "not a JSON object"),
        (br#"{"object":"instagram","entry":[]}"#, "\"instagram\""),
        (br#"{"entry":[]}"#, "no \"object\""),
        (br#"{"object":"page"}"#, "no \"entry\""),
    ];
    for (body, reason) in cases {
        let NotAPageWebhook(message) = parse(body, 0).expect_err("refused");
        assert!(
            message.contains(reason),
            "{message} should contain {reason}"
        );
    }
}

#[test]
fn a_missing_timestamp_falls_back_to_now() {
    let event = only_event(json!([{"sender": {"id": "A"}, "message": {"text": "hi"}}]));
    assert_eq!(event.timestamp_ms, 1);
    assert_eq!(event.channel_message_id, "msg:A:1");
}
