//! FAQ files an admin imports: JSONL (`{"id", "question", "answer", "variants"?, "tags"?}`
//! per line) or CSV (header `id,question,answer[,variants][,tags]`, several variants or
//! tags separated by `|`). Every bad line is reported with its number; the caller decides
//! whether to import the rest (`--skip-bad`) or nothing.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::conversation::model::FaqEntry;

/// Longest question or variant, in characters: a question is a sentence or two.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest answer, in characters (chat channels cut messages near 2,000–4,000).
pub const MAX_ANSWER_CHARS: usize = 4_000;
/// Most alternative phrasings per entry.
pub const MAX_VARIANTS: usize = 50;

/// One line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line (JSONL) or record (CSV, header = line 1) number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// What a file held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFaq {
    /// The good entries, in file order.
    pub entries: Vec<FaqEntry>,
    /// The bad lines.
    pub bad: Vec<BadLine>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FaqFileError {
    /// Unreadable.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Not UTF-8.
    #[error("{}: not UTF-8 text (byte {offset}); save the file as UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: std::path::PathBuf,
        /// The first bad byte.
        offset: usize,
    },
    /// The CSV header lacks a column.
    #[error("{}: the CSV header must name the columns id, question and answer (optional: variants, tags); it has {found:?}", path.display())]
    CsvHeader {
        /// The file.
        path: std::path::PathBuf,
        /// The header it has.
        found: Vec<String>,
    },
}

/// Reads a `.jsonl`/`.json` or `.csv` FAQ file.
pub fn read_faq_file(path: &Path) -> Result<ParsedFaq, FaqFileError> {
    let bytes = std::fs::read(path).map_err(|source| FaqFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|error| FaqFileError::NotUtf8 {
        path: path.to_owned(),
        offset: error.utf8_error().valid_up_to(),
    })?;
    let is_csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    if is_csv {
        parse_csv(&text).ok_or_else(|| FaqFileError::CsvHeader {
            path: path.to_owned(),
            found: csv_header(&text),
        })
    } else {
        Ok(parse_jsonl(&text))
    }
}

/// Parses JSONL text.
pub fn parse_jsonl(text: &str) -> ParsedFaq {
    let mut parsed = ParsedFaq::default();
    let mut seen = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        // A UTF-8 byte order mark some editors write before the first line.
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        let checked = serde_json::from_str::<FaqEntry>(line)
            .map_err(|error| format!("not an FAQ entry: {error}"))
            .and_then(|entry| validate(entry, &mut seen));
        match checked {
            Ok(entry) => parsed.entries.push(entry),
            Err(message) => parsed.bad.push(BadLine {
                line: line_number,
                message,
            }),
        }
    }
    parsed
}

#[derive(Deserialize)]
struct CsvRow {
    id: String,
    question: String,
    answer: String,
    #[serde(default)]
    variants: Option<String>,
    #[serde(default)]
    tags: Option<String>,
}

