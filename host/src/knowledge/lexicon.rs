//! The shop-vocabulary lexicon (`data/lexicon.toml`): chat shorthand, synonym groups of the
//! trade, an English → Vietnamese phrase table and the phrases of a customer who wants a
//! person. Data, not code, so it grows without a rebuild of the logic; every key is
//! matched on folded text (see [`super::text::fold`]).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use super::text::fold;

/// The lexicon built into loa.
const BUILTIN: &str = include_str!("data/lexicon.toml");

/// English words that carry no topic: with the phrase table's words they tell an English
/// question from a Vietnamese one typed without diacritics.
const ENGLISH_FUNCTION_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "i",
    "you",
    "your",
    "my",
    "me",
    "we",
    "our",
    "is",
    "are",
    "am",
    "was",
    "were",
    "be",
    "been",
    "do",
    "does",
    "did",
    "can",
    "could",
    "will",
    "would",
    "should",
    "have",
    "has",
    "had",
    "to",
    "of",
    "for",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "and",
    "or",
    "if",
    "it",
    "its",
    "this",
    "that",
    "there",
    "any",
    "some",
    "what",
    "which",
    "who",
    "how",
    "when",
    "where",
    "why",
    "much",
    "many",
    "not",
    "no",
    "yes",
    "please",
    "hi",
    "hello",
    "thanks",
    "about",
    "after",
    "before",
    "into",
    "than",
    "then",
    "also",
    "still",
    "just",
    "only",
    "up",
    "out",
    "off",
    "one",
    "two",
    "does",
    "let",
    "need",
    "want",
    "like",
    "good",
    "best",
    "recommend",
    "capital",
    "weather",
    "today",
    "s",
    "t",
    "don",
    "isn",
    "ve",
    "ll",
    "re",
    "m",
    "d",
    "way",
    "own",
    "more",
    "most",
    "other",
    "same",
    "all",
];

/// The parsed lexicon.
#[derive(Debug)]
pub struct Lexicon {
    /// Folded shorthand token → its expansion (with diacritics).
    shorthand: HashMap<String, String>,
    /// Folded phrase → the folded phrases of its synonym group (itself excluded).
    synonyms: HashMap<String, Vec<String>>,
    /// Folded English phrase (as tokens) → Vietnamese.
    english: HashMap<Vec<String>, String>,
    /// Longest English phrase, in tokens.
    longest_english: usize,
    /// Every token of the English phrase table plus function words.
    english_words: HashSet<String>,
    /// Folded phrases of a customer who wants a person.
    human: Vec<String>,
    /// Every Vietnamese text of the lexicon, accents kept (a dictionary for restoration).
    vietnamese: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    shorthand: HashMap<String, String>,
    synonyms: SynonymsFile,
    english: HashMap<String, String>,
    human: HumanFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsFile {
    groups: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HumanFile {
    phrases: Vec<String>,
}

/// Why a lexicon file was refused.
#[derive(Debug, thiserror::Error)]
#[error("lexicon: {0}")]
pub struct LexiconError(String);

static BUILTIN_LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    // The built-in file is checked by a unit test, so this cannot fail in a release.
    Lexicon::parse(BUILTIN).unwrap_or_else(|error| panic!("built-in {error}"))
});

