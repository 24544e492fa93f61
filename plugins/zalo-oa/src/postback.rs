//! Button presses back to the payloads the bot gave them.
//!
//! Zalo has no postback: an `oa.query.hide` button makes the customer's app send the
//! button's payload as an ordinary (hidden) text message. So a postback button goes out
//! with payload `#loa:<16 hex digits>`, a hash of the bot's payload, and the plugin keeps
//! the payload in its key-value store under `postback/<hash>`; a text message that is
//! exactly such a marker comes back as a postback with the stored payload. Any payload
//! fits (Zalo's own payload limit is 1,000 characters), and nobody can make the bot see a
//! postback it never offered.
//!
//! Options that did not fit as buttons are sent as numbered lines ("Trả lời 1, 2 hoặc
//! 3"); their payloads are kept per customer under `choices/<channel>/<user>`, and a
//! reply that is just one of the numbers, soon enough, is that option's postback.

use serde::{Deserialize, Serialize};

/// Marks a button payload that stands for a payload kept in the key-value store.
pub const MARKER: &str = "#loa:";

/// Key-value prefix of the kept payloads.
const KV_PREFIX: &str = "postback/";

/// How long numbered options can be answered by number: a customer replying "2" an hour
/// after the question is answering it; one replying "2" the next day probably is not.
pub const CHOICES_WINDOW_MS: u64 = 2 * 60 * 60 * 1000;

/// A postback button's payload for Zalo, and the key-value entry that maps it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// What goes into the button's `payload`.
    pub payload: String,
    /// `(key, payload)` to write before sending.
    pub mapping: (String, String),
}

/// `payload` as an `oa.query.hide` payload.
pub fn encode(payload: &str) -> Encoded {
    let hash = format!("{:016x}", fnv1a_64(payload.as_bytes()));
    Encoded {
        payload: format!("{MARKER}{hash}"),
        mapping: (format!("{KV_PREFIX}{hash}"), payload.to_owned()),
    }
}

/// The key-value key of the payload a customer's `text` stands for, when the text is a
/// marker [`encode`] made.
pub fn mapped_key(text: &str) -> Option<String> {
    let hash = text.trim().strip_prefix(MARKER)?;
    let well_formed = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then(|| format!("{KV_PREFIX}{}", hash.to_ascii_lowercase()))
}

/// Numbered options offered to one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    /// The payload of option 1, 2, … in order.
    pub payloads: Vec<String>,
    /// When they were offered, ms since the Unix epoch.
    pub at_ms: u64,
}

/// The key-value key of the options offered to `user` on `channel`.
pub fn choices_key(channel_id: &str, user_id: &str) -> String {
    format!("choices/{channel_id}/{user_id}")
}

/// Whether `text` looks like a reply by number (so the options are worth reading).
pub fn is_number_reply(text: &str) -> bool {
    let text = text.trim().trim_end_matches('.');
    (1..=2).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The payload `text` picks from `choices`, when it is one of their numbers and they are
/// recent.
pub fn pick(choices: &Choices, text: &str, now_ms: u64) -> Option<String> {
    if now_ms.saturating_sub(choices.at_ms) > CHOICES_WINDOW_MS || !is_number_reply(text) {
        return None;
    }
    let number: usize = text.trim().trim_end_matches('.').parse().ok()?;
    choices.payloads.get(number.checked_sub(1)?).cloned()
}

/// `Trả lời 1, 2 hoặc 3.` for `count` options.
pub fn reply_hint(count: usize) -> String {
    let numbers: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
    match numbers.split_last() {
        None => String::new(),
        Some((last, [])) => format!("Trả lời {last} để chọn."),
        Some((last, rest)) => format!("Trả lời {} hoặc {last}.", rest.join(", ")),
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (the std hasher is not), and
/// small. Collisions need about 4 billion distinct payloads, far beyond a shop's.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_goes_as_a_marker_and_comes_back_through_its_key() {
        let payload = "size:M|màu:trắng|sản phẩm:áo sơ mi linen";
        let encoded = encode(payload);
        assert!(encoded.payload.starts_with(MARKER));
        assert_eq!(encoded.payload.len(), MARKER.len() + 16);
        assert_eq!(encoded.mapping.1, payload);
        assert_eq!(
            mapped_key(&encoded.payload),
            Some(encoded.mapping.0.clone())
        );
        // Same payload, same marker: a button sent twice needs one entry.
        assert_eq!(encode(payload), encoded);
        assert_ne!(encode("size:L").payload, encoded.payload);
    }

    #[test]
    fn ordinary_text_and_malformed_markers_have_no_key() {
        assert_eq!(mapped_key("shop có ship COD không?"), None);
        assert_eq!(mapped_key("#loa:not-hex-at-all!"), None);
        assert_eq!(mapped_key("#loa:0123"), None);
        assert_eq!(
            mapped_key(" #loa:00000000000000FF ").as_deref(),
            Some("postback/00000000000000ff")
        );
    }

    #[test]
    fn a_number_picks_a_recent_option() {
        let choices = Choices {
            payloads: vec!["size:S".into(), "size:M".into(), "size:L".into()],
            at_ms: 1_000,
        };
        assert_eq!(pick(&choices, "2", 2_000).as_deref(), Some("size:M"));
        assert_eq!(pick(&choices, " 3. ", 2_000).as_deref(), Some("size:L"));
        assert_eq!(pick(&choices, "0", 2_000), None);
        assert_eq!(pick(&choices, "4", 2_000), None);
        assert_eq!(pick(&choices, "size M", 2_000), None);
        assert_eq!(pick(&choices, "2", 1_000 + CHOICES_WINDOW_MS + 1), None);
    }

    #[test]
    fn only_short_numbers_look_like_replies_by_number() {
        assert!(is_number_reply("1"));
        assert!(is_number_reply("12"));
        assert!(!is_number_reply("123"));
        assert!(!is_number_reply("1a"));
        assert!(!is_number_reply(""));
    }

    #[test]
    fn the_hint_lists_the_numbers_the_vietnamese_way() {
        assert_eq!(reply_hint(3), "Trả lời 1, 2 hoặc 3.");
        assert_eq!(reply_hint(2), "Trả lời 1 hoặc 2.");
        assert_eq!(reply_hint(1), "Trả lời 1 để chọn.");
        assert_eq!(reply_hint(0), "");
    }

    #[test]
    fn fnv_matches_its_reference_values() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
