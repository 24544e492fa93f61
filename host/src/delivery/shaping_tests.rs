//! Unit tests of [`super::shape`] and [`super::chosen_option`].

use super::*;
use crate::conversation::content::{Attachment, Card};

fn capabilities(
    buttons: u32,
    quick_replies: bool,
    cards: bool,
    attachments: bool,
) -> ChannelCapabilities {
    ChannelCapabilities {
        max_text_length: 2000,
        quick_replies,
        buttons: buttons > 0,
        max_buttons: buttons,
        cards,
        attachments,
    }
}

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

fn quick(title: &str, payload: &str) -> QuickReply {
    QuickReply {
        title: title.into(),
        payload: payload.into(),
    }
}

fn everything() -> Content {
    Content {
        text: Some("Mây có các mẫu sau:".into()),
        attachments: vec![Attachment {
            url: "https://may.vn/catalog.pdf".into(),
            mime: "application/pdf".into(),
            name: Some("catalog.pdf".into()),
        }],
        quick_replies: vec![quick("Gặp nhân viên", "HUMAN")],
        buttons: vec![],
        cards: vec![
            Card {
                title: "Áo sơ mi linen".into(),
                subtitle: Some("450.000đ".into()),
                image_url: Some("https://may.vn/a.jpg".into()),
                buttons: vec![postback("Chọn", "SKU:A1"), link("Xem", "https://may.vn/a")],
            },
            Card {
                title: "Quần âu".into(),
                subtitle: None,
                image_url: None,
                buttons: vec![postback("Chọn", "SKU:Q2")],
            },
        ],
        template: None,
    }
}

#[test]
fn a_channel_that_renders_everything_gets_the_message_unchanged() {
    let content = everything();
    let shaped = shape(&content, &capabilities(3, true, true, true), "vi");
    assert_eq!(shaped.content, content);
    assert!(shaped.options.is_empty());
}

#[test]
fn cards_become_numbered_choices_with_their_links_and_a_prompt() {
    let shaped = shape(&everything(), &capabilities(3, true, false, true), "vi");
    let text = shaped.content.text.expect("text");
    assert_eq!(
        text,
        "Mây có các mẫu sau:\n\
         1. Áo sơ mi linen — 450.000đ\n   Xem: https://may.vn/a\n\
         2. Quần âu\n\
         Trả lời 1 hoặc 2 để chọn."
    );
    assert!(shaped.content.cards.is_empty());
    assert_eq!(
        shaped.options,
        [
            quick("Áo sơ mi linen", "SKU:A1"),
            quick("Quần âu", "SKU:Q2")
        ]
    );
    // What the channel renders stays as it was.
    assert_eq!(
        shaped.content.quick_replies,
        [quick("Gặp nhân viên", "HUMAN")]
    );
    assert_eq!(shaped.content.attachments.len(), 1);
}

#[test]
fn buttons_over_the_limit_become_choices_and_links_become_lines() {
    let content = Content {
        text: Some("Bạn cần gì?".into()),
        buttons: vec![
            postback("Đơn hàng", "ORDER"),
            postback("Đổi trả", "RETURN"),
            postback("Giao hàng", "SHIP"),
            link("Website", "https://may.vn"),
        ],
        ..Content::default()
    };
    let shaped = shape(&content, &capabilities(2, false, false, true), "en");
    assert_eq!(shaped.content.buttons, content.buttons[..2].to_vec());
    assert_eq!(
        shaped.content.text.as_deref(),
        Some("Bạn cần gì?\n1. Giao hàng\nWebsite: https://may.vn\nReply 1 to choose.")
    );
    assert_eq!(shaped.options, [quick("Giao hàng", "SHIP")]);
}

#[test]
fn chips_without_chip_support_become_buttons_while_there_is_room_then_choices() {
    let content = Content {
        text: Some("Size nào ạ?".into()),
        quick_replies: vec![
            quick("S", "size:S"),
            quick("M", "size:M"),
            quick("L", "size:L"),
        ],
        ..Content::default()
    };
    let with_buttons = shape(&content, &capabilities(2, false, false, true), "vi");
    assert_eq!(
        with_buttons.content.buttons,
        [postback("S", "size:S"), postback("M", "size:M")]
    );
    assert_eq!(with_buttons.options, [quick("L", "size:L")]);
    let plain = shape(&content, &capabilities(0, false, false, false), "vi");
    assert!(plain.content.buttons.is_empty() && plain.content.quick_replies.is_empty());
    assert_eq!(
        plain.content.text.as_deref(),
        Some("Size nào ạ?\n1. S\n2. M\n3. L\nTrả lời 1, 2 hoặc 3 để chọn.")
    );
}

#[test]
fn files_a_channel_cannot_send_become_links() {
    let shaped = shape(&everything(), &capabilities(3, true, true, false), "vi");
    assert!(shaped.content.attachments.is_empty());
    assert!(
        shaped
            .content
            .text
            .as_deref()
            .is_some_and(|text| text.ends_with("catalog.pdf: https://may.vn/catalog.pdf")),
        "{:?}",
        shaped.content.text
    );
}

#[test]
fn an_answer_that_is_only_a_number_picks_that_choice() {
    let options = [quick("S", "size:S"), quick("M", "size:M")];
    for answer in ["2", " 2 ", "số 2", "so 2", "#2", "2.", "Chọn 2"] {
        assert_eq!(
            chosen_option(answer, &options),
            Some(&options[1]),
            "{answer}"
        );
    }
    for answer in ["0", "3", "2 cái", "size 2", "", "-1", "hai"] {
        assert_eq!(chosen_option(answer, &options), None, "{answer}");
    }
    assert_eq!(chosen_option("1", &[]), None);
}
