//! Events as Zalo sends them, and what they become.

use serde_json::json;

use super::*;

const APP: &str = "1234567890123456789";
const USER: &str = "246813579";
const OA: &str = "579135246";

fn event(name: &str, extra: Value) -> Value {
    let mut event = json!({
        "app_id": APP,
        "user_id_by_app": "552177279717587730",
        "event_name": name,
        "sender": {"id": USER},
        "recipient": {"id": OA},
        "timestamp": "1718000100000",
    });
    if let (Some(fields), Value::Object(extra)) = (event.as_object_mut(), extra) {
        fields.extend(extra);
    }
    event
}

fn parse(event: &Value) -> Parsed {
    let body = event.to_string();
    let envelope = envelope(body.as_bytes(), APP).expect("a Zalo event");
    events(&envelope, 99)
}

fn only(parsed: &Parsed) -> &InboundEvent {
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    &parsed.events[0]
}

fn only_message(parsed: &Parsed) -> &Message {
    match &only(parsed).kind {
        EventKind::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn a_text_is_a_message_from_the_sender_keyed_by_msg_id() {
    let parsed = parse(&event(
        "user_send_text",
        json!({"message": {"msg_id": "5f1c2a9b", "text": "shop có ship COD không?"}}),
    ));
    let event = only(&parsed);
    assert_eq!(event.channel_message_id, "zalo:5f1c2a9b");
    assert_eq!(event.contact.channel_user_id, USER);
    assert_eq!(event.timestamp_ms, 1_718_000_100_000);
    assert_eq!(
        only_message(&parsed),
        &Message::from_text("shop có ship COD không?")
    );
}

#[test]
fn images_gifs_stickers_files_audio_and_video_are_attachments() {
    let cases = [
        ("user_send_image", "image", "image/*", None),
        ("user_send_gif", "gif", "image/gif", None),
        ("user_send_sticker", "sticker", "image/*", None),
        ("user_send_audio", "audio", "audio/*", None),
        ("user_send_video", "video", "video/*", Some("clip")),
        (
            "user_send_file",
            "file",
            "application/octet-stream",
            Some("bao-gia.pdf"),
        ),
    ];
    for (name, kind, mime, label) in cases {
        let parsed = parse(&event(
            name,
            json!({"message": {"msg_id": "m1", "attachments": [{"type": kind, "payload": {
                "url": "https://f.zdn.vn/x", "thumbnail": "https://f.zdn.vn/t",
                "name": "bao-gia.pdf", "size": "1024", "description": "clip", "id": "42"
            }}]}}),
        ));
        let message = only_message(&parsed);
        assert_eq!(message.text, None, "{name}");
        assert_eq!(
            message.attachments,
            vec![Attachment {
                url: "https://f.zdn.vn/x".into(),
                mime: mime.into(),
                name: label.map(str::to_owned),
            }],
            "{name}"
        );
    }
}

#[test]
fn an_image_with_a_caption_keeps_the_caption_as_text() {
    let parsed = parse(&event(
        "user_send_image",
        json!({"message": {"msg_id": "m2", "text": "áo này còn size M không?",
            "attachments": [{"type": "image", "payload": {"url": "https://f.zdn.vn/a.jpg"}}]}}),
    ));
    let message = only_message(&parsed);
    assert_eq!(message.text.as_deref(), Some("áo này còn size M không?"));
    assert_eq!(message.attachments.len(), 1);
}

#[test]
fn a_location_becomes_text_with_its_coordinates() {
    let parsed = parse(&event(
        "user_send_location",
        json!({"message": {"msg_id": "m3", "attachments": [{"type": "location", "payload": {
            "coordinates": {"latitude": "10.7626220", "longitude": "106.660172"}}}]}}),
    ));
    assert_eq!(
        only_message(&parsed),
        &Message::from_text("📍 10.762622, 106.660172")
    );
    // The shape some integrations document: coordinates under message.location, numbers.
    let parsed = parse(&event(
        "user_send_location",
        json!({"message": {"msg_id": "m4", "location": {"latitude": 21.028511, "longitude": 105.804817}}}),
    ));
    assert_eq!(
        only_message(&parsed).text.as_deref(),
        Some("📍 21.028511, 105.804817")
    );
}

#[test]
fn a_shared_link_is_a_web_page_attachment() {
    let parsed = parse(&event(
        "user_send_link",
        json!({"message": {"msg_id": "m5", "text": "https://may.vn/ao-linen",
            "attachments": [{"type": "link", "payload": {"url": "https://may.vn/ao-linen",
                "description": "Áo linen trắng", "thumbnail": "https://may.vn/t.jpg"}}]}}),
    ));
    let message = only_message(&parsed);
    assert_eq!(message.text.as_deref(), Some("https://may.vn/ao-linen"));
    assert_eq!(message.attachments[0].mime, "text/html");
    assert_eq!(
        message.attachments[0].name.as_deref(),
        Some("Áo linen trắng")
    );
}

#[test]
fn follow_and_unfollow_come_from_the_follower_keyed_by_time() {
    let follow = json!({
        "app_id": APP, "oa_id": OA, "event_name": "follow", "timestamp": "1718000200000",
        "source": "oa_profile", "follower": {"id": USER}
    });
    let parsed = parse(&follow);
    let event = only(&parsed);
    assert_eq!(event.kind, EventKind::Follow);
    assert_eq!(event.contact.channel_user_id, USER);
    assert_eq!(
        event.channel_message_id,
        format!("zalo:follow:1718000200000:{USER}")
    );
    let mut unfollow = follow.clone();
    unfollow["event_name"] = "unfollow".into();
    assert_eq!(only(&parse(&unfollow)).kind, EventKind::Unfollow);
}

#[test]
fn a_seen_message_is_a_read_by_the_recipient() {
    // Receipts go from the OA's side: the OA is the sender, the customer the recipient.
    let seen = json!({
        "app_id": APP, "event_name": "user_seen_message", "timestamp": "1718000300000",
        "sender": {"id": OA}, "recipient": {"id": USER},
        "message": {"msg_ids": ["a1", "a2"]}
    });
    let parsed = parse(&seen);
    let event = only(&parsed);
    assert_eq!(event.kind, EventKind::Read(1_718_000_300_000));
    assert_eq!(event.contact.channel_user_id, USER);
    assert_eq!(
        event.channel_message_id,
        format!("zalo:user_seen_message:1718000300000:{USER}")
    );
}

#[test]
fn the_oas_own_messages_receipts_and_chat_opens_give_no_event() {
    for name in [
        "oa_send_text",
        "oa_send_image",
        "oa_send_list",
        "user_received_message",
        "user_click_chatnow",
    ] {
        let parsed = parse(&event(
            name,
            json!({"message": {"msg_id": "x", "text": "hi"}}),
        ));
        assert!(parsed.events.is_empty(), "{name}: {parsed:?}");
        assert!(parsed.ignored.is_some(), "{name}");
    }
}

#[test]
fn other_user_events_are_passed_on_raw() {
    let card = event(
        "user_send_business_card",
        json!({"message": {"msg_id": "bc1", "attachments": [{"type": "contact", "payload": {}}]}}),
    );
    let parsed = parse(&card);
    let event = only(&parsed);
    assert_eq!(event.channel_message_id, "zalo:bc1");
    let EventKind::Other(raw) = &event.kind else {
        panic!("expected other: {event:?}")
    };
    assert!(raw.contains("user_send_business_card"), "{raw}");
    let sticker_without_url = event_with_empty_sticker();
    assert!(matches!(
        only(&parse(&sticker_without_url)).kind,
        EventKind::Other(_)
    ));
}

fn event_with_empty_sticker() -> Value {
    event(
        "user_send_sticker",
        json!({"message": {"msg_id": "s1", "attachments": [{"type": "sticker", "payload": {"id": "7"}}]}}),
    )
}

#[test]
fn an_event_without_a_user_is_ignored() {
    let parsed = parse(&json!({
        "app_id": APP, "event_name": "user_send_text", "timestamp": "1",
        "message": {"msg_id": "m", "text": "hi"}
    }));
    assert!(parsed.events.is_empty());
}

#[test]
fn numeric_ids_and_times_are_read_as_written() {
    let parsed = parse(&json!({
        "app_id": 1_234_567_890_123_456_789_u64, "event_name": "user_send_text",
        "timestamp": 1_718_000_100_000_u64, "sender": {"id": 246_813_579},
        "message": {"msg_id": "m6", "text": "hi"}
    }));
    assert_eq!(only(&parsed).contact.channel_user_id, USER);
}

#[test]
fn bodies_that_are_not_zalo_events_say_why() {
    let reason = |body: &[u8]| envelope(body, APP).unwrap_err().0;
    assert!(reason(b"<xml/>").contains("not JSON"));
    assert!(reason(b"[1]").contains("not a JSON object"));
    assert!(reason(br#"{"app_id": "1", "timestamp": "1"}"#).contains("event_name"));
    let other_app = json!({"app_id": "999", "event_name": "follow", "timestamp": "1"});
    let why = reason(other_app.to_string().as_bytes());
    assert!(why.contains("999") && why.contains("app_id"), "{why}");
    assert!(
        !why.contains(APP),
        "the channel's app id is not told: {why}"
    );
    let no_app = json!({"event_name": "follow", "timestamp": "1"});
    assert!(reason(no_app.to_string().as_bytes()).contains("app_id"));
    let no_time = json!({"app_id": APP, "event_name": "follow"});
    assert!(reason(no_time.to_string().as_bytes()).contains("timestamp"));
    let bad_time = json!({"app_id": APP, "event_name": "follow", "timestamp": "soon"});
    assert!(reason(bad_time.to_string().as_bytes()).contains("timestamp"));
}

#[test]
fn the_envelope_keeps_the_timestamp_as_written_for_the_signature() {
    let body = format!(r#"{{"app_id":"{APP}","event_name":"follow","timestamp":"0017"}}"#);
    assert_eq!(envelope(body.as_bytes(), APP).unwrap().timestamp, "0017");
}
