//! The plugin's settings from the tenant's config, and the decision for one message.

use loa_sdk::{Message, PluginError, Verdict};

use crate::schedule::{Schedule, local_time, parse_utc_offset};

/// Vietnam, where loa's first shops are.
const DEFAULT_UTC_OFFSET: &str = "+07:00";
// The default texts name 8:00–21:00 (the usual shop hours); a tenant with other hours sets
// `closed_text_vi` / `closed_text_en`, as the manifest says.
const DEFAULT_CLOSED_TEXT_VI: &str =
    "Shop hiện đã ngoài giờ làm việc (8:00–21:00). Mây sẽ trả lời bạn sớm nhất khi mở cửa.";
const DEFAULT_CLOSED_TEXT_EN: &str =
    "We're outside business hours right now (8:00–21:00). We'll reply as soon as we open.";

/// What happens to a message that arrives outside business hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideHours {
    /// Reply with the closed text and stop: the bot does not run.
    Reply,
    /// Reply with the closed text and let the bot answer as usual.
    ReplyAndContinue,
}

/// The tenant's settings for this plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    schedule: Schedule,
    /// Minutes east of UTC.
    utc_offset_minutes: i32,
    closed_text_vi: String,
    closed_text_en: String,
    outside_hours: OutsideHours,
}

impl Settings {
    /// Reads the settings through `get` (the host's `config::get`); blank values count as
    /// unset. A missing or malformed value is [`PluginError::Config`] naming the key.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self, PluginError> {
        let value = |key: &str| get(key).filter(|value| !value.trim().is_empty());
        let config_error =
            |key: &str, reason: String| PluginError::Config(format!("config '{key}': {reason}"));

        let hours = value("hours")
            .ok_or_else(|| PluginError::Config("missing config key 'hours'".into()))?;
        let schedule = Schedule::parse(&hours).map_err(|reason| config_error("hours", reason))?;
        let utc_offset_minutes =
            parse_utc_offset(&value("utc_offset").unwrap_or_else(|| DEFAULT_UTC_OFFSET.into()))
                .map_err(|reason| config_error("utc_offset", reason))?;
        let outside_hours = match value("outside_hours").as_deref().map(str::trim) {
            None | Some("reply") => OutsideHours::Reply,
            Some("reply-and-continue") => OutsideHours::ReplyAndContinue,
            Some(other) => {
                return Err(config_error(
                    "outside_hours",
                    format!("'{other}' is not one of reply, reply-and-continue"),
                ));
            }
        };
        Ok(Self {
            schedule,
            utc_offset_minutes,
            closed_text_vi: value("closed_text_vi")
                .unwrap_or_else(|| DEFAULT_CLOSED_TEXT_VI.into()),
            closed_text_en: value("closed_text_en")
                .unwrap_or_else(|| DEFAULT_CLOSED_TEXT_EN.into()),
            outside_hours,
        })
    }

    /// The verdict for `message` arriving at `now_ms`: inside hours it goes on unchanged;
    /// outside, the closed text in the conversation's language (`en*` is English, anything
    /// else Vietnamese).
    pub fn decide(&self, now_ms: u64, locale: Option<&str>, message: Message) -> Verdict {
        let (day, minute) = local_time(now_ms, self.utc_offset_minutes);
        if self.schedule.is_open(day, minute) {
            return Verdict::Continue(message);
        }
        let english = locale.is_some_and(|locale| locale.to_ascii_lowercase().starts_with("en"));
        let text = if english {
            &self.closed_text_en
        } else {
            &self.closed_text_vi
        };
        let reply = Message::from_text(text.clone());
        match self.outside_hours {
            OutsideHours::Reply => Verdict::Reply(reply),
            OutsideHours::ReplyAndContinue => Verdict::ReplyAndContinue(reply),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01T00:59:00Z: Monday 07:59 at +07:00.
    const MONDAY_0759_VN: u64 = 1_704_070_740_000;
    const MINUTE_MS: u64 = 60_000;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, PluginError> {
        Settings::from_config(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn shop() -> Settings {
        settings(&[("hours", "mon-fri 08:00-21:00; sat,sun 09:00-17:00")]).unwrap()
    }

    #[test]
    fn inside_hours_the_message_goes_on_unchanged() {
        let message = Message::from_text("xin chào");
        let verdict = shop().decide(MONDAY_0759_VN + MINUTE_MS, Some("vi"), message.clone());
        assert_eq!(verdict, Verdict::Continue(message));
    }

    #[test]
    fn outside_hours_replies_in_vietnamese_by_default() {
        let verdict = shop().decide(MONDAY_0759_VN, None, Message::from_text("hi"));
        assert_eq!(
            verdict,
            Verdict::Reply(Message::from_text(DEFAULT_CLOSED_TEXT_VI))
        );
    }

    #[test]
    fn english_locale_gets_the_english_text() {
        let verdict = shop().decide(MONDAY_0759_VN, Some("en-US"), Message::from_text("hi"));
        assert_eq!(
            verdict,
            Verdict::Reply(Message::from_text(DEFAULT_CLOSED_TEXT_EN))
        );
    }

    #[test]
    fn reply_and_continue_and_custom_text() {
        let settings = settings(&[
            ("hours", "mon-fri 08:00-21:00"),
            ("outside_hours", "reply-and-continue"),
            ("closed_text_vi", "Đóng cửa"),
        ])
        .unwrap();
        let verdict = settings.decide(MONDAY_0759_VN, Some("vi"), Message::from_text("hi"));
        assert_eq!(
            verdict,
            Verdict::ReplyAndContinue(Message::from_text("Đóng cửa"))
        );
    }

    #[test]
    fn utc_offset_moves_the_hours() {
        // Monday 00:59 UTC is inside "mon 00:00-01:00" at +00:00, outside at the default +07:00.
        let utc = settings(&[("hours", "mon 00:00-01:00"), ("utc_offset", "Z")]).unwrap();
        let message = Message::from_text("hi");
        assert!(matches!(
            utc.decide(MONDAY_0759_VN, None, message.clone()),
            Verdict::Continue(_)
        ));
        let vn = settings(&[("hours", "mon 00:00-01:00")]).unwrap();
        assert!(matches!(
            vn.decide(MONDAY_0759_VN, None, message),
            Verdict::Reply(_)
        ));
    }

    #[test]
    fn bad_hours_is_a_config_error_naming_the_part() {
        let error = settings(&[("hours", "mon-fri 08:00-21:00; sat 9-17")]).unwrap_err();
        assert_eq!(
            error,
            PluginError::Config(
                "config 'hours': bad time range '9-17' (expected HH:MM-HH:MM) in 'sat 9-17'".into()
            )
        );
    }

    #[test]
    fn missing_hours_is_a_config_error() {
        assert_eq!(
            settings(&[]).unwrap_err(),
            PluginError::Config("missing config key 'hours'".into())
        );
    }

    #[test]
    fn bad_outside_hours_and_offset_are_config_errors() {
        let error =
            settings(&[("hours", "daily 08:00-21:00"), ("outside_hours", "drop")]).unwrap_err();
        assert!(
            error.message().starts_with("config 'outside_hours'"),
            "{error:?}"
        );
        let error = settings(&[("hours", "daily 08:00-21:00"), ("utc_offset", "ICT")]).unwrap_err();
        assert!(
            error.message().starts_with("config 'utc_offset'"),
            "{error:?}"
        );
    }
}
