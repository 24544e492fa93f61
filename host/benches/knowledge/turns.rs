//! One customer turn at a time: raw `Embedder::embed` of the query as typed (the baseline:
//! the model's own cost, one text per call as a turn has), raw embed of the analysed query
//! (the text the fast path really embeds: shorthand expanded, accents restored,
//! punctuation gone, English rendered in Vietnamese — so like for like), and
//! `Orchestrator::answer` on the same query (normalise, exact match, analyse, embed,
//! hybrid search, decision).
//!
//! The three alternate query by query and which goes first rotates, so background load on
//! the shared machine hits all alike and none always finds caches warmer.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loa::conversation::orchestrator::{FaqIndex, Orchestrator};
use loa::knowledge::embedder::Role;

use super::shop::Shop;

/// One timed turn of one query.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The exact FAQ match answered it, so `answer` ran no embedding.
    pub exact: bool,
    /// Raw embed of the query as typed.
    pub typed: Duration,
    /// Raw embed of the analysed query.
    pub analysed: Duration,
    /// `Orchestrator::answer`.
    pub answer: Duration,
}

/// Every timed turn and what the orchestrator did with the queries.
#[derive(Debug, Default)]
pub struct TurnReport {
    /// Distinct queries.
    pub queries: usize,
    /// Timed passes over them.
    pub rounds: usize,
    /// Every query, every round.
    pub samples: Vec<Sample>,
    /// Distinct queries the exact FAQ match answered (no embedding).
    pub exact: usize,
    /// Distinct queries by the tier that answered them (`fast_path`, `knowledge`,
    /// `fallback`).
    pub tiers: BTreeMap<String, usize>,
    /// Mean characters of the queries as typed.
    pub typed_chars: f64,
    /// Mean characters of the analysed queries.
    pub analysed_chars: f64,
}

impl TurnReport {
    /// Items per second over `durations` run one after another.
    pub fn per_second(durations: &[Duration]) -> f64 {
        let total: Duration = durations.iter().sum();
        durations.len() as f64 / total.as_secs_f64().max(1e-9)
    }

    /// One timing of the samples `keep` selects.
    pub fn durations(
        &self,
        keep: impl Fn(&Sample) -> bool,
        timing: impl Fn(&Sample) -> Duration,
    ) -> Vec<Duration> {
        self.samples
            .iter()
            .filter(|sample| keep(sample))
            .map(timing)
            .collect()
    }
}

fn mean_chars(texts: &[String]) -> f64 {
    let total: usize = texts.iter().map(|text| text.chars().count()).sum();
    total as f64 / texts.len().max(1) as f64
}

/// Warms all three with one untimed pass (which also records tiers and the analysed
/// queries), then times `rounds` interleaved passes over `queries`.
pub async fn measure(shop: &Shop, queries: &[String], rounds: usize) -> TurnReport {
    let orchestrator =
        Orchestrator::new(Arc::clone(&shop.store), Some(Arc::clone(&shop.knowledge)));
    // The same rule the orchestrator applies first, so "skipped the embedder" is exact.
    let faq_index = FaqIndex::new(shop.faq.clone());
    let embed = |text: &str| {
        let started = Instant::now();
        black_box(
            shop.embedder
                .embed(&[text.to_owned()], Role::Query)
                .expect("embeds"),
        );
        started.elapsed()
    };
    let answer = |query: &str| {
        let orchestrator = &orchestrator;
        let query = query.to_owned();
        async move {
            let started = Instant::now();
            let answer = orchestrator
                .answer(&shop.bot, &shop.conversation, &query)
                .await
                .expect("answers");
            (started.elapsed(), answer)
        }
    };

    let mut analysed = Vec::with_capacity(queries.len());
    let mut tiers = BTreeMap::new();
    for query in queries {
        let retrieval = shop
            .knowledge
            .retrieve(&shop.bot, query)
            .await
            .expect("retrieves");
        embed(query);
        embed(&retrieval.query.rewritten);
        let (_, answer) = answer(query).await;
        *tiers.entry(answer.decision.tier).or_default() += 1;
        analysed.push(retrieval.query.rewritten);
    }
    let exact: Vec<bool> = queries
        .iter()
        .map(|query| faq_index.exact(query).is_some())
        .collect();

    let mut samples = Vec::with_capacity(queries.len() * rounds);
    for round in 0..rounds {
        for (position, query) in queries.iter().enumerate() {
            let first = (round + position) % 3;
            let (mut typed, mut analysed_time, mut answered) =
                (Duration::ZERO, Duration::ZERO, Duration::ZERO);
            for step in 0..3 {
                match (first + step) % 3 {
                    0 => typed = embed(query),
                    1 => analysed_time = embed(&analysed[position]),
                    _ => answered = answer(query).await.0,
                }
            }
            samples.push(Sample {
                exact: exact[position],
                typed,
                analysed: analysed_time,
                answer: answered,
            });
        }
    }
    TurnReport {
        queries: queries.len(),
        rounds,
        samples,
        exact: exact.iter().filter(|&&hit| hit).count(),
        tiers,
        typed_chars: mean_chars(queries),
        analysed_chars: mean_chars(&analysed),
    }
}
