//! What the Send API gets for each shape of loa message.

use loa_sdk::QuickReply;
use serde_json::json;

use super::*;

fn postback(title: &str, payload: &str) -> Button {
    Button {
        title: title.into(),
        action: ButtonAction::Postback(payload.into()),
    }
}

fn chip(title: &str, payload: &str) -> QuickReply {
    QuickReply {
        title: title.into(),
        payload: payload.into(),
    }
}

fn card(title: &str) -> Card {
    Card {
        title: title.into(),
        subtitle: Some("390.000đ".into()),
        image_url: Some(format!("https://may.vn/{title}.jpg")),
        buttons: vec![Button {
            title: "Xem".into(),
            action: ButtonAction::OpenUrl(format!("https://may.vn/{title}")),
        }],
    }
}

#[test]
fn plain_text_is_one_text_message() {
    let rendered = render(&Message::from_text("Có ạ, Mây giao COD."));
    assert_eq!(rendered.parts, vec![json!({"text": "Có ạ, Mây giao COD."})]);
    assert!(rendered.notes.is_empty());
}

#[test]
fn quick_replies_ride_on_the_message_with_short_titles() {
    let message = Message {
        quick_replies: vec![
            chip("Size M", "size:M"),
            chip("Một lựa chọn rất dài quá hai mươi ký tự", ""),
        ],
        ..Message::from_text("Bạn mặc size nào?")
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts,
        vec![json!({
            "text": "Bạn mặc size nào?",
            "quick_replies": [
                {"content_type": "text", "title": "Size M", "payload": "size:M"},
                {"content_type": "text", "title": "Một lựa chọn rất dà…",
                 "payload": "Một lựa chọn rất dài quá hai mươi ký tự"}
            ]
        })]
    );
}

#[test]
fn buttons_make_a_button_template() {
    let message = Message {
        buttons: vec![
            postback("Đổi size", "EXCHANGE"),
            Button {
                title: "Website".into(),
                action: ButtonAction::OpenUrl("https://may.vn".into()),
            },
            Button {
                title: "Gọi shop".into(),
                action: ButtonAction::Call("+84901234567".into()),
            },
        ],
        ..Message::from_text("Bạn cần gì thêm?")
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts,
        vec![json!({"attachment": {"type": "template", "payload": {
            "template_type": "button",
            "text": "Bạn cần gì thêm?",
            "buttons": [
                {"type": "postback", "title": "Đổi size", "payload": "EXCHANGE"},
                {"type": "web_url", "title": "Website", "url": "https://may.vn"},
                {"type": "phone_number", "title": "Gọi shop", "payload": "+84901234567"}
            ]
        }}})]
    );
}

