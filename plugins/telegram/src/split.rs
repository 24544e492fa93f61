//! Cutting a long text into messages Telegram accepts (the SDK's splitter).
//!
//! Telegram counts a message's length in UTF-16 code units (an emoji is two), so the
//! limit is applied in those units: a text under 4,096 `chars` can still be too long.

pub use loa_sdk::text::split_utf16 as split_text;

/// Longest text of one `sendMessage`, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

#[cfg(test)]
mod tests {
    use loa_sdk::text::utf16_len;

    use super::*;

    #[test]
    fn pieces_rejoin_to_the_text_and_fit_telegram() {
        let paragraph = "Mây có áo sơ mi linen, quần âu và váy 🌿. ".repeat(6);
        let text = vec![paragraph; 200].join("\n\n");
        let pieces = split_text(&text, MAX_MESSAGE_UTF16);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| utf16_len(p) <= MAX_MESSAGE_UTF16));
    }
}
