//! The orchestrator: answers a customer's turn in tiers, cheapest first, and says why.
//!
//! 1. fast path: the FAQ, exact match after [`normalize`], else the best FAQ entry by
//!    hybrid retrieval (dense + lexical) when it clears the bot's threshold by a margin
//!    over the runner-up;
//! 2. knowledge path: the best chunks of the bot's documents, quoted with their source;
//! 3. agentic path: the bot's LLM with its tool plugins ([`super::agent`]), when it has one;
//! 4. fallback: nothing was confident, so say so and offer a person.
//!
//! Each tier is one function returning [`TierOutcome`]; the first confident one answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Content;
use super::agent::prompt::{self, Passage};
use super::agent::trace::ToolHandover;
use super::agent::{Agent, AgentRequest};
use super::cache::TtlCache;
use super::model::{Bot, BotTexts, Conversation, FaqEntry, Thresholds, TurnDecision};
use super::normalize::normalize;
use crate::knowledge::service::{Knowledge, Retrieval};
use crate::plugins::types::CallContext;
use crate::store::{Store, StoreError};

/// The answer to one turn and the decision behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What the bot says.
    pub reply: Content,
    /// Why.
    pub decision: TurnDecision,
    /// What the answer rests on, for evaluation and the handover logic.
    pub grounds: Grounds,
}

/// What an answer rests on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grounds {
    /// The FAQ entry answered with, if any.
    pub faq: Option<String>,
    /// The FAQ entry ranked first, whether or not it was confident enough to answer.
    pub top_faq: Option<String>,
    /// Documents whose chunks the knowledge answer used.
    pub documents: Vec<String>,
    /// The customer asked for a person.
    pub wants_human: bool,
    /// The FAQ entry answered with is tagged `handover`: after its answer the conversation
    /// goes to a person. Its id.
    pub faq_hands_over: Option<String>,
    /// A tool the agentic tier called asked for a person.
    pub tool_handover: Option<ToolHandover>,
}

/// The FAQ tag that makes an entry hand the conversation to a person after answering.
pub const HANDOVER_TAG: &str = "handover";

