//! Text helpers for channel plugins: cutting a long reply into messages a provider
//! accepts, counted the way most providers count (UTF-16 code units: an emoji is two), at
//! the most natural boundary.

/// `text` in pieces of at most `limit` UTF-16 units, in order, each trimmed. A piece ends
/// at the last paragraph break of its window, else the last line break, else the last
/// sentence end, else the last space — each only when it keeps at least half the window,
/// so a break near the start does not leave a tiny piece — and as a last resort inside a
/// word (never inside a character). Whitespace-only text gives no piece.
pub fn split_utf16(text: &str, limit: usize) -> Vec<String> {
    // A limit under 2 units could not hold an emoji; such a window would never advance.
    let limit = limit.max(2);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while utf16_len(rest) > limit {
        let window_end = window_end(rest, limit);
        let window = &rest[..window_end];
        let cut = natural_cut(window).unwrap_or(window_end);
        let piece = rest[..cut].trim_end();
        if !piece.is_empty() {
            pieces.push(piece.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// `text` cut to at most `max` characters, with `…` when something was cut (a provider's
/// answer kept in the delivery log).
pub fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Length of `text` in UTF-16 code units (as Java, JavaScript and Telegram count it).
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Byte index just after the longest prefix of `text` within `limit` UTF-16 units; at
/// least one character, so the loop always advances.
fn window_end(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (index, character) in text.char_indices() {
        units += character.len_utf16();
        if units > limit {
            return if index == 0 {
                character.len_utf8()
            } else {
                index
            };
        }
    }
    text.len()
}

/// Where to end a piece inside `window`: the byte index of the boundary, or `None` when
/// there is no boundary worth cutting at.
fn natural_cut(window: &str) -> Option<usize> {
    let half = window.len() / 2;
    let late = |index: &usize| *index >= half && *index > 0;
    window
        .rfind("\n\n")
        .filter(late)
        .or_else(|| window.rfind('\n').filter(late))
        .or_else(|| last_sentence_end(window).filter(late))
        .or_else(|| {
            window
                .char_indices()
                .rev()
                .find(|(index, character)| character.is_whitespace() && *index > 0)
                .map(|(index, _)| index)
        })
}

/// Byte index just after the last `.`, `!`, `?` or `…` followed by a space.
fn last_sentence_end(window: &str) -> Option<usize> {
    let bytes = window.as_bytes();
    window
        .char_indices()
        .rev()
        .find(|(index, character)| {
            matches!(character, '.' | '!' | '?' | '…')
                && bytes.get(index + character.len_utf8()) == Some(&b' ')
        })
        .map(|(index, character)| index + character.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_trimmed_piece() {
        assert_eq!(split_utf16("  xin chào \n", 4096), vec!["xin chào"]);
        assert!(split_utf16(" \n ", 4096).is_empty());
    }

    #[test]
    fn long_text_breaks_at_the_last_paragraph() {
        let first = "a".repeat(30);
        let second = "b".repeat(30);
        let text = format!("{first}\n\n{second}\nccc");
        assert_eq!(
            split_utf16(&text, 50),
            vec![first, format!("{second}\nccc")]
        );
    }

    #[test]
    fn without_paragraphs_it_breaks_at_a_line_then_a_sentence_then_a_word() {
        let line = format!("{}\n{}", "a".repeat(30), "b".repeat(30));
        assert_eq!(split_utf16(&line, 40), vec!["a".repeat(30), "b".repeat(30)]);

        let sentences = format!("{}. {}", "a".repeat(30), "b".repeat(30));
        assert_eq!(
            split_utf16(&sentences, 40),
            vec![format!("{}.", "a".repeat(30)), "b".repeat(30)]
        );

        let words = "một hai ba bốn năm sáu bảy tám chín mười";
        let pieces = split_utf16(words, 12);
        assert!(
            pieces.iter().all(|piece| utf16_len(piece) <= 12),
            "{pieces:?}"
        );
        assert_eq!(pieces.join(" "), words);
        assert!(pieces.iter().all(|piece| !piece.contains("  ")));
    }

    #[test]
    fn a_break_too_early_in_the_window_is_not_used() {
        // The paragraph break leaves only 2 characters: cutting at a word is better.
        let text = format!("ab\n\n{} {}", "c".repeat(20), "d".repeat(20));
        let pieces = split_utf16(&text, 30);
        assert_eq!(pieces[0], format!("ab\n\n{}", "c".repeat(20)));
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_inside() {
        let pieces = split_utf16(&"x".repeat(25), 10);
        assert_eq!(pieces, vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    }

    #[test]
    fn emoji_count_as_two_units_and_are_never_cut_in_half() {
        let text = "😀".repeat(5);
        let pieces = split_utf16(&text, 5);
        assert_eq!(pieces, vec!["😀😀", "😀😀", "😀"]);
        assert_eq!(utf16_len("😀a"), 3);
    }
}
