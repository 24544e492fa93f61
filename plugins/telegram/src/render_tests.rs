//! Messages and the Bot API calls they become.

use loa_sdk::QuickReply;

use super::*;

fn postback(title: &str, payload: &str) -> Button {
    Button {
        title: title.into(),
        action: ButtonAction::Postback(payload.into()),
    }
}

fn keyboard(call: &ApiCall) -> &Value {
    &call.body["reply_markup"]["inline_keyboard"]
}

#[test]
fn plain_text_is_one_send_message_to_the_numeric_chat_without_parse_mode() {
    let plan = plan("7001", &Message::from_text("Có ạ, *COD* <b>toàn quốc</b>")).unwrap();
    assert_eq!(
        plan.calls,
        vec![ApiCall {
            method: "sendMessage",
            body: json!({"chat_id": 7001, "text": "Có ạ, *COD* <b>toàn quốc</b>"}),
        }]
    );
    assert!(plan.mappings.is_empty());
}

#[test]
fn a_non_numeric_chat_id_stays_a_string() {
    let plan = plan("@may_shop", &Message::from_text("hi")).unwrap();
    assert_eq!(plan.calls[0].body["chat_id"], "@may_shop");
}

#[test]
fn long_text_is_several_messages_with_the_buttons_on_the_last() {
    let paragraph = "Mây giao hàng toàn quốc. ".repeat(40);
    let message = Message {
        text: Some([paragraph.trim(); 8].join("\n\n")),
        buttons: vec![postback("Gặp nhân viên", "handover")],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    assert!(plan.calls.len() >= 2, "{}", plan.calls.len());
    let (last, earlier) = plan.calls.split_last().unwrap();
    assert!(
        earlier
            .iter()
            .all(|call| call.body.get("reply_markup").is_none())
    );
    assert_eq!(keyboard(last)[0][0]["callback_data"], "handover");
    let texts: Vec<&str> = plan
        .calls
        .iter()
        .map(|c| c.body["text"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .all(|text| loa_sdk::text::utf16_len(text) <= 4096)
    );
    assert_eq!(texts.join("\n\n"), message.text.unwrap());
}

#[test]
fn buttons_are_rows_and_quick_replies_three_to_a_row_after_them() {
    let chip = |title: &str| QuickReply {
        title: title.into(),
        payload: format!("size:{title}"),
    };
    let message = Message {
        text: Some("Chọn size".into()),
        buttons: vec![
            postback("Bảng size", "size-chart"),
            Button {
                title: "Xem web".into(),
                action: ButtonAction::OpenUrl("https://may.vn/size".into()),
            },
        ],
        quick_replies: vec![chip("S"), chip("M"), chip("L"), chip("XL")],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    assert_eq!(
        keyboard(&plan.calls[0]),
        &json!([
            [{"text": "Bảng size", "callback_data": "size-chart"}],
            [{"text": "Xem web", "url": "https://may.vn/size"}],
            [
                {"text": "S", "callback_data": "size:S"},
                {"text": "M", "callback_data": "size:M"},
                {"text": "L", "callback_data": "size:L"}
            ],
            [{"text": "XL", "callback_data": "size:XL"}]
        ])
    );
}

#[test]
fn a_payload_over_64_bytes_is_mapped_once_in_the_key_value_store() {
    let long = "order:".to_owned() + &"x".repeat(80);
    let message = Message {
        text: Some("Xác nhận?".into()),
        buttons: vec![postback("Có", &long)],
        quick_replies: vec![QuickReply {
            title: "Đồng ý".into(),
            payload: long.clone(),
        }],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    let data = keyboard(&plan.calls[0])[0][0]["callback_data"]
        .as_str()
        .unwrap();
    assert!(
        data.starts_with(callback::MAPPED_PREFIX) && data.len() <= 64,
        "{data}"
    );
    assert_eq!(plan.mappings.len(), 1);
    assert_eq!(plan.mappings[0].1, long);
    assert_eq!(
        callback::mapped_key(data).as_ref(),
        Some(&plan.mappings[0].0)
    );
}

#[test]
fn call_buttons_and_odd_links_become_text_lines() {
    let message = Message {
        text: Some("Liên hệ".into()),
        buttons: vec![
            Button {
                title: "Gọi shop".into(),
                action: ButtonAction::Call("+84901234567".into()),
            },
            Button {
                title: "Zalo".into(),
                action: ButtonAction::OpenUrl("zalo://chat?id=1".into()),
            },
        ],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    assert_eq!(plan.calls.len(), 1);
    assert_eq!(
        plan.calls[0].body["text"],
        "Liên hệ\n\n📞 Gọi shop: +84901234567\n🔗 Zalo: zalo://chat?id=1"
    );
    assert!(plan.calls[0].body.get("reply_markup").is_none());
}

#[test]
fn cards_become_numbered_text_with_their_buttons_numbered_too() {
    let card = |title: &str, price: &str| Card {
        title: title.into(),
        subtitle: Some(price.into()),
        image_url: Some(format!("https://may.vn/{title}.jpg")),
        buttons: vec![postback("Mua", &format!("buy:{title}"))],
    };
    let message = Message {
        text: Some("Gợi ý cho bạn:".into()),
        cards: vec![card("linen", "350.000đ"), card("kaki", "420.000đ")],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    assert_eq!(
        plan.calls[0].body["text"],
        "Gợi ý cho bạn:\n\n1. linen\n350.000đ\nhttps://may.vn/linen.jpg\n\n2. kaki\n420.000đ\nhttps://may.vn/kaki.jpg"
    );
    assert_eq!(
        keyboard(&plan.calls[0]),
        &json!([
            [{"text": "1. Mua", "callback_data": "buy:linen"}],
            [{"text": "2. Mua", "callback_data": "buy:kaki"}]
        ])
    );
}

#[test]
fn attachments_follow_the_text_as_photo_or_document_with_the_keyboard_last() {
    let message = Message {
        text: Some("Ảnh và hoá đơn".into()),
        attachments: vec![
            Attachment {
                url: "https://may.vn/a.png".into(),
                mime: "image/png".into(),
                name: None,
            },
            Attachment {
                url: "tg-file:BQACAgI".into(),
                mime: "application/pdf".into(),
                name: Some("hoa-don.pdf".into()),
            },
        ],
        buttons: vec![postback("OK", "ok")],
        ..Message::default()
    };
    let plan = plan("5", &message).unwrap();
    let methods: Vec<&str> = plan.calls.iter().map(|call| call.method).collect();
    assert_eq!(methods, ["sendMessage", "sendPhoto", "sendDocument"]);
    assert_eq!(
        plan.calls[1].body,
        json!({"chat_id": 5, "photo": "https://may.vn/a.png"})
    );
    assert_eq!(plan.calls[2].body["document"], "BQACAgI");
    assert_eq!(keyboard(&plan.calls[2])[0][0]["callback_data"], "ok");
    assert!(plan.calls[1].body.get("reply_markup").is_none());
}

#[test]
fn buttons_alone_get_a_pointer_text_and_blank_titles_show_their_target() {
    let message = Message {
        buttons: vec![postback(" ", "menu")],
        ..Message::default()
    };
    let plan = plan("1", &message).unwrap();
    assert_eq!(plan.calls[0].body["text"], KEYBOARD_ONLY_TEXT);
    assert_eq!(keyboard(&plan.calls[0])[0][0]["text"], "menu");
}

#[test]
fn an_empty_message_is_refused() {
    let error = plan("1", &Message::from_text("  \n")).unwrap_err();
    assert!(error.contains("nothing to send"), "{error}");
}