/// Whether `entry` hands over after answering.
fn hands_over(entry: &crate::conversation::model::FaqEntry) -> Option<String> {
    entry
        .tags
        .iter()
        .any(|tag| tag == HANDOVER_TAG)
        .then(|| entry.id.clone())
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

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&FaqEntry> {
        self.entries.iter().find(|entry| entry.id == id)
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
/// Chunks a knowledge answer quotes at most.
const KNOWLEDGE_CHUNKS: usize = 2;
/// Candidates kept in the decision trace per kind.
const TRACE_CANDIDATES: usize = 5;
/// FAQ entries and document chunks given to the LLM as knowledge, at most, each.
const AGENT_FAQ_PASSAGES: usize = 2;
const AGENT_CHUNK_PASSAGES: usize = 3;
/// Earlier messages of the conversation given to the LLM.
const AGENT_HISTORY_MESSAGES: u32 = 8;

/// Answers turns; holds the per-bot FAQ indexes.
pub struct Orchestrator {
    store: Arc<dyn Store>,
    knowledge: Option<Arc<Knowledge>>,
    agent: Option<Arc<Agent>>,
    faq_cache: TtlCache<FaqIndex>,
}

/// The state of one turn across tiers: retrieval runs once and serves both the FAQ
/// decision and the knowledge tier.
#[derive(Default)]
struct TurnState {
    retrieval: Option<Retrieval>,
    grounds: Grounds,
    /// LLM tokens spent.
    tokens: u64,
}

impl Orchestrator {
    /// An orchestrator reading FAQs from `store`; with `knowledge`, it also matches
    /// questions semantically and answers from documents.
    pub fn new(store: Arc<dyn Store>, knowledge: Option<Arc<Knowledge>>) -> Self {
        Self {
            store,
            knowledge,
            agent: None,
            faq_cache: TtlCache::new(FAQ_CACHE_TTL),
        }
    }

    /// This orchestrator with an agentic tier for bots that have an LLM.
    pub fn with_agent(mut self, agent: Arc<Agent>) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Forgets a bot's cached FAQ and knowledge (after an import).
    pub fn invalidate(&self, bot_id: &str) {
        self.faq_cache.invalidate(bot_id);
        if let Some(knowledge) = &self.knowledge {
            knowledge.invalidate(bot_id);
        }
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

    /// Answers `question`, trying each tier in turn, without the agentic tier (evaluation
    /// and benchmarks measure the retrieval tiers).
    pub async fn answer(
        &self,
        bot: &Bot,
        conversation: &Conversation,
        question: &str,
    ) -> Result<Answer, StoreError> {
        self.answer_with(bot, conversation, question, None).await
    }

    /// Answers `question`, trying each tier in turn; with `context` (who asks, passed to
    /// tools) the agentic tier runs for a bot with an LLM.
    pub async fn answer_with(
        &self,
        bot: &Bot,
        conversation: &Conversation,
        question: &str,
        context: Option<&CallContext>,
    ) -> Result<Answer, StoreError> {
        let started = Instant::now();
        let mut trace = Vec::new();
        let mut state = TurnState::default();
        // Cheapest first, each run only when the ones before it were not confident.
        for tier in ["fast_path", "knowledge", "agentic"] {
            let outcome = match tier {
                "fast_path" => self.fast_path(bot, question, &mut state).await?,
                "knowledge" => knowledge_path(bot, &mut state),
                _ => {
                    self.agentic_path(bot, conversation, question, context, &mut state)
                        .await?
                }
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
                        decision: decision(tier, true, score, trace, started, state.tokens),
                        grounds: state.grounds,
                    });
                }
                TierOutcome::NotConfident { candidates } => {
                    trace.push(json!({"tier": tier, "confident": false, "candidates": candidates}));
                }
            }
        }
        state.grounds.documents.clear();
        let text = BotTexts::pick(&bot.settings.texts.unknown, &conversation.language);
        Ok(Answer {
            reply: Content::text(text),
            decision: decision("fallback", false, None, trace, started, state.tokens),
            grounds: state.grounds,
        })
    }

    /// Tier 1: the FAQ entry whose question equals the customer's after normalisation;
    /// else the best hybrid match, when it clears the bot's threshold by a margin.
    async fn fast_path(
        &self,
        bot: &Bot,
        question: &str,
        state: &mut TurnState,
    ) -> Result<TierOutcome, StoreError> {
        let index = self.faq(bot).await?;
        if let Some(entry) = index.exact(question) {
            state.grounds.faq = Some(entry.id.clone());
            state.grounds.top_faq = Some(entry.id.clone());
            state.grounds.faq_hands_over = hands_over(entry);
            return Ok(TierOutcome::Confident {
                reply: Content::text(entry.answer.clone()),
                score: Some(1.0),
                candidates: json!([{"faq": entry.id, "match": "exact", "score": 1.0}]),
            });
        }
        let Some(knowledge) = &self.knowledge else {
            return Ok(TierOutcome::NotConfident {
                candidates: json!([]),
            });
        };
        let retrieval = match knowledge.retrieve(bot, question).await {
            Ok(retrieval) => retrieval,
            Err(error) => {
                // Retrieval failing (model missing, index down) must not silence the bot:
                // the fallback still answers.
                tracing::warn!(bot = %bot.id, error = %error, "retrieval failed");
                return Ok(TierOutcome::NotConfident {
                    candidates: json!({"error": error.to_string()}),
                });
            }
        };
        state.grounds.wants_human = retrieval.query.wants_human;
        state.grounds.top_faq = retrieval.faq.first().map(|candidate| candidate.id.clone());
        let candidates = json!({
            "query": retrieval.query.rewritten,
            "language": retrieval.query.language,
            "wants_human": retrieval.query.wants_human,
            "faq": retrieval.faq.iter().take(TRACE_CANDIDATES).collect::<Vec<_>>(),
            "best_chunk": retrieval.chunks.first(),
        });
        let verdict = faq_verdict(&bot.settings.thresholds, &retrieval);
        let outcome = match verdict.and_then(|id| retrieval.faq.iter().find(|c| c.id == id)) {
            Some(best) => match index.entry(&best.id) {
                Some(entry) => {
                    state.grounds.faq = Some(entry.id.clone());
                    state.grounds.faq_hands_over = hands_over(entry);
                    TierOutcome::Confident {
                        reply: Content::text(entry.answer.clone()),
                        score: Some(best.score),
                        candidates,
                    }
                }
                None => TierOutcome::NotConfident { candidates },
            },
            None => TierOutcome::NotConfident { candidates },
        };
        state.retrieval = Some(retrieval);
        Ok(outcome)
    }
}

