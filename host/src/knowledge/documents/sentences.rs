//! Cutting running text into sentences, and a sentence that is still too long into lines,
//! words and at last characters, so that every piece fits in a chunk.

/// Where a piece was cut from the one before it: the worse the place, the dearer a chunk
/// boundary there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// After a sentence's final punctuation.
    Sentence,
    /// At a line break inside a sentence (hard-wrapped text, PDF lines).
    Line,
    /// Between two words of one line.
    Word,
    /// Inside a word longer than a chunk (a long URL, a code).
    Character,
}

/// One piece of a text, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Its text.
    pub text: String,
    /// What stood between it and the piece before (a space, a line break, nothing).
    pub separator: &'static str,
    /// Where it was cut.
    pub cut: Cut,
}

/// The pieces of `text`, each at most `limit` characters: its sentences, cut smaller only
/// when they do not fit. The first piece's `separator` and `cut` mean nothing.
pub(crate) fn split_to_fit(text: &str, limit: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (sentence, separator) in sentences(text) {
        split_piece(&mut pieces, sentence, separator, Cut::Sentence, limit);
    }
    pieces
}

/// Pushes `text` whole if it fits, else cut one level finer.
fn split_piece(
    pieces: &mut Vec<Piece>,
    text: &str,
    separator: &'static str,
    cut: Cut,
    limit: usize,
) {
    if text.chars().count() <= limit {
        pieces.push(Piece {
            text: text.to_owned(),
            separator,
            cut,
        });
        return;
    }
    // The finest level that actually cuts: lines (a sentence only), then words, then
    // characters. The first part keeps this piece's own separator and cut.
    let non_empty = |parts: Vec<&'_ str>| -> Vec<String> {
        parts
            .into_iter()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let lines = if cut == Cut::Sentence {
        non_empty(text.lines().collect())
    } else {
        Vec::new()
    };
    let (parts, finer_cut, finer_separator) = if lines.len() > 1 {
        (lines, Cut::Line, "\n")
    } else if matches!(cut, Cut::Sentence | Cut::Line) {
        (non_empty(text.split_whitespace().collect()), Cut::Word, " ")
    } else {
        (Vec::new(), Cut::Character, "")
    };
    if parts.len() <= 1 {
        split_characters(pieces, text, separator, cut, limit);
        return;
    }
    for (position, part) in parts.iter().enumerate() {
        if position == 0 {
            split_piece(pieces, part, separator, cut, limit);
        } else {
            split_piece(pieces, part, finer_separator, finer_cut, limit);
        }
    }
}

/// A word longer than `limit` in pieces of `limit` characters.
fn split_characters(
    pieces: &mut Vec<Piece>,
    word: &str,
    separator: &'static str,
    cut: Cut,
    limit: usize,
) {
    let characters: Vec<char> = word.chars().collect();
    for (position, part) in characters.chunks(limit.max(1)).enumerate() {
        let (separator, cut) = if position == 0 {
            (separator, cut)
        } else {
            ("", Cut::Character)
        };
        pieces.push(Piece {
            text: part.iter().collect(),
            separator,
            cut,
        });
    }
}

/// The sentences of `text` (trimmed), each with the separator that stood before it: a
/// line break if the blank between them held one, else a space.
fn sentences(text: &str) -> Vec<(&str, &'static str)> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut separator = "";
    let characters: Vec<(usize, char)> = text.char_indices().collect();
    let mut index = 0;
    while index < characters.len() {
        let (_, character) = characters[index];
        index += 1;
        if !matches!(character, '.' | '!' | '?' | '…') {
            continue;
        }
        while index < characters.len() && is_closer(characters[index].1) {
            index += 1;
        }
        let blank_start = index;
        while index < characters.len() && characters[index].1.is_whitespace() {
            index += 1;
        }
        let Some(&(next_offset, next)) = characters.get(index) else {
            break;
        };
        let ends_sentence = index > blank_start
            && starts_sentence(next)
            && !(character == '.' && is_abbreviation(&text[start..characters[blank_start - 1].0]));
        if ends_sentence {
            let end = characters[blank_start].0;
            sentences.push((text[start..end].trim(), separator));
            separator = if text[end..next_offset].contains('\n') {
                "\n"
            } else {
                " "
            };
            start = next_offset;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        sentences.push((rest, separator));
    }
    sentences
}

fn is_closer(character: char) -> bool {
    matches!(character, ')' | ']' | '"' | '\'' | '”' | '’' | '»')
}

fn starts_sentence(character: char) -> bool {
    character.is_uppercase()
        || character.is_ascii_digit()
        || matches!(character, '"' | '“' | '‘' | '«' | '(' | '[' | '-' | '•')
}

/// Whether the text before a period ends with an abbreviation that does not end a
/// sentence: `TP. Hồ Chí Minh`, `Q. 1`, `P. Bến Nghé`.
fn is_abbreviation(before_period: &str) -> bool {
    const ABBREVIATIONS: &[&str] = &["TP", "Tp", "TX", "Mr", "Mrs", "Ms", "Dr", "St", "No"];
    let word = before_period
        .rsplit(|character: char| character.is_whitespace() || character == '(')
        .next()
        .unwrap_or_default();
    let mut letters = word.chars();
    let single_capital =
        matches!((letters.next(), letters.next()), (Some(first), None) if first.is_uppercase());
    single_capital || ABBREVIATIONS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pieces: &[Piece]) -> Vec<&str> {
        pieces.iter().map(|piece| piece.text.as_str()).collect()
    }

    #[test]
    fn sentences_end_at_final_punctuation_before_a_capital_or_digit() {
        let pieces = split_to_fit("Giặt tay. Phơi khô!  3 ngày? Được (nhé). Xong", 700);
        assert_eq!(
            texts(&pieces),
            ["Giặt tay.", "Phơi khô!", "3 ngày?", "Được (nhé).", "Xong"]
        );
        assert!(
            pieces[1..]
                .iter()
                .all(|piece| piece.separator == " " && piece.cut == Cut::Sentence)
        );
    }

    #[test]
    fn abbreviations_amounts_and_lower_case_do_not_end_a_sentence() {
        let text = "Cửa hàng ở TP. Hồ Chí Minh, Q. 1, giá 20.000đ. v.v. và TP.HCM. vẫn tiếp";
        assert_eq!(texts(&split_to_fit(text, 700)), [text]);
    }

    #[test]
    fn a_line_break_between_sentences_is_kept_as_separator() {
        let pieces = split_to_fit("Một câu.\nHai câu.", 700);
        assert_eq!(pieces[1].separator, "\n");
    }

    #[test]
    fn a_long_sentence_is_cut_at_lines_then_words_then_characters() {
        let line = "chữ ".repeat(10);
        let text = format!("{}\n{}x{}", line.trim(), line, "y".repeat(30));
        let pieces = split_to_fit(&text, 20);
        assert!(pieces.iter().all(|piece| piece.text.chars().count() <= 20));
        let cuts: Vec<Cut> = pieces.iter().map(|piece| piece.cut).collect();
        assert!(cuts.contains(&Cut::Word) && cuts.contains(&Cut::Character));
        assert!(pieces.iter().any(|piece| piece.cut == Cut::Line));
        let joined: String = pieces.iter().map(|piece| piece.text.as_str()).collect();
        assert_eq!(joined.replace(' ', ""), text.replace([' ', '\n'], ""));
    }
}
