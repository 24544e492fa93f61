//! Updates as Telegram sends them, and the events they become.

use super::*;

fn parse_json(update: serde_json::Value) -> Parsed {
    parse(update.to_string().as_bytes(), 99).expect("an update")
}

fn private_chat() -> serde_json::Value {
    serde_json::json!({"id": 7001, "type": "private", "first_name": "Lan", "last_name": "Nguyễn", "username": "lan_ng"})
}

fn sender() -> serde_json::Value {
    serde_json::json!({"id": 7001, "is_bot": false, "first_name": "Lan", "last_name": "Nguyễn"})
}

fn message_with(content: serde_json::Value) -> serde_json::Value {
    let mut message = serde_json::json!({
        "message_id": 11, "from": sender(), "chat": private_chat(), "date": 1_700_000_000
    });
    for (key, value) in content.as_object().expect("fields") {
        message[key] = value.clone();
    }
    serde_json::json!({"update_id": 500, "message": message})
}

fn only_message(parsed: &Parsed) -> &Message {
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    match &parsed.events[0].kind {
        EventKind::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn a_text_message_comes_from_its_chat_with_the_update_id_and_seconds_as_ms() {
    let parsed = parse_json(message_with(
        serde_json::json!({"text": "shop có ship COD không?"}),
    ));
    let event = &parsed.events[0];
    assert_eq!(event.channel_message_id, "tg:500:11");
    assert_eq!(event.contact.channel_user_id, "7001");
    assert_eq!(event.contact.display_name.as_deref(), Some("Lan Nguyễn"));
    assert_eq!(event.timestamp_ms, 1_700_000_000_000);
    assert_eq!(
        only_message(&parsed),
        &Message::from_text("shop có ship COD không?")
    );
    assert_eq!(parsed.callback_query_id, None);
    assert_eq!(parsed.kind, "message");
}

#[test]
fn start_is_an_ordinary_text_message() {
    let parsed = parse_json(message_with(serde_json::json!({"text": "/start"})));
    assert_eq!(only_message(&parsed).text.as_deref(), Some("/start"));
}

#[test]
fn a_group_message_answers_the_group_under_its_title() {
    let mut update = message_with(serde_json::json!({"text": "hi"}));
    update["message"]["chat"] =
        serde_json::json!({"id": -100_200, "type": "group", "title": "Khách sỉ"});
    let parsed = parse_json(update);
    assert_eq!(parsed.events[0].contact.channel_user_id, "-100200");
    assert_eq!(
        parsed.events[0].contact.display_name.as_deref(),
        Some("Khách sỉ")
    );
}

#[test]
fn a_username_is_the_name_when_there_is_no_other() {
    let mut update = message_with(serde_json::json!({"text": "hi"}));
    update["message"]["chat"] =
        serde_json::json!({"id": 5, "type": "private", "username": "lan_ng"});
    update["message"]["from"] = serde_json::json!({"id": 5, "is_bot": false, "first_name": " "});
    let parsed = parse_json(update);
    assert_eq!(
        parsed.events[0].contact.display_name.as_deref(),
        Some("@lan_ng")
    );
}

#[test]
fn a_photo_is_its_largest_size_with_the_caption_as_text() {
    let parsed = parse_json(message_with(serde_json::json!({
        "caption": "áo này còn size M không?",
        "photo": [
            {"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90},
            {"file_id": "large", "file_unique_id": "b", "width": 1280, "height": 1280}
        ]
    })));
    let message = only_message(&parsed);
    assert_eq!(message.text.as_deref(), Some("áo này còn size M không?"));
    assert_eq!(
        message.attachments,
        vec![Attachment {
            url: "tg-file:large".into(),
            mime: "image/jpeg".into(),
            name: None
        }]
    );
}

#[test]
fn a_document_keeps_its_name_and_type() {
    let parsed = parse_json(message_with(serde_json::json!({
        "document": {"file_id": "doc1", "file_unique_id": "u", "file_name": "hoa-don.pdf", "mime_type": "application/pdf"}
    })));
    let message = only_message(&parsed);
    assert_eq!(message.text, None);
    assert_eq!(message.attachments[0].mime, "application/pdf");
    assert_eq!(message.attachments[0].name.as_deref(), Some("hoa-don.pdf"));
}

#[test]
fn a_sticker_is_an_image_attachment() {
    let parsed = parse_json(message_with(serde_json::json!({
        "sticker": {"file_id": "st1", "file_unique_id": "u", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍"}
    })));
    let attachment = &only_message(&parsed).attachments[0];
    assert_eq!(
        (attachment.url.as_str(), attachment.mime.as_str()),
        ("tg-file:st1", "image/webp")
    );
}

#[test]
fn a_location_and_a_contact_become_text() {
    let located = parse_json(message_with(serde_json::json!({
        "location": {"latitude": 21.028511, "longitude": 105.804817}
    })));
    assert_eq!(
        only_message(&located).text.as_deref(),
        Some("📍 21.028511, 105.804817")
    );
    let shared = parse_json(message_with(serde_json::json!({
        "contact": {"phone_number": "+84901234567", "first_name": "Lan"}
    })));
    assert_eq!(
        only_message(&shared).text.as_deref(),
        Some("📞 Lan: +84901234567")
    );
}

#[test]
fn a_service_message_has_no_event() {
    let parsed = parse_json(message_with(serde_json::json!({
        "new_chat_members": [{"id": 1, "is_bot": false, "first_name": "A"}]
    })));
    assert!(parsed.events.is_empty());
}

#[test]
fn a_button_press_is_a_postback_from_the_chat_to_answer() {
    let update = serde_json::json!({
        "update_id": 501,
        "callback_query": {
            "id": "cbq-1", "from": sender(), "chat_instance": "ci", "data": "size:M",
            "message": {"message_id": 12, "chat": private_chat(), "date": 1_700_000_100, "text": "Chọn size"}
        }
    });
    let parsed = parse_json(update);
    assert_eq!(parsed.callback_query_id.as_deref(), Some("cbq-1"));
    let event = &parsed.events[0];
    assert_eq!(event.channel_message_id, "tg:501");
    assert_eq!(event.contact.channel_user_id, "7001");
    assert_eq!(event.timestamp_ms, 99);
    assert_eq!(event.kind, EventKind::Postback("size:M".into()));
}

#[test]
fn a_press_without_a_message_comes_from_the_presser_and_without_data_is_only_answered() {
    let update = serde_json::json!({
        "update_id": 502,
        "callback_query": {"id": "cbq-2", "from": sender(), "chat_instance": "ci", "inline_message_id": "im", "data": "x"}
    });
    assert_eq!(parse_json(update).events[0].contact.channel_user_id, "7001");
    let game = serde_json::json!({
        "update_id": 503,
        "callback_query": {"id": "cbq-3", "from": sender(), "chat_instance": "ci", "game_short_name": "g"}
    });
    let parsed = parse_json(game);
    assert!(parsed.events.is_empty());
    assert_eq!(parsed.callback_query_id.as_deref(), Some("cbq-3"));
}

#[test]
fn edits_and_other_updates_have_no_event() {
    for (kind, content) in [
        (
            "edited_message",
            serde_json::json!({"message_id": 11, "chat": private_chat(), "date": 1, "edit_date": 2, "text": "sửa"}),
        ),
        (
            "my_chat_member",
            serde_json::json!({"chat": private_chat(), "from": sender(), "date": 1}),
        ),
    ] {
        let parsed = parse_json(serde_json::json!({"update_id": 9, kind: content}));
        assert!(parsed.events.is_empty(), "{kind}");
        assert_eq!(parsed.kind, kind);
    }
}

#[test]
fn an_unreadable_message_is_acknowledged_without_an_event() {
    let parsed = parse_json(serde_json::json!({"update_id": 9, "message": {"text": "no chat"}}));
    assert!(parsed.events.is_empty());
}

#[test]
fn a_body_that_is_not_an_update_says_why() {
    assert!(parse(b"not json", 0).unwrap_err().contains("not JSON"));
    assert!(parse(b"[1]", 0).unwrap_err().contains("not a JSON object"));
    assert!(
        parse(br#"{"message":{}}"#, 0)
            .unwrap_err()
            .contains("update_id")
    );
    assert!(
        parse(br#"{"update_id":"7"}"#, 0)
            .unwrap_err()
            .contains("update_id")
    );
}
