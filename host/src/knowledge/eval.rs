//! `loa eval`: how well a bot answers a query set. Every query runs through the real
//! orchestrator with the bot's real answer rule; the report gives, overall and per style:
//!
//! - `top1`: the right FAQ entry ranked first, whatever the rule decided (queries with an
//!   expected id);
//! - `answered_correct`: the bot answered with the right FAQ entry (same queries);
//! - `false_answer_rate`: over all queries, an FAQ answer when none or another was right;
//! - `knowledge_hit`: for queries naming a document, that document among the chunks the
//!   knowledge answer used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::conversation::model::{Bot, Conversation};
use crate::conversation::orchestrator::{Grounds, Orchestrator};
use crate::store::StoreError;

/// One line of a query file (`../shared/data/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct EvalQuery {
    /// What the customer types.
    pub query: String,
    /// The FAQ id that answers it, or null when none does.
    pub expect: Option<String>,
    /// The kind of query (`diacritics`, `teencode`, `english`, `out-of-scope`...).
    #[serde(default = "default_style")]
    pub style: String,
    /// For knowledge queries: the document that answers it.
    #[serde(default)]
    pub doc: Option<String>,
}

fn default_style() -> String {
    "all".into()
}

/// Why a query file was refused.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line is not a query object.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads a JSONL query file.
pub fn read_queries(path: &Path) -> Result<Vec<EvalQuery>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut queries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let query: EvalQuery = serde_json::from_str(line).map_err(|error| EvalError::Line {
            path: path.to_owned(),
            line: index + 1,
            message: error.to_string(),
        })?;
        if query.query.trim().is_empty() {
            return Err(EvalError::Line {
                path: path.to_owned(),
                line: index + 1,
                message: "empty query".into(),
            });
        }
        queries.push(query);
    }
    Ok(queries)
}

/// The metrics of a set of queries; `None` where no query of the set applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Queries in the set.
    pub queries: usize,
    /// Right FAQ ranked first.
    pub top1: Option<f64>,
    /// Answered with the right FAQ.
    pub answered_correct: Option<f64>,
    /// FAQ answers that were wrong, over all queries.
    pub false_answer_rate: Option<f64>,
    /// The named document among the chunks used.
    pub knowledge_hit: Option<f64>,
}

/// What happened to one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryOutcome {
    /// The query.
    #[serde(flatten)]
    pub query: EvalQuery,
    /// The tier that answered (`fast_path`, `knowledge`, `fallback`).
    pub tier: String,
    /// The FAQ entry ranked first.
    pub top_faq: Option<String>,
    /// The FAQ entry answered with.
    pub answered_faq: Option<String>,
    /// Documents the knowledge answer used.
    pub documents: Vec<String>,
    /// The score of the deciding tier.
    pub score: Option<f32>,
    /// The decision trace (tiers and their candidates).
    #[serde(skip)]
    pub trace: serde_json::Value,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// All queries.
    #[serde(flatten)]
    pub overall: Metrics,
    /// Per style.
    pub by_style: BTreeMap<String, Metrics>,
    /// Per query, in file order (printed with `--verbose`).
    #[serde(skip)]
    pub outcomes: Vec<QueryOutcome>,
}

/// Runs every query through `orchestrator` as a new conversation with `bot`.
pub async fn evaluate(
    orchestrator: &Orchestrator,
    bot: &Bot,
    conversation: &Conversation,
    queries: &[EvalQuery],
) -> Result<EvalReport, StoreError> {
    let mut outcomes = Vec::with_capacity(queries.len());
    for query in queries {
        let answer = orchestrator.answer(bot, conversation, &query.query).await?;
        let Grounds {
            faq,
            top_faq,
            documents,
            ..
        } = answer.grounds;
        outcomes.push(QueryOutcome {
            query: query.clone(),
            tier: answer.decision.tier,
            top_faq,
            answered_faq: faq,
            documents,
            score: answer.decision.score,
            trace: answer.decision.candidates,
        });
    }
    let mut by_style: BTreeMap<String, Vec<&QueryOutcome>> = BTreeMap::new();
    for outcome in &outcomes {
        by_style
            .entry(outcome.query.style.clone())
            .or_default()
            .push(outcome);
    }
    Ok(EvalReport {
        overall: metrics(&outcomes.iter().collect::<Vec<_>>()),
        by_style: by_style
            .into_iter()
            .map(|(style, outcomes)| (style, metrics(&outcomes)))
            .collect(),
        outcomes,
    })
}