impl Orchestrator {
    /// Tier 3: the bot's LLM with its tools, given the knowledge retrieval found (even below
    /// the thresholds) and the last messages. Runs only for a bot with an LLM, in a turn.
    async fn agentic_path(
        &self,
        bot: &Bot,
        conversation: &Conversation,
        question: &str,
        context: Option<&CallContext>,
        state: &mut TurnState,
    ) -> Result<TierOutcome, StoreError> {
        let (Some(agent), Some(settings), Some(context)) =
            (&self.agent, &bot.settings.llm, context)
        else {
            return Ok(TierOutcome::NotConfident {
                candidates: json!({"reason": "no LLM configured"}),
            });
        };
        let passages = self.passages(bot, state).await?;
        let mut earlier = self
            .store
            .latest_messages(
                &conversation.tenant_id,
                &conversation.id,
                AGENT_HISTORY_MESSAGES + 1,
            )
            .await?;
        // The question itself was stored before the turn ran; it goes last, on its own.
        if earlier
            .last()
            .is_some_and(|last| last.direction == super::model::Direction::Inbound)
        {
            earlier.pop();
        }
        let run = agent
            .run(AgentRequest {
                bot,
                settings,
                context,
                language: &conversation.language,
                passages,
                history: prompt::history(&earlier),
                question,
            })
            .await;
        state.tokens = run.tokens();
        state.grounds.tool_handover = run.trace.handover.clone();
        let candidates = serde_json::to_value(&run.trace).unwrap_or_default();
        Ok(match run.answer {
            Some(text) => TierOutcome::Confident {
                reply: Content::text(text),
                score: None,
                candidates,
            },
            None => TierOutcome::NotConfident { candidates },
        })
    }

    /// The knowledge the LLM gets: the best FAQ entries and document chunks retrieval found.
    async fn passages(&self, bot: &Bot, state: &TurnState) -> Result<Vec<Passage>, StoreError> {
        let Some(retrieval) = &state.retrieval else {
            return Ok(Vec::new());
        };
        let index = self.faq(bot).await?;
        let faq = retrieval
            .faq
            .iter()
            .take(AGENT_FAQ_PASSAGES)
            .filter_map(|candidate| index.entry(&candidate.id))
            .map(|entry| Passage {
                source: format!("faq:{}", entry.id),
                text: format!("Q: {}\nA: {}", entry.question, entry.answer),
            });
        let chunks = retrieval
            .chunks
            .iter()
            .take(AGENT_CHUNK_PASSAGES)
            .filter_map(|chunk| {
                let text = retrieval.chunk_texts.get(&chunk.id)?;
                Some(Passage {
                    source: format!("doc:{}", chunk.document.as_deref().unwrap_or(&chunk.id)),
                    text: text.clone(),
                })
            });
        Ok(faq.chain(chunks).collect())
    }
}

/// The FAQ entry to answer with: the best candidate when it clears the threshold, leads
/// the runner-up by the margin, and no document chunk fits the question clearly better
/// (documents hold the details an FAQ answer leaves out).
fn faq_verdict(thresholds: &Thresholds, retrieval: &Retrieval) -> Option<String> {
    let best = retrieval.faq.first()?;
    let runner_up = retrieval
        .faq
        .get(1)
        .map_or(0.0, |candidate| candidate.score);
    let best_chunk = retrieval
        .chunks
        .first()
        .map_or(0.0, |candidate| candidate.score);
    let confident = best.score >= thresholds.faq
        && best.score - runner_up >= thresholds.faq_margin
        && best_chunk < best.score + thresholds.faq_margin;
    confident.then(|| best.id.clone())
}

/// Tier 2: the best document chunks, when the best clears the bot's knowledge threshold.
/// Without an LLM the answer quotes them, with their source.
fn knowledge_path(bot: &Bot, state: &mut TurnState) -> TierOutcome {
    let Some(retrieval) = &state.retrieval else {
        return TierOutcome::NotConfident {
            candidates: json!({"reason": "no knowledge retrieval"}),
        };
    };
    let candidates = json!(
        retrieval
            .chunks
            .iter()
            .take(TRACE_CANDIDATES)
            .collect::<Vec<_>>()
    );
    let Some(best) = retrieval.chunks.first() else {
        return TierOutcome::NotConfident { candidates };
    };
    if best.score < bot.settings.thresholds.knowledge {
        return TierOutcome::NotConfident { candidates };
    }
    let used: Vec<_> = retrieval
        .chunks
        .iter()
        .take(KNOWLEDGE_CHUNKS)
        .filter(|chunk| chunk.score >= bot.settings.thresholds.knowledge)
        .collect();
    state.grounds.documents = used
        .iter()
        .filter_map(|chunk| chunk.document.clone())
        .collect();
    state.grounds.documents.dedup();
    let text = used
        .iter()
        .filter_map(|chunk| retrieval.chunk_texts.get(&chunk.id))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n");
    TierOutcome::Confident {
        reply: Content::text(text),
        score: Some(best.score),
        candidates,
    }
}

fn decision(
    tier: &str,
    confident: bool,
    score: Option<f32>,
    trace: Vec<serde_json::Value>,
    started: Instant,
    tokens: u64,
) -> TurnDecision {
    TurnDecision {
        tier: tier.to_owned(),
        confident,
        score,
        candidates: serde_json::Value::Array(trace),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        tokens,
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
