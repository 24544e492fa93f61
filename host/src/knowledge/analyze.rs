//! Query analysis: turns what a customer typed into what retrieval searches with. Chat
//! shorthand is expanded (`sp` → sản phẩm, `k` → không), English is rendered in the
//! shop's Vietnamese through the lexicon, missing diacritics are restored from the shop's
//! own texts, and the lexical terms get their synonyms at a lower weight.

use std::collections::HashMap;

use super::lexical::terms;
use super::lexicon::Lexicon;
use super::restore::Restorer;
use super::text::{fold, fold_tokens, has_diacritics, words};

/// Weight of a synonym's terms next to the customer's own (1.0).
const SYNONYM_WEIGHT: f32 = 0.6;
/// Longest phrase, in syllables, looked up in the synonym groups.
const LONGEST_SYNONYM: usize = 4;

/// What retrieval makes of one question.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedQuery {
    /// The question as typed.
    pub original: String,
    /// `en` when it read as English, else `vi`.
    pub language: &'static str,
    /// Vietnamese, shorthand expanded and accents restored: what gets embedded.
    pub rewritten: String,
    /// Weighted lexical terms (the customer's own at 1.0, synonyms lower).
    pub terms: Vec<(String, f32)>,
    /// The customer asks for a person rather than the bot.
    pub wants_human: bool,
}

/// Analyses `question` with `lexicon` and a bot's `restorer`.
pub fn analyze(question: &str, lexicon: &Lexicon, restorer: &Restorer) -> AnalyzedQuery {
    let folded = fold_tokens(question);
    let english = lexicon.is_english(&folded);
    let source = if english {
        lexicon.translate_english(&folded)
    } else {
        question.to_owned()
    };
    let expanded = expand_shorthand(&words(&source), lexicon);
    let restored = restorer.restore(&expanded);
    let rewritten = restored.join(" ");
    let wants_human =
        lexicon.wants_human(&fold(question)) || lexicon.wants_human(&fold(&rewritten));
    AnalyzedQuery {
        original: question.to_owned(),
        language: if english { "en" } else { "vi" },
        terms: weighted_terms(&rewritten, lexicon),
        rewritten,
        wants_human,
    }
}

/// Replaces shorthand words by what they stand for (only words typed without accents:
/// `dc` is shorthand, `đc` too since its folded key is `dc`, but `cá` is not `c`).
fn expand_shorthand(words: &[String], lexicon: &Lexicon) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    for word in words {
        let key = fold(word);
        let typed_plain = !has_diacritics(word) || word.contains('đ');
        match lexicon.shorthand(&key).filter(|_| typed_plain) {
            Some(expansion) => out.extend(expansion.split(' ').map(str::to_lowercase)),
            None => out.push(word.clone()),
        }
    }
    out
}

/// The text's own terms at weight 1 plus its synonym phrases' terms at
/// [`SYNONYM_WEIGHT`], each term once at its highest weight.
fn weighted_terms(text: &str, lexicon: &Lexicon) -> Vec<(String, f32)> {
    let mut weights: HashMap<String, f32> = HashMap::new();
    for term in terms(text) {
        weights.insert(term, 1.0);
    }
    let tokens = fold_tokens(text);
    for length in 1..=LONGEST_SYNONYM.min(tokens.len()) {
        for window in tokens.windows(length) {
            for synonym in lexicon.synonyms(&window.join(" ")) {
                for term in terms(synonym) {
                    let weight = weights.entry(term).or_insert(0.0);
                    *weight = weight.max(SYNONYM_WEIGHT);
                }
            }
        }
    }
    let mut weighted: Vec<(String, f32)> = weights.into_iter().collect();
    weighted.sort_by(|a, b| a.0.cmp(&b.0));
    weighted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restorer() -> Restorer {
        Restorer::learn([
            "Shop có giao hàng thu tiền tận nơi (COD) không?",
            "sản phẩm còn hàng không",
            "đổi hàng được không",
        ])
    }

    #[test]
    fn shorthand_expands_and_accents_come_back() {
        let query = analyze("sp nay con hang k ak", Lexicon::builtin(), &restorer());
        assert_eq!(query.language, "vi");
        assert!(
            query.rewritten.starts_with("sản phẩm"),
            "{}",
            query.rewritten
        );
        assert!(
            query.rewritten.contains("còn hàng không"),
            "{}",
            query.rewritten
        );
    }

    #[test]
    fn english_is_rendered_in_vietnamese() {
        let query = analyze(
            "Do you offer cash on delivery?",
            Lexicon::builtin(),
            &restorer(),
        );
        assert_eq!(query.language, "en");
        assert!(
            query.rewritten.contains("thanh toán khi nhận hàng"),
            "{}",
            query.rewritten
        );
        assert!(query.terms.iter().any(|(term, _)| term == "nhan hang"));
    }

    #[test]
    fn synonyms_join_at_a_lower_weight() {
        let query = analyze("có ship không", Lexicon::builtin(), &restorer());
        let weight = |wanted: &str| {
            query
                .terms
                .iter()
                .find(|(term, _)| term == wanted)
                .map(|(_, weight)| *weight)
        };
        assert_eq!(weight("ship"), Some(1.0));
        assert_eq!(weight("van chuyen"), Some(SYNONYM_WEIGHT));
    }

    #[test]
    fn a_request_for_a_person_is_flagged() {
        assert!(analyze("cho mik gap nv that dc k", Lexicon::builtin(), &restorer()).wants_human);
        assert!(!analyze("phí ship bao nhiêu", Lexicon::builtin(), &restorer()).wants_human);
    }
}
