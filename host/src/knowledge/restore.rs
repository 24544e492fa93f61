//! Diacritic restoration: puts back the accents a customer left out (`doi hang` → `đổi
//! hàng`) using the shop's own texts as the dictionary. Vietnamese typed without accents
//! is ambiguous word by word (`ban` = bán, bàn, bạn…) but rarely in context, so a syllable
//! is restored from the accented pairs it forms with its neighbours first, and from its
//! most frequent accented form alone only when no pair is known.

use std::collections::HashMap;

use super::text::{fold_tokens, has_diacritics, words};

/// Counts of accented forms per folded syllable and per folded syllable pair.
#[derive(Debug, Default)]
pub struct Restorer {
    unigrams: HashMap<String, HashMap<String, u32>>,
    bigrams: HashMap<(String, String), HashMap<(String, String), u32>>,
}

impl Restorer {
    /// Learns from accented texts (FAQ, documents, the lexicon's Vietnamese side).
    pub fn learn<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut restorer = Self::default();
        for text in texts {
            restorer.add(text);
        }
        restorer
    }

    fn add(&mut self, text: &str) {
        let accented = words(text);
        let folded = fold_tokens(text);
        if accented.len() != folded.len() {
            return;
        }
        for (word, key) in accented.iter().zip(&folded) {
            *self
                .unigrams
                .entry(key.clone())
                .or_default()
                .entry(word.clone())
                .or_default() += 1;
        }
        for index in 1..folded.len() {
            let key = (folded[index - 1].clone(), folded[index].clone());
            let value = (accented[index - 1].clone(), accented[index].clone());
            *self
                .bigrams
                .entry(key)
                .or_default()
                .entry(value)
                .or_default() += 1;
        }
    }

    /// `words` (lower case) with accents restored where a syllable has none and the
    /// dictionary knows it; accented words and unknown ones stay as typed.
    pub fn restore(&self, words: &[String]) -> Vec<String> {
        let folded: Vec<String> = words
            .iter()
            .map(|word| fold_tokens(word).join(""))
            .collect();
        (0..words.len())
            .map(|index| {
                let word = &words[index];
                if has_diacritics(word) || word.chars().any(|c| c.is_ascii_digit()) {
                    return word.clone();
                }
                self.best(&folded, index).unwrap_or_else(|| word.clone())
            })
            .collect()
    }

    /// The accented form of `folded[index]` best supported by its context.
    fn best(&self, folded: &[String], index: usize) -> Option<String> {
        let mut votes: HashMap<&str, u32> = HashMap::new();
        // Pairs are strong evidence: weigh them well above single-word counts.
        const PAIR_WEIGHT: u32 = 10;
        if index > 0 {
            let key = (folded[index - 1].clone(), folded[index].clone());
            for ((_, right), count) in self.bigrams.get(&key).into_iter().flatten() {
                *votes.entry(right.as_str()).or_default() += count * PAIR_WEIGHT;
            }
        }
        if index + 1 < folded.len() {
            let key = (folded[index].clone(), folded[index + 1].clone());
            for ((left, _), count) in self.bigrams.get(&key).into_iter().flatten() {
                *votes.entry(left.as_str()).or_default() += count * PAIR_WEIGHT;
            }
        }
        for (form, count) in self.unigrams.get(&folded[index]).into_iter().flatten() {
            *votes.entry(form.as_str()).or_default() += count;
        }
        votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(form, _)| form.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restore(restorer: &Restorer, text: &str) -> String {
        restorer.restore(&words(text)).join(" ")
    }

    #[test]
    fn context_picks_the_right_accents() {
        let restorer = Restorer::learn([
            "Shop có bán áo khoác không?",
            "Bạn muốn đổi hàng",
            "bạn nhận hàng",
            "bán hàng online",
        ]);
        assert_eq!(
            restore(&restorer, "shop co ban ao khoac"),
            "shop có bán áo khoác"
        );
        assert_eq!(restore(&restorer, "ban muon doi hang"), "bạn muốn đổi hàng");
    }

    #[test]
    fn accented_and_unknown_words_stay() {
        let restorer = Restorer::learn(["đổi hàng"]);
        assert_eq!(
            restore(&restorer, "đôi hang iphone 15"),
            "đôi hàng iphone 15"
        );
    }
}
