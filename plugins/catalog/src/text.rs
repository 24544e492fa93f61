//! Vietnamese text folded for matching: diacritics and case dropped (`Áo sơ mi` → `ao so mi`,
//! `đ` → `d`), so customers typing without accents find what the shop wrote with them.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words too common in a customer's question to say anything about a product ("shop ơi
/// áo này **có** size M **không**"). Folded. `co` is here although it also spells `cổ`
/// (collar): in questions it is nearly always `có`, and a collar query keeps its other
/// word (`co tron` still has `tron`).
const STOPWORDS: &[&str] = &[
    "a", "ban", "bao", "cai", "cho", "co", "con", "cua", "gi", "hang", "khong", "ko", "k", "la",
    "loai", "mau", "minh", "nao", "nay", "nhe", "nhieu", "oi", "san", "shop", "size", "sp", "the",
    "va", "voi",
];

/// `text` in lower case without diacritics, `đ` as `d`; everything else kept.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|character| !is_combining_mark(*character))
        .map(|character| match character {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded words (runs of letters and digits) of `text`.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The words of a search query that say something: folded, without stopwords, single
/// letters (a size like `M` belongs in the `size` filter) and repeats.
pub fn query_words(query: &str) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for word in words(query) {
        let single_letter = word.chars().count() == 1 && !word.chars().all(|c| c.is_ascii_digit());
        if !single_letter && !STOPWORDS.contains(&word.as_str()) && !kept.contains(&word) {
            kept.push(word);
        }
    }
    kept
}

/// `text` folded with everything but letters and digits removed: `Free size` and `freesize`
/// are one size, `TP.HCM` is `tphcm`.
pub fn compact(text: &str) -> String {
    fold(text)
        .chars()
        .filter(|character| character.is_alphanumeric())
        .collect()
}

/// Whether a variant's colour is the colour asked for: every word asked for is a word of the
/// variant's colour, ignoring case and diacritics (`trang` is `Trắng`; `xanh` is `Xanh navy`
/// and `Xanh rêu`; `xanh navy` is only `Xanh navy`).
pub fn colour_matches(asked: &str, colour: &str) -> bool {
    let asked = words(asked);
    let colour = words(colour);
    !asked.is_empty() && asked.iter().all(|word| colour.contains(word))
}

/// Whether a variant's size is the size asked for (`m` is `M`, `free size` is `Freesize`).
pub fn size_matches(asked: &str, size: &str) -> bool {
    let asked = compact(asked);
    !asked.is_empty() && asked == compact(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_diacritics_case_and_d_stroke() {
        assert_eq!(fold("Áo sơ mi LINEN"), "ao so mi linen");
        assert_eq!(fold("Đầm lụa đỏ"), "dam lua do");
        assert_eq!(fold("Quần ống rộng"), "quan ong rong");
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(
            words("Áo thun (cotton), cổ tròn!"),
            ["ao", "thun", "cotton", "co", "tron"]
        );
    }

    #[test]
    fn query_words_drop_stopwords_and_repeats() {
        assert_eq!(
            query_words("shop ơi áo sơ mi linen có size M màu trắng không, áo"),
            ["ao", "so", "mi", "linen", "trang"]
        );
    }

    #[test]
    fn colour_matches_without_diacritics_and_by_words() {
        assert!(colour_matches("trang", "Trắng"));
        assert!(colour_matches("TRẮNG", "trắng"));
        assert!(colour_matches("xanh", "Xanh navy"));
        assert!(!colour_matches("xanh navy", "Xanh rêu"));
        assert!(!colour_matches("den", "Đỏ"));
        assert!(!colour_matches("", "Đỏ"));
    }

    #[test]
    fn size_matches_ignoring_case_and_spaces() {
        assert!(size_matches("m", "M"));
        assert!(size_matches("free size", "Freesize"));
        assert!(!size_matches("M", "XXL"));
        assert!(!size_matches(" ", "M"));
    }

    #[test]
    fn compact_keeps_only_letters_and_digits() {
        assert_eq!(compact("TP. Hồ Chí Minh"), "tphochiminh");
    }
}