impl Lexicon {
    /// The lexicon shipped with loa.
    pub fn builtin() -> &'static Lexicon {
        &BUILTIN_LEXICON
    }

    /// Parses a lexicon file.
    pub fn parse(text: &str) -> Result<Self, LexiconError> {
        let file: LexiconFile =
            toml::from_str(text).map_err(|error| LexiconError(error.to_string()))?;
        let mut vietnamese: Vec<String> = file.shorthand.values().cloned().collect();
        vietnamese.extend(file.english.values().cloned());
        vietnamese.extend(file.synonyms.groups.iter().flatten().cloned());
        let shorthand = file
            .shorthand
            .into_iter()
            .map(|(key, value)| (fold(&key), value))
            .collect();
        let mut synonyms: HashMap<String, Vec<String>> = HashMap::new();
        for group in &file.synonyms.groups {
            let folded: Vec<String> = group.iter().map(|member| fold(member)).collect();
            for member in &folded {
                let others = folded.iter().filter(|other| *other != member).cloned();
                synonyms.entry(member.clone()).or_default().extend(others);
            }
        }
        let mut english_words: HashSet<String> = ENGLISH_FUNCTION_WORDS
            .iter()
            .map(|word| (*word).to_owned())
            .collect();
        let mut english = HashMap::new();
        let mut longest_english = 0;
        for (phrase, vietnamese) in file.english {
            let tokens: Vec<String> = fold(&phrase).split(' ').map(str::to_owned).collect();
            if tokens.iter().any(String::is_empty) {
                return Err(LexiconError(format!("empty English phrase '{phrase}'")));
            }
            longest_english = longest_english.max(tokens.len());
            english_words.extend(tokens.iter().cloned());
            english.insert(tokens, vietnamese);
        }
        let human = file
            .human
            .phrases
            .iter()
            .map(|phrase| fold(phrase))
            .collect();
        Ok(Self {
            shorthand,
            synonyms,
            english,
            longest_english,
            english_words,
            human,
            vietnamese,
        })
    }

    /// Every Vietnamese phrase of the lexicon, with its accents.
    pub fn vietnamese(&self) -> impl Iterator<Item = &str> {
        self.vietnamese.iter().map(String::as_str)
    }

    /// What a folded shorthand token stands for, if it is one.
    pub fn shorthand(&self, folded_token: &str) -> Option<&str> {
        self.shorthand.get(folded_token).map(String::as_str)
    }

    /// The other members of `folded_phrase`'s synonym groups.
    pub fn synonyms(&self, folded_phrase: &str) -> &[String] {
        self.synonyms.get(folded_phrase).map_or(&[], Vec::as_slice)
    }

    /// Whether the folded tokens read as English: most are English words and none is a
    /// Vietnamese shorthand alone. Vietnamese typed without diacritics shares few words
    /// with English ("co", "khong", "duoc" are not English).
    pub fn is_english(&self, folded_tokens: &[String]) -> bool {
        let words: Vec<&String> = folded_tokens
            .iter()
            .filter(|token| !token.chars().all(|c| c.is_ascii_digit()))
            .collect();
        if words.is_empty() {
            return false;
        }
        let english = words
            .iter()
            .filter(|token| self.english_words.contains(token.as_str()))
            .count();
        english * 10 >= words.len() * 7
    }

    /// Translates folded English tokens phrase by phrase (longest match first); words the
    /// table does not know are kept as they are (names, brands, sizes).
    pub fn translate_english(&self, folded_tokens: &[String]) -> String {
        let mut out: Vec<&str> = Vec::new();
        let mut index = 0;
        while index < folded_tokens.len() {
            let longest = self.longest_english.min(folded_tokens.len() - index);
            let matched = (1..=longest).rev().find_map(|length| {
                self.english
                    .get(&folded_tokens[index..index + length])
                    .map(|vietnamese| (length, vietnamese.as_str()))
            });
            match matched {
                Some((length, vietnamese)) => {
                    out.push(vietnamese);
                    index += length;
                }
                None => {
                    let token = folded_tokens[index].as_str();
                    if !ENGLISH_FUNCTION_WORDS.contains(&token) {
                        out.push(token);
                    }
                    index += 1;
                }
            }
        }
        out.join(" ")
    }

    /// Whether the folded text asks for a person rather than the bot.
    pub fn wants_human(&self, folded_text: &str) -> bool {
        let padded = format!(" {folded_text} ");
        self.human
            .iter()
            .any(|phrase| padded.contains(&format!(" {phrase} ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::text::fold_tokens;

    #[test]
    fn the_builtin_lexicon_parses() {
        let lexicon = Lexicon::parse(BUILTIN).expect("built-in lexicon");
        assert!(lexicon.shorthand.len() > 50);
        assert!(lexicon.english.len() > 200);
    }

    #[test]
    fn shorthand_expands() {
        let lexicon = Lexicon::builtin();
        assert_eq!(lexicon.shorthand("ko"), Some("không"));
        assert_eq!(lexicon.shorthand("dc"), Some("được"));
        assert_eq!(lexicon.shorthand("khong"), None);
    }

    #[test]
    fn english_is_told_from_unaccented_vietnamese() {
        let lexicon = Lexicon::builtin();
        assert!(lexicon.is_english(&fold_tokens("How do I track my order?")));
        assert!(!lexicon.is_english(&fold_tokens("shop co ship cod khong")));
        assert!(!lexicon.is_english(&fold_tokens("doi hang thi ai tra tien ship")));
    }

    #[test]
    fn english_translates_longest_phrase_first() {
        let lexicon = Lexicon::builtin();
        let vietnamese = lexicon.translate_english(&fold_tokens("Do you offer cash on delivery?"));
        assert!(
            vietnamese.contains("thanh toán khi nhận hàng"),
            "{vietnamese}"
        );
    }

    #[test]
    fn synonyms_are_symmetric() {
        let lexicon = Lexicon::builtin();
        assert!(
            lexicon
                .synonyms("freeship")
                .contains(&"mien phi van chuyen".to_owned())
        );
        assert!(
            lexicon
                .synonyms("mien phi van chuyen")
                .contains(&"freeship".to_owned())
        );
    }

    #[test]
    fn recognises_a_request_for_a_person() {
        let lexicon = Lexicon::builtin();
        assert!(lexicon.wants_human(&fold("cho mình gặp nhân viên")));
        assert!(lexicon.wants_human(&fold("I want to talk to a person")));
        assert!(!lexicon.wants_human(&fold("nhân viên giao hàng có gọi trước không")));
    }

    #[test]
    fn a_broken_file_is_refused() {
        assert!(Lexicon::parse("shorthand = 3").is_err());
    }
}
