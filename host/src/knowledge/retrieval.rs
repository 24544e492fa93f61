//! Hybrid retrieval over one bot's knowledge: dense scores from the vector index fused
//! with lexical coverage over folded syllables, for FAQ entries and document chunks.
//!
//! The fused score is a weighted sum of two calibrated parts in `0..=1`: the cosine
//! similarity rescaled over the range e5 actually produces (unrelated Vietnamese texts
//! already score ~0.75), and the lexical coverage of the query. Both are comparable across
//! queries, so one per-bot threshold and margin decide whether to answer.

use std::collections::HashMap;

use serde::Serialize;

use super::analyze::AnalyzedQuery;
use super::lexical::{LexicalDocument, LexicalIndex};
use super::restore::Restorer;
use super::units::chunk_text;
use super::vector::{Partition, PointKind, VectorHit};
use crate::conversation::model::FaqEntry;
use crate::store::Document;

/// How the parts of the fused score weigh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// Weight of the rescaled cosine similarity.
    pub dense: f32,
    /// Weight of the lexical coverage.
    pub lexical: f32,
    /// Cosine similarity rescaled to 0 (e5's floor for unrelated texts).
    pub cosine_floor: f32,
    /// Cosine similarity rescaled to 1.
    pub cosine_ceiling: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self {
            dense: 0.4,
            lexical: 0.6,
            cosine_floor: 0.78,
            cosine_ceiling: 0.92,
        }
    }
}

impl FusionWeights {
    fn fuse(&self, cosine: f32, lexical: f32) -> f32 {
        let span = (self.cosine_ceiling - self.cosine_floor).max(f32::EPSILON);
        let dense = ((cosine - self.cosine_floor) / span).clamp(0.0, 1.0);
        self.dense * dense + self.lexical * lexical
    }
}

/// One scored FAQ entry or chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// FAQ entry id, or chunk point id (`chunk:doc.md:3`).
    pub id: String,
    /// The document, for chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Best cosine similarity of the query to the item's vectors.
    pub cosine: f32,
    /// Lexical coverage of the query by the item.
    pub lexical: f32,
    /// The fused score the decision uses.
    pub score: f32,
}

/// A chunk's text and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkInfo {
    /// Its document's id.
    pub document_id: String,
    /// Its document's title.
    pub title: String,
    /// Title, headings and text, as indexed.
    pub text: String,
}

/// Everything retrieval needs of one bot, built from the store (vectors live in the
/// vector index).
#[derive(Debug)]
pub struct BotKnowledge {
    /// The bot's partition in the vector index.
    pub partition: Partition,
    /// The FAQ, in the admin's order.
    pub faq: Vec<FaqEntry>,
    /// Chunks by point id.
    pub chunks: HashMap<String, ChunkInfo>,
    /// Restores accents from this bot's own texts.
    pub restorer: Restorer,
    faq_lexical: LexicalIndex,
    chunk_lexical: LexicalIndex,
}

/// Weight of an FAQ answer's words next to its question's (1.0): an answer says more
/// than its question asks, so it should help a match, not make one.
const ANSWER_FIELD_WEIGHT: f32 = 0.4;

