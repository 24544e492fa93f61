//! Cutting a long text into messages Zalo accepts (the SDK's splitter).
//!
//! Zalo documents a text message as at most 2,000 characters without saying how it counts
//! them. Its servers are Java, where a string's length is in UTF-16 code units (an emoji
//! is two), so the limit is applied in those units: never over, whichever way Zalo counts.

pub use loa_sdk::text::split_utf16 as split_text;

/// Longest text of one message, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 2000;

#[cfg(test)]
mod tests {
    use loa_sdk::text::utf16_len;

    use super::*;

    #[test]
    fn pieces_rejoin_to_the_text_and_fit_zalo() {
        let paragraph = "Mây có áo sơ mi linen, quần âu và váy 🌿. ".repeat(6);
        let text = vec![paragraph; 100].join("\n\n");
        let pieces = split_text(&text, MAX_TEXT_UTF16);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| utf16_len(p) <= MAX_TEXT_UTF16));
    }
}