fn csv_header(text: &str) -> Vec<String> {
    csv::Reader::from_reader(text.as_bytes())
        .headers()
        .map(|headers| headers.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Parses CSV text; `None` when the header lacks `id`, `question` or `answer`.
pub fn parse_csv(text: &str) -> Option<ParsedFaq> {
    let text = text.trim_start_matches('\u{feff}');
    let header = csv_header(text);
    if !["id", "question", "answer"]
        .iter()
        .all(|column| header.iter().any(|found| found.trim() == *column))
    {
        return None;
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut parsed = ParsedFaq::default();
    let mut seen = HashSet::new();
    for (index, row) in reader.deserialize::<CsvRow>().enumerate() {
        let line = index + 2;
        let split = |value: Option<String>| -> Vec<String> {
            value
                .unwrap_or_default()
                .split('|')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let checked = row
            .map_err(|error| format!("not an FAQ row: {error}"))
            .and_then(|row| {
                validate(
                    FaqEntry {
                        id: row.id,
                        question: row.question,
                        answer: row.answer,
                        variants: split(row.variants),
                        tags: split(row.tags),
                    },
                    &mut seen,
                )
            });
        match checked {
            Ok(entry) => parsed.entries.push(entry),
            Err(message) => parsed.bad.push(BadLine { line, message }),
        }
    }
    Some(parsed)
}

/// Checks one entry: ids unique and non-empty, question and answer present and not
/// huge, variants within bounds.
pub fn validate(mut entry: FaqEntry, seen: &mut HashSet<String>) -> Result<FaqEntry, String> {
    entry.id = entry.id.trim().to_owned();
    entry.question = entry.question.trim().to_owned();
    entry.answer = entry.answer.trim().to_owned();
    entry.variants.retain(|variant| !variant.trim().is_empty());
    if entry.id.is_empty() {
        return Err("id is empty".into());
    }
    if entry.question.is_empty() {
        return Err(format!("'{}': question is empty", entry.id));
    }
    if entry.answer.is_empty() {
        return Err(format!("'{}': answer is empty", entry.id));
    }
    for question in std::iter::once(&entry.question).chain(&entry.variants) {
        let length = question.chars().count();
        if length > MAX_QUESTION_CHARS {
            return Err(format!(
                "'{}': a question of {length} characters is too long (at most {MAX_QUESTION_CHARS}); put the detail in the answer or a document",
                entry.id
            ));
        }
    }
    let answer_length = entry.answer.chars().count();
    if answer_length > MAX_ANSWER_CHARS {
        return Err(format!(
            "'{}': an answer of {answer_length} characters is too long (at most {MAX_ANSWER_CHARS}); import it as a document instead",
            entry.id
        ));
    }
    if entry.variants.len() > MAX_VARIANTS {
        return Err(format!(
            "'{}': {} variants, at most {MAX_VARIANTS}",
            entry.id,
            entry.variants.len()
        ));
    }
    if !seen.insert(entry.id.clone()) {
        return Err(format!("'{}': this id appears twice", entry.id));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_reports_bad_lines_with_numbers_and_keeps_the_rest() {
        let text = concat!(
            "{\"id\":\"a\",\"question\":\"Q?\",\"answer\":\"A.\"}\n",
            "not json\n",
            "\n",
            "{\"id\":\"b\",\"question\":\"\",\"answer\":\"A.\"}\n",
            "{\"id\":\"a\",\"question\":\"Q2?\",\"answer\":\"A.\"}\n",
            "{\"id\":\"c\",\"question\":\"Q3?\",\"answer\":\"A.\",\"variants\":[\"q3\"]}\n",
        );
        let parsed = parse_jsonl(text);
        let ids: Vec<&str> = parsed
            .entries
            .iter()
            .map(|entry| entry.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "c"]);
        let lines: Vec<usize> = parsed.bad.iter().map(|bad| bad.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert!(parsed.bad[2].message.contains("twice"));
    }

    #[test]
    fn a_huge_question_is_refused_with_the_limit() {
        let huge = "a".repeat(MAX_QUESTION_CHARS + 1);
        let text = format!("{{\"id\":\"x\",\"question\":\"{huge}\",\"answer\":\"A\"}}");
        let parsed = parse_jsonl(&text);
        assert!(parsed.entries.is_empty());
        assert!(
            parsed.bad[0].message.contains("too long"),
            "{:?}",
            parsed.bad
        );
    }

    #[test]
    fn csv_splits_variants_and_tags() {
        let text = "id,question,answer,variants,tags\nfaq-01,Có ship COD không?,Có ạ.,ship cod? | cod ko,shipping|cod\nfaq-02,,Thiếu câu hỏi,,\n";
        let parsed = parse_csv(text).expect("header is right");
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.entries[0].variants, ["ship cod?", "cod ko"]);
        assert_eq!(parsed.entries[0].tags, ["shipping", "cod"]);
        assert_eq!(parsed.bad[0].line, 3);
    }

    #[test]
    fn csv_without_the_columns_is_refused() {
        assert!(parse_csv("name,text\na,b\n").is_none());
    }
}
