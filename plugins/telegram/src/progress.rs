//! Resuming a message sent in several calls (long text, attachments) after a failure.
//!
//! The host retries a failed send as a whole and tells the plugin nothing about which
//! try this is. Without a record, a flood-control error on the second part of a long
//! answer would make the retry send the first part again. So while a multi-call send is
//! under way, the plugin keeps `progress/<conversation id>` = how many calls of which
//! message went out; a later send of the same message to the same conversation within
//! [`RESUME_WINDOW_MS`] starts after them. A completed or permanently failed send
//! removes the record.

use serde::{Deserialize, Serialize};

use crate::callback::fnv1a_64;
use crate::render::ApiCall;

/// How long a partial send may be resumed. The host's retries of one reply span about
/// eight and a half minutes with its default policy; after half an hour the same text is
/// far more likely a new answer (asked again) than a retry, and is sent whole.
pub const RESUME_WINDOW_MS: u64 = 30 * 60 * 1000;

/// What went out of one multi-call send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// [`fingerprint`] of the calls.
    pub fingerprint: String,
    /// How many of the calls Telegram accepted, in order.
    pub done: usize,
    /// When the last one was accepted, ms since the Unix epoch.
    pub at_ms: u64,
    /// The `message_id` Telegram gave the last one: where a look-up for the next one
    /// (`check-sent`) counts from. None in records from before it was kept.
    #[serde(default)]
    pub last_message_id: Option<i64>,
}

/// The key-value key of a conversation's send in progress.
pub fn key(conversation_id: &str) -> String {
    format!("progress/{conversation_id}")
}

/// Identifies a message by the calls that send it.
pub fn fingerprint(calls: &[ApiCall]) -> String {
    let mut described = String::new();
    for call in calls {
        described.push_str(call.method);
        described.push('\n');
        described.push_str(&call.body.to_string());
        described.push('\n');
    }
    format!("{:016x}:{}", fnv1a_64(described.as_bytes()), calls.len())
}

/// How many of the calls with `fingerprint` can be skipped, going by what was `stored`.
pub fn already_sent(stored: Option<&Progress>, fingerprint: &str, now_ms: u64) -> usize {
    match stored {
        Some(progress)
            if progress.fingerprint == fingerprint
                && now_ms.saturating_sub(progress.at_ms) <= RESUME_WINDOW_MS =>
        {
            progress.done
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn calls(texts: &[&str]) -> Vec<ApiCall> {
        texts
            .iter()
            .map(|text| ApiCall {
                method: "sendMessage",
                body: json!({"chat_id": 1, "text": text}),
            })
            .collect()
    }

    #[test]
    fn a_retry_of_the_same_message_skips_what_went_out() {
        let print = fingerprint(&calls(&["part 1", "part 2"]));
        let stored = Progress {
            fingerprint: print.clone(),
            done: 1,
            at_ms: 1_000,
            last_message_id: Some(7),
        };
        assert_eq!(already_sent(Some(&stored), &print, 61_000), 1);
    }

    #[test]
    fn another_message_an_old_record_or_none_start_from_the_beginning() {
        let print = fingerprint(&calls(&["part 1", "part 2"]));
        let other = fingerprint(&calls(&["part 1", "part 2 changed"]));
        assert_ne!(print, other);
        let stored = Progress {
            fingerprint: print.clone(),
            done: 1,
            at_ms: 1_000,
            last_message_id: Some(7),
        };
        assert_eq!(already_sent(Some(&stored), &other, 2_000), 0);
        assert_eq!(
            already_sent(Some(&stored), &print, 1_000 + RESUME_WINDOW_MS + 1),
            0
        );
        assert_eq!(already_sent(None, &print, 2_000), 0);
    }

    #[test]
    fn a_record_from_before_message_ids_were_kept_still_resumes() {
        let print = fingerprint(&calls(&["part 1", "part 2"]));
        let stored: Progress = serde_json::from_value(json!({
            "fingerprint": print, "done": 1, "at_ms": 1_000
        }))
        .expect("an older record");
        assert_eq!(stored.last_message_id, None);
        assert_eq!(already_sent(Some(&stored), &print, 2_000), 1);
    }

    #[test]
    fn keys_are_per_conversation() {
        assert_eq!(key("cv_1"), "progress/cv_1");
    }
}
