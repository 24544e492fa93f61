//! Resuming a reply a channel plugin sends in several provider calls (a long text, text
//! then images or a card) after a failure.
//!
//! The host retries a whole `send` after a transient failure, and the WIT `send` carries no
//! delivery id. Without a record, a failure at part 3 would send parts 1 and 2 again. So
//! after each part the plugin notes in its key-value store how far it got, keyed by
//! conversation (the host sends one reply per conversation at a time) and fingerprinted by
//! the rendered parts; a retry of the same message skips what was sent. The record goes
//! once the message is out or failed for good, and is ignored after [`KEEP_MS`], so the
//! same text sent again later is sent whole.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::text::cut_chars;
use crate::{DeliveryReceipt, kv, log};

/// How much of the providers' answers the delivery log is handed, in characters.
pub const MAX_KEPT_RESPONSE_CHARS: usize = 2000;

/// How long a record of a half-sent message stays usable: well past the host's retries
/// (8 attempts over about 8 minutes by default), short enough that the same reply sent
/// again another day is not mistaken for a retry.
pub const KEEP_MS: u64 = 60 * 60 * 1000;

/// How far a multi-part message got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// [`fingerprint`] of the recipient and the rendered parts.
    pub fingerprint: String,
    /// Parts sent, from the first.
    pub sent: usize,
    /// The provider's answers to the parts sent, in order.
    pub responses: Vec<String>,
    /// `message_id` of the last part sent.
    pub last_message_id: Option<String>,
    /// When it was last written, ms since the Unix epoch.
    pub updated_at_ms: u64,
}

impl Progress {
    /// Nothing sent yet.
    pub fn start(fingerprint: String) -> Self {
        Self {
            fingerprint,
            sent: 0,
            responses: Vec::new(),
            last_message_id: None,
            updated_at_ms: 0,
        }
    }

    /// The stored record when it is about this very message and recent, else a fresh
    /// start.
    pub fn resume(stored: Option<Self>, fingerprint: String, now_ms: u64) -> Self {
        match stored {
            Some(stored)
                if stored.fingerprint == fingerprint
                    && now_ms.saturating_sub(stored.updated_at_ms) <= KEEP_MS =>
            {
                stored
            }
            _ => Self::start(fingerprint),
        }
    }

    /// One more part went out.
    pub fn record(&mut self, message_id: Option<String>, response: String, now_ms: u64) {
        self.sent += 1;
        self.responses.push(response);
        self.last_message_id = message_id;
        self.updated_at_ms = now_ms;
    }

    /// What the host is told once every part is out: the last part's id and the answers.
    pub fn receipt(&self) -> DeliveryReceipt {
        DeliveryReceipt {
            provider_message_id: self.last_message_id.clone(),
            provider_response: self.provider_response(),
        }
    }

    /// What the delivery log keeps: the one answer, or all of them as a JSON array.
    pub fn provider_response(&self) -> Option<String> {
        match self.responses.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            all => {
                let answers: Vec<Value> = all
                    .iter()
                    .map(|raw| {
                        serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone()))
                    })
                    .collect();
                Some(cut_chars(
                    &Value::Array(answers).to_string(),
                    MAX_KEPT_RESPONSE_CHARS,
                ))
            }
        }
    }
}

// The record is a help, not a must: if the store fails, the retry sends the whole reply
// again (a repeated part beats a lost reply), so failures below are only logged.

/// The record stored under `key`, `None` when there is none or it cannot be read.
pub fn load(key: &str) -> Option<Progress> {
    kv::get_json(key)
        .inspect_err(|error| {
            log::warn(
                "cannot read send progress",
                &[("error", &error.to_string())],
            )
        })
        .ok()
        .flatten()
}

/// Stores `progress` under `key`.
pub fn save(key: &str, progress: &Progress) {
    if let Err(error) = kv::set_json(key, progress) {
        log::warn(
            "cannot record send progress",
            &[("error", &error.to_string())],
        );
    }
}

/// Removes the record under `key`: the message is out, or failed for good.
pub fn forget(key: &str) {
    if let Err(error) = kv::delete(key) {
        log::warn(
            "cannot clear send progress",
            &[("error", &error.to_string())],
        );
    }
}

/// The key-value key of a conversation's record.
pub fn key(conversation_id: &str) -> String {
    format!("sending/{conversation_id}")
}

/// Hex SHA-256 of the recipient and the parts: the same reply to the same person.
pub fn fingerprint(recipient: &str, parts: &[Value]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(recipient.as_bytes());
    hasher.update([0]);
    hasher.update(Value::Array(parts.to_vec()).to_string().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn half_sent(fingerprint: &str, at_ms: u64) -> Progress {
        let mut progress = Progress::start(fingerprint.into());
        progress.record(Some("m_1".into()), r#"{"message_id":"m_1"}"#.into(), at_ms);
        progress
    }

    #[test]
    fn the_receipt_names_the_last_part_and_keeps_every_answer() {
        let mut progress = Progress::start("f".into());
        progress.record(Some("m-1".into()), r#"{"id":1}"#.into(), 10);
        progress.record(Some("m-2".into()), "not json".into(), 20);
        let receipt = progress.receipt();
        assert_eq!(receipt.provider_message_id.as_deref(), Some("m-2"));
        assert_eq!(
            receipt.provider_response.as_deref(),
            Some(r#"[{"id":1},"not json"]"#)
        );
    }

    #[test]
    fn a_retry_of_the_same_message_resumes() {
        let resumed = Progress::resume(Some(half_sent("f", 1_000)), "f".into(), 61_000);
        assert_eq!(resumed.sent, 1);
    }

    #[test]
    fn another_message_or_an_old_record_starts_over() {
        let other = Progress::resume(Some(half_sent("f", 1_000)), "g".into(), 2_000);
        assert_eq!(other.sent, 0);
        let old = Progress::resume(Some(half_sent("f", 1_000)), "f".into(), 1_000 + KEEP_MS + 1);
        assert_eq!(old.sent, 0);
        assert_eq!(Progress::resume(None, "f".into(), 0).sent, 0);
    }

    #[test]
    fn fingerprints_differ_by_recipient_and_content() {
        let parts = [json!({"text": "a"}), json!({"text": "b"})];
        let base = fingerprint("P1", &parts);
        assert_eq!(base, fingerprint("P1", &parts));
        assert_ne!(base, fingerprint("P2", &parts));
        assert_ne!(base, fingerprint("P1", &parts[..1]));
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn several_answers_are_kept_as_a_json_array() {
        let mut progress = half_sent("f", 1);
        assert_eq!(
            progress.provider_response().as_deref(),
            Some(r#"{"message_id":"m_1"}"#)
        );
        progress.record(Some("m_2".into()), r#"{"message_id":"m_2"}"#.into(), 2);
        assert_eq!(
            progress.provider_response().as_deref(),
            Some(r#"[{"message_id":"m_1"},{"message_id":"m_2"}]"#)
        );
        assert_eq!(progress.last_message_id.as_deref(), Some("m_2"));
    }
}