impl BotKnowledge {
    /// Indexes a bot's FAQ and documents (lexically; the vectors are the index's).
    pub fn new(
        partition: Partition,
        faq: Vec<FaqEntry>,
        documents: &[Document],
        extra_vocabulary: &[&str],
    ) -> Self {
        let faq_documents: Vec<LexicalDocument> = faq
            .iter()
            .map(|entry| {
                let mut fields = vec![(entry.question.clone(), 1.0)];
                fields.extend(entry.variants.iter().map(|variant| (variant.clone(), 1.0)));
                fields.push((entry.answer.clone(), ANSWER_FIELD_WEIGHT));
                LexicalDocument {
                    id: entry.id.clone(),
                    fields,
                }
            })
            .collect();
        let mut chunks = HashMap::new();
        let mut chunk_documents = Vec::new();
        for document in documents {
            for position in 0..document.chunks.len() {
                let id = format!("chunk:{}:{position}", document.id);
                let text = chunk_text(document, position);
                chunk_documents.push(LexicalDocument {
                    id: id.clone(),
                    fields: vec![(text.clone(), 1.0)],
                });
                chunks.insert(
                    id,
                    ChunkInfo {
                        document_id: document.id.clone(),
                        title: document.title.clone(),
                        text,
                    },
                );
            }
        }
        let mut vocabulary: Vec<&str> = Vec::new();
        for entry in &faq {
            vocabulary.push(&entry.question);
            vocabulary.extend(entry.variants.iter().map(String::as_str));
            vocabulary.push(&entry.answer);
        }
        vocabulary.extend(chunks.values().map(|chunk| chunk.text.as_str()));
        vocabulary.extend_from_slice(extra_vocabulary);
        Self {
            partition,
            restorer: Restorer::learn(vocabulary),
            faq_lexical: LexicalIndex::new(&faq_documents),
            chunk_lexical: LexicalIndex::new(&chunk_documents),
            faq,
            chunks,
        }
    }

    /// The FAQ entry with this id.
    pub fn faq_entry(&self, id: &str) -> Option<&FaqEntry> {
        self.faq.iter().find(|entry| entry.id == id)
    }

    /// Scores FAQ entries from the query's dense `hits` (FAQ points) and lexical terms,
    /// best first.
    pub fn score_faq(
        &self,
        query: &AnalyzedQuery,
        hits: &[VectorHit],
        weights: &FusionWeights,
    ) -> Vec<Candidate> {
        let cosine = best_cosine_per_item(hits, PointKind::Faq);
        let lexical: HashMap<String, f32> = self
            .faq_lexical
            .coverage(&query.terms)
            .into_iter()
            .collect();
        let mut candidates: Vec<Candidate> = self
            .faq
            .iter()
            .map(|entry| {
                let cosine = cosine.get(&entry.id).copied().unwrap_or(0.0);
                let lexical = lexical.get(&entry.id).copied().unwrap_or(0.0);
                Candidate {
                    id: entry.id.clone(),
                    document: None,
                    cosine,
                    lexical,
                    score: weights.fuse(cosine, lexical),
                }
            })
            .collect();
        sort_best_first(&mut candidates);
        candidates
    }

    /// Scores document chunks the same way, best first.
    pub fn score_chunks(
        &self,
        query: &AnalyzedQuery,
        hits: &[VectorHit],
        weights: &FusionWeights,
    ) -> Vec<Candidate> {
        let mut cosine: HashMap<&str, f32> = HashMap::new();
        for hit in hits.iter().filter(|hit| hit.kind == PointKind::Chunk) {
            cosine.insert(&hit.id, hit.score);
        }
        let lexical: HashMap<String, f32> = self
            .chunk_lexical
            .coverage(&query.terms)
            .into_iter()
            .collect();
        let mut candidates: Vec<Candidate> = self
            .chunks
            .iter()
            .filter(|(id, _)| cosine.contains_key(id.as_str()) || lexical.contains_key(*id))
            .map(|(id, chunk)| {
                let cosine = cosine.get(id.as_str()).copied().unwrap_or(0.0);
                let lexical = lexical.get(id).copied().unwrap_or(0.0);
                Candidate {
                    id: id.clone(),
                    document: Some(chunk.document_id.clone()),
                    cosine,
                    lexical,
                    score: weights.fuse(cosine, lexical),
                }
            })
            .collect();
        sort_best_first(&mut candidates);
        candidates
    }
}

/// The best cosine per item among `hits` of `kind`.
fn best_cosine_per_item(hits: &[VectorHit], kind: PointKind) -> HashMap<String, f32> {
    let mut best: HashMap<String, f32> = HashMap::new();
    for hit in hits.iter().filter(|hit| hit.kind == kind) {
        let score = best.entry(hit.item_id.clone()).or_insert(f32::MIN);
        *score = score.max(hit.score);
    }
    best
}

fn sort_best_first(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
}
