//! The lexical index: BM25 over folded Vietnamese syllables and syllable pairs, so
//! "giao hàng", "giao hang" and "GIAO HÀNG" are one term and "giao hàng" (delivery) is a
//! stronger match than "giao" and "hàng" apart. Scores are also given relative to the
//! query's best possible score ([`LexicalIndex::coverage`]), which is comparable across
//! queries and so can be fused with cosine similarities and held against a threshold.

use std::collections::HashMap;

use super::text::{fold_tokens, has_diacritics, words};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.5;

/// Folded syllables that carry no topic in a shop's questions (particles, pronouns,
/// politeness). Dropped from queries and documents alike.
const STOP_WORDS: &[&str] = &[
    "a", "ak", "ah", "ad", "shop", "oi", "nhe", "nha", "nhen", "vay", "z", "v", "minh", "ban",
    "em", "anh", "chi", "to", "toi", "tui", "thi", "la", "ma", "cua", "cho", "voi", "nhi", "ha",
    "hen", "u", "uh", "ok", "alo", "hi", "hello", "ne", "day", "do", "nay", "kia", "the", "nao",
    "gi", "j", "duoc", "dc", "co", "khong", "k", "ko", "roi", "r",
];

/// Terms of a text: folded syllables (without stop words), adjacent pairs of them, and
/// the accented form of each syllable that has accents (marked `=lụa`). Folding merges
/// words that differ only by accents (`lụa` silk, `lựa` choose, `lúa` rice); the accented
/// terms tell them apart whenever both sides have accents (the query analysis restores
/// them), while the folded ones still match text typed without.
pub fn terms(text: &str) -> Vec<String> {
    let folded = fold_tokens(text);
    let accented = words(text);
    let aligned = folded.len() == accented.len();
    let mut tokens = Vec::with_capacity(folded.len());
    let mut terms = Vec::new();
    for (index, token) in folded.into_iter().enumerate() {
        if STOP_WORDS.contains(&token.as_str()) {
            continue;
        }
        if aligned && has_diacritics(&accented[index]) {
            terms.push(format!("={}", accented[index]));
        }
        tokens.push(token);
    }
    terms.extend(tokens.iter().cloned());
    terms.extend(
        tokens
            .windows(2)
            .map(|pair| format!("{} {}", pair[0], pair[1])),
    );
    terms
}

/// One document of the index: text fields with their weights.
#[derive(Debug, Clone)]
pub struct LexicalDocument {
    /// The id results carry.
    pub id: String,
    /// `(text, weight)`: a term found in a field counts `weight` times.
    pub fields: Vec<(String, f32)>,
}

/// A BM25 index over a bot's FAQ entries or document chunks.
#[derive(Debug, Default)]
pub struct LexicalIndex {
    ids: Vec<String>,
    /// Per document: weighted term frequencies.
    frequencies: Vec<HashMap<String, f32>>,
    lengths: Vec<f32>,
    average_length: f32,
    document_frequency: HashMap<String, u32>,
}

impl LexicalIndex {
    /// Indexes `documents`.
    pub fn new(documents: &[LexicalDocument]) -> Self {
        let mut index = Self::default();
        for document in documents {
            let mut frequencies: HashMap<String, f32> = HashMap::new();
            for (text, weight) in &document.fields {
                for term in terms(text) {
                    *frequencies.entry(term).or_default() += weight;
                }
            }
            for term in frequencies.keys() {
                *index.document_frequency.entry(term.clone()).or_default() += 1;
            }
            index.lengths.push(frequencies.values().sum());
            index.frequencies.push(frequencies);
            index.ids.push(document.id.clone());
        }
        let total: f32 = index.lengths.iter().sum();
        index.average_length = if index.ids.is_empty() {
            1.0
        } else {
            (total / index.ids.len() as f32).max(1.0)
        };
        index
    }

