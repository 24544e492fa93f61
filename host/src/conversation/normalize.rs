//! Text normalisation for matching what customers type against what the shop wrote:
//! lower case, Vietnamese diacritics folded (`không` → `khong`, `đ` → `d`), punctuation
//! dropped, repeated letters squeezed (`khonggg` → `khong`), spaces collapsed.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The matching key of `text`. Two texts a customer would call "the same question" typed
/// with or without accents, in any case, with any punctuation, get the same key.
pub fn normalize(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    let mut pending_space = false;
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
                // Letters typed twice or more for emphasis ("đẹppp") count once; digits
                // keep every repeat ("100", "2000").
                if lower.is_alphabetic() && previous == Some(lower) && !pending_space {
                    continue;
                }
                if pending_space && !key.is_empty() {
                    key.push(' ');
                }
                pending_space = false;
                key.push(lower);
                previous = Some(lower);
            } else {
                pending_space = true;
                previous = None;
            }
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn diacritics_case_and_punctuation_fold_away() {
        assert_eq!(
            normalize("Shop có ship COD không?"),
            normalize("shop co ship cod khong")
        );
        assert_eq!(
            normalize("Shop có ship COD không?"),
            "shop co ship cod khong"
        );
    }

    #[test]
    fn d_with_stroke_folds_to_d() {
        assert_eq!(normalize("Đổi trả được không"), "doi tra duoc khong");
    }

    #[test]
    fn repeated_letters_are_squeezed_but_digits_are_kept() {
        assert_eq!(normalize("đẹpppp quáaaa!!!"), "dep qua");
        assert_eq!(normalize("đơn 1000đ"), "don 1000d");
    }

    #[test]
    fn precomposed_and_decomposed_input_give_the_same_key() {
        let precomposed = "Tiếng Việt";
        let decomposed: String =
            unicode_normalization::UnicodeNormalization::nfd(precomposed).collect();
        assert_eq!(normalize(precomposed), normalize(&decomposed));
    }

    #[test]
    fn spaces_collapse_and_trim() {
        assert_eq!(normalize("  size   M ,  còn\tkhông  "), "size m con khong");
        assert_eq!(normalize("?!"), "");
    }
}