fn ratio(hits: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| hits as f64 / total as f64)
}

fn metrics(outcomes: &[&QueryOutcome]) -> Metrics {
    let with_id: Vec<&&QueryOutcome> = outcomes
        .iter()
        .filter(|outcome| outcome.query.expect.is_some())
        .collect();
    let top1 = with_id
        .iter()
        .filter(|outcome| outcome.top_faq == outcome.query.expect)
        .count();
    let answered = with_id
        .iter()
        .filter(|outcome| outcome.answered_faq == outcome.query.expect)
        .count();
    let false_answers = outcomes
        .iter()
        .filter(|outcome| {
            outcome.answered_faq.is_some() && outcome.answered_faq != outcome.query.expect
        })
        .count();
    let with_doc: Vec<&&QueryOutcome> = outcomes
        .iter()
        .filter(|outcome| outcome.query.doc.is_some())
        .collect();
    let doc_hits = with_doc
        .iter()
        .filter(|outcome| {
            outcome
                .query
                .doc
                .as_ref()
                .is_some_and(|doc| outcome.documents.contains(doc))
        })
        .count();
    Metrics {
        queries: outcomes.len(),
        top1: ratio(top1, with_id.len()),
        answered_correct: ratio(answered, with_id.len()),
        false_answer_rate: ratio(false_answers, outcomes.len()),
        knowledge_hit: ratio(doc_hits, with_doc.len()),
    }
}

/// The report as a table: one row per style, then the overall row.
pub fn table(report: &EvalReport) -> String {
    let cell = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.2}"));
    let mut lines = vec![format!(
        "{:<14} {:>7} {:>6} {:>16} {:>17} {:>13}",
        "style", "queries", "top1", "answered_correct", "false_answer_rate", "knowledge_hit"
    )];
    let rows = report
        .by_style
        .iter()
        .map(|(style, metrics)| (style.as_str(), metrics))
        .chain(std::iter::once(("overall", &report.overall)));
    for (style, metrics) in rows {
        lines.push(format!(
            "{:<14} {:>7} {:>6} {:>16} {:>17} {:>13}",
            style,
            metrics.queries,
            cell(metrics.top1),
            cell(metrics.answered_correct),
            cell(metrics.false_answer_rate),
            cell(metrics.knowledge_hit)
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(expect: Option<&str>, top: Option<&str>, answered: Option<&str>) -> QueryOutcome {
        QueryOutcome {
            query: EvalQuery {
                query: "q".into(),
                expect: expect.map(str::to_owned),
                style: "s".into(),
                doc: None,
            },
            tier: "fast_path".into(),
            top_faq: top.map(str::to_owned),
            answered_faq: answered.map(str::to_owned),
            documents: vec![],
            score: None,
            trace: serde_json::Value::Null,
        }
    }

    #[test]
    fn metrics_count_what_the_issue_defines() {
        let outcomes = [
            outcome(Some("a"), Some("a"), Some("a")),
            outcome(Some("b"), Some("b"), None),
            outcome(Some("c"), Some("x"), Some("x")),
            outcome(None, Some("y"), None),
        ];
        let metrics = metrics(&outcomes.iter().collect::<Vec<_>>());
        assert_eq!(metrics.top1, Some(2.0 / 3.0));
        assert_eq!(metrics.answered_correct, Some(1.0 / 3.0));
        assert_eq!(metrics.false_answer_rate, Some(1.0 / 4.0));
        assert_eq!(metrics.knowledge_hit, None);
    }
}