    /// How many documents it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Inverse document frequency (BM25+ style, never negative).
    fn idf(&self, term: &str) -> f32 {
        let n = self.ids.len() as f32;
        let df = self.document_frequency.get(term).copied().unwrap_or(0) as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// Every document's share of the query's best possible score, in `0.0..=1.0`:
    /// `(id, coverage)` for documents with any match, best first.
    ///
    /// `query` holds weighted terms (synonyms weigh less than what the customer typed).
    /// Coverage is the BM25 score divided by the score a document matching every query
    /// term once at average length would get, capped at 1.
    pub fn coverage(&self, query: &[(String, f32)]) -> Vec<(String, f32)> {
        let weighted: Vec<(&str, f32, f32)> = query
            .iter()
            .map(|(term, weight)| (term.as_str(), *weight, self.idf(term)))
            .collect();
        // Synonyms widen the net but should not raise the bar: the ideal counts only the
        // query's own terms (weight 1).
        let ideal: f32 = weighted
            .iter()
            .filter(|(_, weight, _)| *weight >= 1.0)
            .map(|(_, weight, idf)| weight * idf)
            .sum();
        if ideal <= 0.0 {
            return Vec::new();
        }
        let mut scored: Vec<(String, f32)> = (0..self.ids.len())
            .filter_map(|position| {
                let frequencies = &self.frequencies[position];
                let length_norm = 1.0 - B + B * self.lengths[position] / self.average_length;
                let score: f32 = weighted
                    .iter()
                    .filter_map(|(term, weight, idf)| {
                        let tf = *frequencies.get(*term)?;
                        Some(weight * idf * tf * (K1 + 1.0) / (tf + K1 * length_norm))
                    })
                    .sum();
                (score > 0.0).then(|| (self.ids[position].clone(), (score / ideal).min(1.0)))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(id: &str, text: &str) -> LexicalDocument {
        LexicalDocument {
            id: id.into(),
            fields: vec![(text.into(), 1.0)],
        }
    }

    fn query(text: &str) -> Vec<(String, f32)> {
        terms(text).into_iter().map(|term| (term, 1.0)).collect()
    }

    #[test]
    fn terms_are_folded_syllables_and_pairs_without_stop_words() {
        assert_eq!(
            terms("Shop có giao hàng không ạ?"),
            vec!["=hàng", "giao", "hang", "giao hang"]
        );
    }

    #[test]
    fn the_matching_document_ranks_first_with_or_without_accents() {
        let index = LexicalIndex::new(&[
            document("ship", "Phí giao hàng bao nhiêu?"),
            document("size", "Bảng size xem ở đâu?"),
            document("pay", "Thanh toán bằng thẻ được không?"),
        ]);
        for text in ["phi giao hang bao nhieu", "PHÍ GIAO HÀNG"] {
            let ranked = index.coverage(&query(text));
            assert_eq!(ranked[0].0, "ship", "{text}");
        }
        assert!(index.coverage(&query("thời tiết hôm nay")).is_empty());
    }

    #[test]
    fn coverage_is_higher_for_a_fuller_match() {
        let index = LexicalIndex::new(&[
            document("a", "đổi size áo"),
            document("b", "đổi trả hàng giảm giá"),
            document("c", "bảng size"),
        ]);
        let full = index.coverage(&query("đổi size áo"));
        assert_eq!(full[0].0, "a");
        assert!(full[0].1 > 0.9 && full[0].1 <= 1.0, "{full:?}");
        let partial = index.coverage(&query("đổi size áo khoác lông vũ"));
        assert!(partial[0].1 < full[0].1);
    }

    #[test]
    fn an_empty_index_or_query_scores_nothing() {
        assert!(
            LexicalIndex::new(&[])
                .coverage(&query("giao hàng"))
                .is_empty()
        );
        let index = LexicalIndex::new(&[document("a", "giao hàng")]);
        assert!(index.coverage(&query("ạ shop ơi")).is_empty());
    }
}