#[test]
fn extra_buttons_become_quick_replies_or_numbered_lines() {
    let message = Message {
        buttons: vec![
            postback("A", "a"),
            postback("B", "b"),
            postback("C", "c"),
            postback("D", "d"),
            Button {
                title: "Website".into(),
                action: ButtonAction::OpenUrl("https://may.vn".into()),
            },
        ],
        ..Message::from_text("Chọn một mục")
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts.len(), 1);
    let payload = &rendered.parts[0]["attachment"]["payload"];
    assert_eq!(
        payload["text"],
        "Chọn một mục\n\n4. Website: https://may.vn"
    );
    assert_eq!(payload["buttons"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        rendered.parts[0]["quick_replies"],
        json!([{"content_type": "text", "title": "D", "payload": "d"}])
    );
    assert_eq!(rendered.notes.len(), 1, "{:?}", rendered.notes);
}

#[test]
fn more_than_thirteen_quick_replies_list_the_rest() {
    let chips: Vec<QuickReply> = (1..=15)
        .map(|n| chip(&format!("Q{n}"), &format!("q{n}")))
        .collect();
    let message = Message {
        quick_replies: chips,
        ..Message::from_text("Chọn")
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts[0]["text"], "Chọn\n\n1. Q14\n2. Q15");
    assert_eq!(
        rendered.parts[0]["quick_replies"].as_array().map(Vec::len),
        Some(13)
    );
}

#[test]
fn long_text_is_split_and_only_the_last_part_carries_buttons_and_chips() {
    let text = format!("{}\n\n{}", "a ".repeat(900).trim(), "b ".repeat(900).trim());
    let message = Message {
        buttons: vec![postback("OK", "ok")],
        quick_replies: vec![chip("Thêm", "more")],
        ..Message::from_text(text)
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts.len(), 4, "{:#?}", rendered.parts);
    assert!(rendered.parts[0]["text"].as_str().is_some());
    assert!(rendered.parts[0].get("quick_replies").is_none());
    let last = rendered.parts.last().expect("a last part");
    let template_text = last["attachment"]["payload"]["text"]
        .as_str()
        .expect("button template");
    assert!(template_text.chars().count() <= MAX_BUTTON_TEXT_CHARS);
    assert!(last.get("quick_replies").is_some());
    let joined: Vec<String> = rendered.parts[..3]
        .iter()
        .map(|part| part["text"].as_str().unwrap_or_default().to_owned())
        .chain([template_text.to_owned()])
        .collect();
    assert_eq!(
        joined.join(" ").split_whitespace().count(),
        1800,
        "no word lost or repeated"
    );
}

#[test]
fn attachments_go_by_url_after_the_text() {
    let message = Message {
        attachments: vec![
            Attachment {
                url: "https://may.vn/a.jpg".into(),
                mime: "image/jpeg".into(),
                name: None,
            },
            Attachment {
                url: "https://may.vn/bill.pdf".into(),
                mime: "application/pdf".into(),
                name: Some("bill.pdf".into()),
            },
            Attachment {
                url: "geo:10.77,106.7".into(),
                mime: "application/x-geo-uri".into(),
                name: Some("Cửa hàng".into()),
            },
        ],
        ..Message::from_text("Hoá đơn của bạn")
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts,
        vec![
            json!({"text": "Hoá đơn của bạn"}),
            json!({"attachment": {"type": "image", "payload": {"url": "https://may.vn/a.jpg", "is_reusable": true}}}),
            json!({"attachment": {"type": "file", "payload": {"url": "https://may.vn/bill.pdf", "is_reusable": true}}}),
            json!({"text": "Cửa hàng: geo:10.77,106.7"}),
        ]
    );
}

#[test]
fn cards_make_a_generic_template_and_the_eleventh_becomes_a_line() {
    let mut cards: Vec<Card> = (1..=11).map(|n| card(&format!("ao{n}"))).collect();
    cards[0].title =
        "Áo sơ mi linen trắng tay dài form rộng, chất liệu thoáng mát cho mùa hè Sài Gòn nóng"
            .into();
    cards[1].buttons = (1..=4).map(|n| postback(&format!("B{n}"), "x")).collect();
    let message = Message {
        cards,
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts.len(), 2);
    let elements = rendered.parts[0]["attachment"]["payload"]["elements"]
        .as_array()
        .expect("generic template");
    assert_eq!(elements.len(), MAX_CARDS);
    assert_eq!(
        elements[0]["title"]
            .as_str()
            .map(|title| title.chars().count()),
        Some(MAX_CARD_LINE_CHARS)
    );
    assert_eq!(elements[0]["subtitle"], "390.000đ");
    assert_eq!(elements[0]["image_url"], "https://may.vn/ao1.jpg");
    assert_eq!(elements[1]["buttons"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        rendered.parts[1],
        json!({"text": "11. ao11 — 390.000đ: https://may.vn/ao11"})
    );
    assert_eq!(rendered.notes.len(), 2, "{:?}", rendered.notes);
}

#[test]
fn buttons_or_chips_without_text_get_a_prompt() {
    let rendered = render(&Message {
        buttons: vec![postback("OK", "ok")],
        ..Message::default()
    });
    assert_eq!(
        rendered.parts[0]["attachment"]["payload"]["text"],
        PROMPT_WITHOUT_TEXT
    );
    let rendered = render(&Message {
        quick_replies: vec![chip("OK", "ok")],
        ..Message::default()
    });
    assert_eq!(rendered.parts[0]["text"], PROMPT_WITHOUT_TEXT);
}

#[test]
fn an_empty_message_renders_nothing() {
    assert!(render(&Message::from_text("  ")).parts.is_empty());
}

#[test]
fn shorten_counts_characters_not_bytes() {
    assert_eq!(shorten("đơn hàng", 20), "đơn hàng");
    assert_eq!(shorten("đơn hàng của bạn", 5), "đơn …");
}
