//! Splitting text too long for one Messenger message, at the most natural boundary.

/// The parts of `text`, each at most `limit` characters (Unicode scalar values, as the Send
/// API counts them), in order. A part ends at a paragraph break when one falls in the later
/// half of the allowed length, else at a line break there, else at the last space, and only
/// mid-word when a word alone is longer than `limit`. Whitespace at the cuts is dropped;
/// blank parts are never returned.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(window_end) = byte_index_of_char(rest, limit) else {
            parts.push(rest.to_owned());
            break;
        };
        let window = &rest[..window_end];
        let (part_end, next_start) = best_break(window, window_end);
        let part = rest[..part_end].trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = rest[next_start..].trim_start();
    }
    parts
}

/// Byte index of the `n`th char of `text` when it has more than `n` chars: where a window
/// of `n` chars ends. `None` when the whole text fits.
fn byte_index_of_char(text: &str, n: usize) -> Option<usize> {
    text.char_indices().nth(n).map(|(index, _)| index)
}

/// Where to cut `window` (the first `limit` chars of the rest): the end of the part and the
/// start of the next one, as byte indexes.
fn best_break(window: &str, window_end: usize) -> (usize, usize) {
    // A break in the first half would leave a stub part and a near-full one; cutting at a
    // word in the second half reads better than that.
    let half = window.len() / 2;
    let late = |index: &usize| *index >= half && *index > 0;
    if let Some(index) = window.rfind("\n\n").filter(late) {
        return (index, index + 2);
    }
    if let Some(index) = window.rfind('\n').filter(late) {
        return (index, index + 1);
    }
    if let Some((index, space)) = window
        .char_indices()
        .rev()
        .find(|(index, c)| c.is_whitespace() && *index > 0)
    {
        return (index, index + space.len_utf8());
    }
    // One word longer than the limit: cut it.
    (window_end, window_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(parts: &[String]) -> Vec<usize> {
        parts.iter().map(|part| part.chars().count()).collect()
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_text("  xin chào  ", 2000), vec!["xin chào"]);
        assert!(split_text("   ", 2000).is_empty());
    }

    #[test]
    fn paragraphs_are_kept_whole_when_they_fit() {
        let first = "a".repeat(60);
        let second = "b".repeat(60);
        let text = format!("{first}\n\n{second}");
        assert_eq!(split_text(&text, 100), vec![first, second]);
    }

    #[test]
    fn a_line_break_is_used_when_no_paragraph_break_fits() {
        let text = format!("{}\n{} {}", "a".repeat(70), "b".repeat(20), "c".repeat(20));
        let parts = split_text(&text, 100);
        assert_eq!(parts[0], "a".repeat(70));
        assert_eq!(parts[1], format!("{} {}", "b".repeat(20), "c".repeat(20)));
    }

    #[test]
    fn an_early_paragraph_break_gives_way_to_a_word_break() {
        let text = format!("ab\n\n{}", "từ ".repeat(60));
        let parts = split_text(&text, 100);
        assert!(parts[0].starts_with("ab\n\ntừ"), "{parts:?}");
        assert!(lengths(&parts).iter().all(|&length| length <= 100));
        assert_eq!(parts.join(" ").split_whitespace().count(), 61);
    }

    #[test]
    fn words_are_never_cut_when_spaces_exist() {
        let text = "Mây giao hàng toàn quốc ".repeat(200);
        let parts = split_text(&text, 2000);
        assert!(parts.len() > 2);
        assert!(lengths(&parts).iter().all(|&length| length <= 2000));
        for part in &parts {
            assert!(!part.starts_with(' ') && !part.ends_with(' '));
        }
        let words: Vec<&str> = parts.iter().flat_map(|part| part.split(' ')).collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut() {
        let text = "đ".repeat(250);
        let parts = split_text(&text, 100);
        assert_eq!(lengths(&parts), vec![100, 100, 50]);
        assert_eq!(parts.concat(), text);
    }
}
