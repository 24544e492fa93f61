//! Messages as the customer-service API takes them.

use loa_sdk::{Button, QuickReply};

use super::*;
use loa_sdk::text::utf16_len;

fn postback(title: &str, payload: &str) -> Button {
    Button {
        title: title.into(),
        action: ButtonAction::Postback(payload.into()),
    }
}

fn link(title: &str, url: &str) -> Button {
    Button {
        title: title.into(),
        action: ButtonAction::OpenUrl(url.into()),
    }
}

fn call(title: &str, number: &str) -> Button {
    Button {
        title: title.into(),
        action: ButtonAction::Call(number.into()),
    }
}

fn chip(title: &str, payload: &str) -> QuickReply {
    QuickReply {
        title: title.into(),
        payload: payload.into(),
    }
}

fn buttons_of(part: &Value) -> &Vec<Value> {
    part["attachment"]["payload"]["buttons"]
        .as_array()
        .expect("buttons")
}

#[test]
fn plain_text_is_one_text_message() {
    let rendered = render(&Message::from_text("Có ạ, Mây giao hàng COD."));
    assert_eq!(
        rendered.parts,
        vec![json!({"text": "Có ạ, Mây giao hàng COD."})]
    );
    assert!(rendered.mappings.is_empty() && rendered.choices.is_empty());
}

#[test]
fn long_text_is_split_under_zalos_limit_in_order() {
    let paragraph =
        "Sản phẩm được bảo hành 12 tháng kể từ ngày nhận hàng, bạn giữ hoá đơn giúp Mây nhé. "
            .repeat(12);
    let text = [paragraph.trim(); 4].join("\n\n");
    let rendered = render(&Message::from_text(text.clone()));
    assert!(rendered.parts.len() >= 2, "{}", rendered.parts.len());
    let texts: Vec<&str> = rendered
        .parts
        .iter()
        .map(|part| part["text"].as_str().expect("text"))
        .collect();
    assert!(texts.iter().all(|text| utf16_len(text) <= MAX_TEXT_UTF16));
    assert_eq!(texts.join("\n\n"), text);
}

#[test]
fn buttons_ride_on_the_last_text_part_in_zalos_shapes() {
    let message = Message {
        text: Some("Bạn cần gì ạ?".into()),
        buttons: vec![
            postback("Phí ship", "phí ship bao nhiêu?"),
            link("Website", "https://may.vn"),
            call("Gọi shop", " 0901234567 "),
        ],
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts.len(), 1);
    let part = &rendered.parts[0];
    assert_eq!(part["text"], "Bạn cần gì ạ?");
    assert_eq!(part["attachment"]["type"], "template");
    let buttons = buttons_of(part);
    let encoded = postback::encode("phí ship bao nhiêu?");
    assert_eq!(
        buttons[0],
        json!({"title": "Phí ship", "type": "oa.query.hide", "payload": encoded.payload})
    );
    assert_eq!(
        buttons[1],
        json!({"title": "Website", "type": "oa.open.url", "payload": {"url": "https://may.vn"}})
    );
    assert_eq!(
        buttons[2],
        json!({"title": "Gọi shop", "type": "oa.open.phone", "payload": {"phone_code": "0901234567"}})
    );
    assert_eq!(rendered.mappings, vec![encoded.mapping]);
}

#[test]
fn quick_replies_are_postback_buttons_and_without_text_a_prompt_carries_them() {
    let message = Message {
        quick_replies: vec![chip("S", "size:S"), chip("M", ""), chip("L", "size:L")],
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts[0]["text"], PROMPT_WITHOUT_TEXT);
    let buttons = buttons_of(&rendered.parts[0]);
    assert_eq!(buttons.len(), 3);
    assert!(buttons.iter().all(|b| b["type"] == "oa.query.hide"));
    // An empty payload posts back the title.
    assert_eq!(
        buttons[1]["payload"],
        postback::encode("M").payload.as_str()
    );
    assert_eq!(rendered.mappings.len(), 3);
}

