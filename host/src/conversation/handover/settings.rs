//! A bot's handover settings: when to hand over on its own, how long to wait before
//! telling a waiting customer that staff are busy, when a silent human conversation goes
//! back to the bot, and what the customer is told at each move (vi and en).

use serde::{Deserialize, Serialize};

use crate::conversation::model::{BotTexts, Localized};

/// How a bot hands conversations to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HandoverSettings {
    /// Hand over after this many turns in a row the bot could not answer. Default 2;
    /// 0 never.
    pub low_confidence_turns: u32,
    /// Minutes a customer waits before being told staff are busy (once per wait).
    /// Default 5; 0 never.
    pub busy_after_minutes: u32,
    /// Minutes without a message either way after which a conversation a person holds
    /// goes back to the bot. Default 15; 0 never.
    pub idle_minutes: u32,
    /// More phrases that ask for a person (`gặp chị Mây`), beside loa's own.
    pub phrases: Vec<String>,
    /// What the customer is told.
    pub texts: HandoverTexts,
}

impl Default for HandoverSettings {
    fn default() -> Self {
        Self {
            low_confidence_turns: 2,
            busy_after_minutes: 5,
            idle_minutes: 15,
            phrases: Vec::new(),
            texts: HandoverTexts::default(),
        }
    }
}

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Queued for a person.
    Waiting,
    /// Still queued after `busy_after_minutes`.
    Busy,
    /// A person took over.
    Taken,
    /// Back to the bot.
    Returned,
    /// Closed by staff.
    Closed,
    /// The customer stopped waiting.
    Cancelled,
}

/// The notices, per language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HandoverTexts {
    /// Queued for a person.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub waiting: Localized,
    /// Still queued: staff are busy.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub busy: Localized,
    /// A person took over.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub taken: Localized,
    /// Back to the bot.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub returned: Localized,
    /// Closed by staff.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub closed: Localized,
    /// The customer stopped waiting.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub cancelled: Localized,
}

fn localized(vi: &str, en: &str) -> Localized {
    Localized::from([
        ("vi".to_owned(), vi.to_owned()),
        ("en".to_owned(), en.to_owned()),
    ])
}

impl Default for HandoverTexts {
    fn default() -> Self {
        Self {
            waiting: localized(
                "Nhân viên đang hỗ trợ bạn, vui lòng chờ trong giây lát.",
                "A member of our staff will be with you shortly, please wait a moment.",
            ),
            busy: localized(
                "Nhân viên đang bận, bạn vui lòng chờ thêm chút nữa nhé. Chúng mình sẽ trả lời ngay khi có thể.",
                "Our staff are busy right now; please wait a little longer. We will reply as soon as we can.",
            ),
            taken: localized(
                "Nhân viên đã tham gia cuộc trò chuyện.",
                "A member of our staff has joined the conversation.",
            ),
            returned: localized(
                "Trợ lý tự động sẽ tiếp tục hỗ trợ bạn. Nhắn \"gặp nhân viên\" nếu bạn cần người hỗ trợ.",
                "Our assistant is back to help you. Type \"talk to a person\" whenever you need our staff.",
            ),
            closed: localized(
                "Cuộc trò chuyện đã kết thúc. Cảm ơn bạn!",
                "This conversation has ended. Thank you!",
            ),
            cancelled: localized(
                "Đã hủy yêu cầu gặp nhân viên. Mình có thể giúp gì thêm cho bạn?",
                "Your request for our staff is cancelled. How else can I help?",
            ),
        }
    }
}

impl HandoverTexts {
    /// The text of `notice` in `language` (else another language the bot has).
    pub fn text(&self, notice: Notice, language: &str) -> &str {
        let texts = match notice {
            Notice::Waiting => &self.waiting,
            Notice::Busy => &self.busy,
            Notice::Taken => &self.taken,
            Notice::Returned => &self.returned,
            Notice::Closed => &self.closed,
            Notice::Cancelled => &self.cancelled,
        };
        BotTexts::pick(texts, language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waiting_notice_is_the_one_customers_are_promised() {
        let texts = HandoverTexts::default();
        assert_eq!(
            texts.text(Notice::Waiting, "vi"),
            "Nhân viên đang hỗ trợ bạn, vui lòng chờ trong giây lát."
        );
        assert!(
            texts
                .text(Notice::Waiting, "en")
                .starts_with("A member of our staff")
        );
        // A language the bot has no text in falls back to one it has.
        assert!(!texts.text(Notice::Busy, "fr").is_empty());
    }

    #[test]
    fn a_bot_file_may_name_only_what_differs() {
        let settings: HandoverSettings =
            toml::from_str("idle_minutes = 30\n[texts.waiting]\nvi = \"Chờ chút nhé\"\n")
                .expect("partial settings parse");
        assert_eq!(settings.idle_minutes, 30);
        assert_eq!(settings.low_confidence_turns, 2);
        assert_eq!(settings.texts.text(Notice::Waiting, "vi"), "Chờ chút nhé");
        let unknown = toml::from_str::<HandoverSettings>("idle_minute = 30\n");
        assert!(
            unknown.is_err(),
            "a misspelt key is an error, not a silent default"
        );
    }
}
