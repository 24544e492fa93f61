//! What a customer types to ask for a person, or to stop waiting for one, in Vietnamese
//! (with or without diacritics, with the usual chat abbreviations) and English. Matched
//! on the normalized text (`normalize`) as whole words, so "nhân viên giao hàng chưa tới"
//! (the courier has not come) asks for nobody while "cho mình gặp nhân viên" does.

use crate::conversation::normalize::normalize;

/// Phrases that ask for a person. Each needs a verb or a word that only means a person
/// of the shop: "nhân viên" alone also means the courier.
const ASKS_FOR_PERSON: &[&str] = &[
    // Vietnamese
    "gặp nhân viên",
    "gặp nv",
    "gặp người thật",
    "gặp người",
    "gặp tư vấn viên",
    "gặp admin",
    "gặp chủ shop",
    "gặp shop",
    "nói chuyện với nhân viên",
    "nói chuyện với người",
    "chat với nhân viên",
    "chat với người",
    "kết nối nhân viên",
    "kết nối với nhân viên",
    "chuyển nhân viên",
    "chuyển cho nhân viên",
    "gọi nhân viên",
    "cần nhân viên",
    "cần người tư vấn",
    "muốn gặp người",
    "nhân viên tư vấn",
    "nhân viên hỗ trợ",
    "tư vấn viên",
    "người thật",
    // English
    "talk to a person",
    "talk to a human",
    "talk to someone",
    "talk to an agent",
    "talk to staff",
    "speak to a person",
    "speak to a human",
    "speak to someone",
    "speak with a person",
    "real person",
    "human agent",
    "live agent",
    "customer service",
    "an operator",
    "a human please",
];

/// Phrases that cancel a request for a person while waiting.
const CANCELS_WAITING: &[&str] = &[
    "thôi không cần",
    "không cần nữa",
    "không cần nhân viên",
    "hủy",
    "huỷ",
    "thôi khỏi",
    "khỏi cần",
    "bot trả lời cũng được",
    "cancel",
    "never mind",
    "nevermind",
    "no need",
];

/// The phrase of `text` that asks for a person: one of loa's, or one of the bot's own
/// `extra` phrases. Whole words only, diacritics and case ignored.
pub fn asks_for_person<'a>(text: &str, extra: &'a [String]) -> Option<&'a str> {
    let text = padded(text);
    ASKS_FOR_PERSON
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .find(|phrase| contains_words(&text, phrase))
}

/// Whether `text`, sent while waiting for a person, says the customer no longer wants one.
pub fn cancels_waiting(text: &str) -> bool {
    let text = padded(text);
    CANCELS_WAITING
        .iter()
        .any(|phrase| contains_words(&text, phrase))
}

/// The normalized text with a space at each end, so phrases match whole words.
fn padded(text: &str) -> String {
    format!(" {} ", normalize(text))
}

fn contains_words(padded_text: &str, phrase: &str) -> bool {
    let phrase = normalize(phrase);
    !phrase.is_empty() && padded_text.contains(&format!(" {phrase} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_person_is_heard_with_or_without_accents_in_both_languages() {
        for text in [
            "cho mình gặp nhân viên",
            "gap nhan vien",
            "CHO MINH GAP NHAN VIEN!!!",
            "mình muốn nói chuyện với nhân viên ạ",
            "cho e gặp nv với",
            "shop ơi cho gặp người thật",
            "I want to talk to a person",
            "can I speak to a human?",
            "Customer service please",
        ] {
            assert!(asks_for_person(text, &[]).is_some(), "{text}");
        }
    }

    #[test]
    fn questions_that_only_mention_staff_or_people_do_not_hand_over() {
        for text in [
            "nhân viên giao hàng chưa tới",
            "shop có bao nhiêu nhân viên",
            "áo này người mập mặc được không",
            "shop có ship COD không?",
            "what is the return policy",
            "personal information",
        ] {
            assert_eq!(asks_for_person(text, &[]), None, "{text}");
        }
    }

    #[test]
    fn a_bots_own_phrases_count_too() {
        let extra = vec!["gặp chị Mây".to_owned()];
        assert_eq!(
            asks_for_person("cho em gap chi may", &extra),
            Some("gặp chị Mây")
        );
        assert_eq!(asks_for_person("chị Mây ơi", &extra), None);
    }

    #[test]
    fn cancelling_is_heard_but_not_inside_other_words() {
        for text in ["thôi không cần nữa", "huy", "Never mind", "no need, thanks"] {
            assert!(cancels_waiting(text), "{text}");
        }
        for text in ["huyền", "cancellation policy?", "cho mình gặp nhân viên"] {
            assert!(!cancels_waiting(text), "{text}");
        }
    }
}
