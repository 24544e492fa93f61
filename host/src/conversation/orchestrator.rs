//! The orchestrator: answers a customer's turn in tiers, cheapest first, and says why.
//!
//! 1. fast path: the FAQ, exact match after [`normalize`];
//! 2. knowledge path: hybrid retrieval over the bot's documents (knowledge issue);
//! 3. agentic path: an LLM with the tenant's tool plugins (agentic issue);
//! 4. fallback: nothing was confident, so ask to rephrase.
//!
//! Each tier is one function returning [`TierOutcome`]; the first confident one answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Content;
use super::cache::TtlCache;
use super::model::{Bot, BotTexts, Conversation, FaqEntry, TurnDecision};
use super::normalize::normalize;
use crate::store::{Store, StoreError};

/// The answer to one turn and the decision behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What the bot says.
    pub reply: Content,
    /// Why.
    pub decision: TurnDecision,
}

/// What one tier made of the question.
#[derive(Debug, Clone, PartialEq)]
pub enum TierOutcome {
    /// This tier answers.
    Confident {
        /// The reply.
        reply: Content,
        /// Its score, when the tier scores.
        score: Option<f32>,
        /// What it considered.
        candidates: serde_json::Value,
    },
    /// This tier has no confident answer; the next tier runs.
    NotConfident {
        /// What it considered, for the decision trace.
        candidates: serde_json::Value,
    },
}

/// A bot's FAQ keyed by normalised question (and variants).
#[derive(Debug, Default)]
pub struct FaqIndex {
    by_key: HashMap<String, usize>,
    entries: Vec<FaqEntry>,
}

impl FaqIndex {
    /// Indexes `entries`; for a key shared by two entries the first one wins.
    pub fn new(entries: Vec<FaqEntry>) -> Self {
        let mut by_key = HashMap::new();
        for (position, entry) in entries.iter().enumerate() {
            for question in std::iter::once(&entry.question).chain(&entry.variants) {
                let key = normalize(question);
                if !key.is_empty() {
                    by_key.entry(key).or_insert(position);
                }
            }
        }
        Self { by_key, entries }
    }

    /// The entry whose question or a variant equals `question` after normalisation.
    pub fn exact(&self, question: &str) -> Option<&FaqEntry> {
        self.by_key
            .get(&normalize(question))
            .and_then(|&position| self.entries.get(position))
    }
}

/// How long a loaded FAQ is trusted before it is read again. 5 s: an admin's change shows
/// up almost at once without a store read per message.
const FAQ_CACHE_TTL: Duration = Duration::from_secs(5);

/// Answers turns; holds the per-bot FAQ indexes.
pub struct Orchestrator {
    store: Arc<dyn Store>,
    faq_cache: TtlCache<FaqIndex>,
}

impl Orchestrator {
    /// An orchestrator reading FAQs from `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            faq_cache: TtlCache::new(FAQ_CACHE_TTL),
        }
    }

    /// Forgets a bot's cached FAQ (after an import).
    pub fn invalidate(&self, bot_id: &str) {
        self.faq_cache.invalidate(bot_id);
    }

    async fn faq(&self, bot: &Bot) -> Result<Arc<FaqIndex>, StoreError> {
        let loaded = self
            .faq_cache
            .get_or_load(&bot.id, async {
                let entries = self.store.faq_entries(&bot.tenant_id, &bot.id).await?;
                Ok::<_, StoreError>(Some(FaqIndex::new(entries)))
            })
            .await?;
        Ok(loaded.unwrap_or_default())
    }

    /// Answers `question`, trying each tier in turn.
    pub async fn answer(
        &self,
        bot: &Bot,
        conversation: &Conversation,
        question: &str,
    ) -> Result<Answer, StoreError> {
        let started = Instant::now();
        let mut trace = Vec::new();
        // Cheapest first, each run only when the ones before it were not confident.
        for tier in ["fast_path", "knowledge", "agentic"] {
            let outcome = match tier {
                "fast_path" => self.fast_path(bot, question).await?,
                "knowledge" => knowledge_path(),
                _ => agentic_path(),
            };
            match outcome {
                TierOutcome::Confident {
                    reply,
                    score,
                    candidates,
                } => {
                    trace.push(json!({"tier": tier, "confident": true, "candidates": candidates}));
                    return Ok(Answer {
                        reply,
                        decision: decision(tier, true, score, trace, started),
                    });
                }
                TierOutcome::NotConfident { candidates } => {
                    trace.push(json!({"tier": tier, "confident": false, "candidates": candidates}));
                }
            }
        }
        let text = BotTexts::pick(&bot.settings.texts.rephrase, &conversation.language);
        Ok(Answer {
            reply: Content::text(text),
            decision: decision("fallback", false, None, trace, started),
        })
    }

    /// Tier 1: the FAQ entry whose question equals the customer's after normalisation.
    async fn fast_path(&self, bot: &Bot, question: &str) -> Result<TierOutcome, StoreError> {
        let index = self.faq(bot).await?;
        Ok(match index.exact(question) {
            Some(entry) => TierOutcome::Confident {
                reply: Content::text(entry.answer.clone()),
                score: Some(1.0),
                candidates: json!([{"faq": entry.id, "match": "exact", "score": 1.0}]),
            },
            None => TierOutcome::NotConfident {
                candidates: json!([]),
            },
        })
    }
}

/// Tier 2, until the knowledge issue plugs in retrieval: never confident.
fn knowledge_path() -> TierOutcome {
    TierOutcome::NotConfident {
        candidates: json!({"reason": "no knowledge index yet"}),
    }
}

/// Tier 3, until the agentic issue plugs in an LLM: never confident.
fn agentic_path() -> TierOutcome {
    TierOutcome::NotConfident {
        candidates: json!({"reason": "no LLM configured"}),
    }
}

fn decision(
    tier: &str,
    confident: bool,
    score: Option<f32>,
    trace: Vec<serde_json::Value>,
    started: Instant,
) -> TurnDecision {
    TurnDecision {
        tier: tier.to_owned(),
        confident,
        score,
        candidates: serde_json::Value::Array(trace),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        tokens: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, question: &str, variants: &[&str]) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            question: question.into(),
            variants: variants.iter().map(|v| (*v).to_owned()).collect(),
            answer: format!("answer {id}"),
            tags: vec![],
        }
    }

    #[test]
    fn exact_match_ignores_accents_case_and_punctuation() {
        let index = FaqIndex::new(vec![entry(
            "faq-01",
            "Shop có giao hàng COD không?",
            &["shop có ship COD không?"],
        )]);
        assert_eq!(
            index.exact("SHOP CO SHIP COD KHONG").map(|e| e.id.as_str()),
            Some("faq-01")
        );
        assert_eq!(
            index
                .exact("shop có giao hàng cod không")
                .map(|e| e.id.as_str()),
            Some("faq-01")
        );
    }

    #[test]
    fn a_different_question_does_not_match() {
        let index = FaqIndex::new(vec![entry("faq-01", "Shop có giao hàng COD không?", &[])]);
        assert!(index.exact("shop có giao hàng không").is_none());
        assert!(index.exact("").is_none());
    }

    #[test]
    fn the_first_entry_wins_a_shared_key() {
        let index = FaqIndex::new(vec![
            entry("a", "Phí ship?", &[]),
            entry("b", "phi ship", &[]),
        ]);
        assert_eq!(index.exact("phí ship").map(|e| e.id.as_str()), Some("a"));
    }
}