#[test]
fn more_than_five_options_become_numbered_lines_answered_by_number() {
    let message = Message {
        text: Some("Bạn chọn size nào?".into()),
        buttons: vec![link("Bảng size", "https://may.vn/size")],
        quick_replies: ["XS", "S", "M", "L", "XL"]
            .iter()
            .map(|size| chip(size, &format!("size:{size}")))
            .collect(),
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(rendered.parts.len(), 1);
    let text = rendered.parts[0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Bạn chọn size nào?\n\n1. XS\n2. S\n3. M\n4. L\n5. XL\nTrả lời 1, 2, 3, 4 hoặc 5."
    );
    assert_eq!(
        rendered.choices,
        ["size:XS", "size:S", "size:M", "size:L", "size:XL"]
    );
    // The link stays a button; the options need no mapping.
    let buttons = buttons_of(&rendered.parts[0]);
    assert_eq!(buttons.len(), 1);
    assert_eq!(buttons[0]["type"], "oa.open.url");
    assert!(rendered.mappings.is_empty());
    assert!(!rendered.notes.is_empty());
}

#[test]
fn links_zalo_cannot_open_and_empty_numbers_do_not_become_buttons() {
    let message = Message {
        text: Some("Liên hệ".into()),
        buttons: vec![link("Zalo", "zalo://chat"), call("Gọi", " ")],
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts,
        vec![json!({"text": "Liên hệ\n\n🔗 Zalo: zalo://chat"})]
    );
}

#[test]
fn images_follow_the_text_as_media_messages_and_other_files_are_links() {
    let message = Message {
        text: Some("Mẫu áo đây ạ".into()),
        attachments: vec![
            Attachment {
                url: "https://may.vn/ao.jpg".into(),
                mime: "image/jpeg".into(),
                name: None,
            },
            Attachment {
                url: "https://may.vn/bao-gia.pdf".into(),
                mime: "application/pdf".into(),
                name: Some("Báo giá".into()),
            },
        ],
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts,
        vec![
            json!({"text": "Mẫu áo đây ạ\n\n📎 Báo giá: https://may.vn/bao-gia.pdf"}),
            json!({"attachment": {"type": "template", "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "url": "https://may.vn/ao.jpg"}]
            }}}),
        ]
    );
}

#[test]
fn cards_are_numbered_text_and_their_buttons_are_labelled_with_the_number() {
    let message = Message {
        cards: vec![
            Card {
                title: "Áo linen trắng".into(),
                subtitle: Some("450.000đ".into()),
                image_url: Some("https://may.vn/linen.jpg".into()),
                buttons: vec![
                    link("Xem", "https://may.vn/linen"),
                    postback("Mua", "buy:linen"),
                ],
            },
            Card {
                title: "Quần kaki".into(),
                subtitle: None,
                image_url: None,
                buttons: vec![postback("Mua", "buy:kaki")],
            },
        ],
        ..Message::default()
    };
    let rendered = render(&message);
    assert_eq!(
        rendered.parts[0]["text"],
        "1. Áo linen trắng\n450.000đ\n🔗 https://may.vn/linen\n🖼 https://may.vn/linen.jpg\n\n2. Quần kaki"
    );
    let titles: Vec<&str> = buttons_of(&rendered.parts[0])
        .iter()
        .filter_map(|b| b["title"].as_str())
        .collect();
    assert_eq!(titles, ["1. Xem", "1. Mua", "2. Mua"]);
}

#[test]
fn long_titles_are_cut_and_a_repeated_payload_is_mapped_once() {
    let long = "Đặt ".repeat(40);
    let message = Message {
        text: Some("?".into()),
        buttons: vec![postback(&long, "same"), postback("B", "same")],
        ..Message::default()
    };
    let rendered = render(&message);
    let title = buttons_of(&rendered.parts[0])[0]["title"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(title.chars().count(), MAX_BUTTON_TITLE_CHARS);
    assert!(title.ends_with('…'));
    assert_eq!(rendered.mappings.len(), 1);
}

#[test]
fn an_empty_message_renders_nothing() {
    assert!(render(&Message::default()).parts.is_empty());
}
