//! Vietnamese text as the lexical index sees it: syllables folded to plain lower-case
//! letters (`Không` → `khong`, `đ` → `d`), punctuation dropped, letters typed three times
//! or more for emphasis squeezed (`khonggg` → `khong`; `xxl` keeps its two x's), and
//! syllable bigrams, which carry most of the meaning of Vietnamese words (`giao hang`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The folded syllables (space-separated tokens) of `text`.
pub fn fold_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for character in text.nfd() {
        if is_combining_mark(character) {
            continue;
        }
        let folded = match character {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        for lower in folded.to_lowercase() {
            if lower.is_alphanumeric() {
                current.push(lower);
            } else if !current.is_empty() {
                tokens.push(squeeze(&current));
                current.clear();
            }
        }
    }
    if !current.is_empty() {
        tokens.push(squeeze(&current));
    }
    tokens
}

/// `text` folded to one space-separated string (see [`fold_tokens`]).
pub fn fold(text: &str) -> String {
    fold_tokens(text).join(" ")
}

/// Whether `token` carries Vietnamese diacritics (or `đ`): such a token is never
/// "restored", the customer typed it on purpose.
pub fn has_diacritics(token: &str) -> bool {
    token
        .nfd()
        .any(|character| is_combining_mark(character) || matches!(character, 'đ' | 'Đ'))
}

/// Squeezes runs of three or more equal letters to one (`khonggg` → `khong`, `ạaaa` →
/// `a`); runs of two stay (`xxl`, `xoong`). Digits always stay (`1000`).
fn squeeze(token: &str) -> String {
    let characters: Vec<char> = token.chars().collect();
    let mut squeezed = String::with_capacity(token.len());
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let mut run = 1;
        while index + run < characters.len() && characters[index + run] == character {
            run += 1;
        }
        let keep = if character.is_alphabetic() && run >= 3 {
            1
        } else {
            run
        };
        squeezed.extend(std::iter::repeat_n(character, keep));
        index += run;
    }
    squeezed
}

/// Lower-case words of `text` with their diacritics, split like [`fold_tokens`] (so the
/// two line up one to one).
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for character in text.nfc() {
        for lower in character.to_lowercase() {
            if lower.is_alphanumeric() {
                current.push(lower);
            } else if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_diacritics_and_case() {
        assert_eq!(fold("Shop có ship COD không?"), "shop co ship cod khong");
        assert_eq!(fold("Đổi trả ĐƯỢC"), "doi tra duoc");
    }

    #[test]
    fn squeezes_emphasis_but_keeps_doubles_and_digits() {
        assert_eq!(fold("khonggggg đẹppp XXL 1000đ"), "khong dep xxl 1000d");
    }

    #[test]
    fn words_line_up_with_folded_tokens() {
        let text = "Áo len, size M: còn không ạ?";
        assert_eq!(words(text).len(), fold_tokens(text).len());
        assert_eq!(words(text)[0], "áo");
    }

    #[test]
    fn detects_diacritics() {
        assert!(has_diacritics("không"));
        assert!(has_diacritics("đi"));
        assert!(!has_diacritics("khong"));
    }
}
