//! Packing a section's blocks (paragraphs, lists, tables) into chunks of at most
//! [`MAX_CHUNK_CHARS`]. Blocks are cut into units (sentences, list items, table rows, and
//! only when nothing else fits, lines, words or characters), and a dynamic programme picks
//! the cheapest way to group consecutive units: each chunk costs something, each cut costs
//! more the worse a place it is to break (a paragraph end is free, the middle of a word
//! is dear), and a chunk under [`MIN_CHUNK_CHARS`] costs more than cutting a sentence. So
//! chunks break at paragraphs when they can, at sentences when they must, keep a list with
//! its intro and a table whole when it fits, and no small remnant is left over.

use super::sentences::{Piece, split_to_fit};
use super::{MAX_CHUNK_CHARS, MIN_CHUNK_CHARS};
use crate::store::DocumentChunk;

/// A run of content under one heading path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    /// The headings above it, outermost first.
    pub headings: Vec<String>,
    /// Its content, in order.
    pub blocks: Vec<Block>,
}

/// One block of content, its markup already stripped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// Running text (line breaks kept).
    Paragraph(String),
    /// List items, each with its marker (`- `, `1. `).
    List(Vec<String>),
    /// A table.
    Table(Table),
}

/// A table as rendered rows: `| S | 80–83 | 62–65 |`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// The header row.
    pub header: String,
    /// How many columns the header has.
    pub columns: usize,
    /// The body rows.
    pub rows: Vec<String>,
}

// What each place to cut costs, against CHUNK_COST for one more chunk. The order is what
// matters: block < list item < table row < sentence < intro/list < line < tiny chunk
// remnant < word < character.
const CHUNK_COST: u64 = 100;
const CUT_LIST_ITEM: u64 = 10;
const CUT_TABLE_ROW: u64 = 30;
const CUT_SENTENCE: u64 = 150;
const CUT_INTRO_FROM_LIST: u64 = 250;
const CUT_LINE: u64 = 300;
const CUT_WORD: u64 = 1_000;
const CUT_CHARACTER: u64 = 5_000;
const TINY_CHUNK: u64 = 2_000;

/// The smallest piece chunks are made of.
#[derive(Debug)]
struct Unit {
    text: String,
    /// Written before it when it follows another unit in the same chunk.
    separator: &'static str,
    /// What starting a chunk at this unit costs.
    cut_cost: u64,
    /// The table (index in `tables`) whose row this is: a chunk starting mid-table, or
    /// entering one, gets that table's header first.
    table: Option<usize>,
    chars: usize,
}

/// The chunks of one section, in order; none when it has no content.
pub(crate) fn chunk_section(section: &Section) -> Vec<DocumentChunk> {
    let (units, headers) = units_of(&section.blocks);
    if units.is_empty() {
        return Vec::new();
    }
    let header_chars: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    let boundaries = best_boundaries(&units, &header_chars);
    boundaries
        .windows(2)
        .map(|range| DocumentChunk {
            headings: section.headings.clone(),
            text: render(&units[range[0]..range[1]], &headers),
        })
        .collect()
}

/// The text of a chunk made of `units`.
fn render(units: &[Unit], headers: &[String]) -> String {
    let mut text = String::new();
    let mut previous_table = None;
    for (index, unit) in units.iter().enumerate() {
        if index > 0 {
            text.push_str(unit.separator);
        }
        if let Some(table) = unit.table.filter(|&table| previous_table != Some(table)) {
            text.push_str(&headers[table]);
            text.push('\n');
        }
        previous_table = unit.table;
        text.push_str(&unit.text);
    }
    text
}

/// Characters of the chunk `units[start..end]` would have, with `units[end - 1]` added
/// to one of `current` characters.
fn grown_length(
    current: usize,
    units: &[Unit],
    start: usize,
    end: usize,
    header_chars: &[usize],
) -> usize {
    let unit = &units[end - 1];
    let mut length = current + unit.chars;
    if end - 1 > start {
        length += unit.separator.chars().count();
    }
    let entering_table = end - 1 == start || units[end - 2].table != unit.table;
    if let Some(table) = unit.table.filter(|_| entering_table) {
        length += header_chars[table] + 1;
    }
    length
}

/// The unit indices where chunks start, plus `units.len()`: the cheapest grouping.
fn best_boundaries(units: &[Unit], header_chars: &[usize]) -> Vec<usize> {
    let count = units.len();
    // best[end] = (cost, start) of the cheapest chunking of units[..end] whose last chunk
    // starts at `start`.
    let mut best: Vec<Option<(u64, usize)>> = vec![None; count + 1];
    best[0] = Some((0, 0));
    for start in 0..count {
        let (done, later) = best.split_at_mut(start + 1);
        let Some((cost_before, _)) = done[start] else {
            continue;
        };
        let cut = if start == 0 { 0 } else { units[start].cut_cost };
        let mut length = 0;
        for (offset, slot) in later.iter_mut().enumerate() {
            let end = start + 1 + offset;
            length = grown_length(length, units, start, end, header_chars);
            // A unit alone always fits (units are cut to fit with their table header), so
            // the first chunk of every start is feasible and `best` is filled to the end.
            if length > MAX_CHUNK_CHARS && end > start + 1 {
                break;
            }
            let cost = cost_before + cut + chunk_cost(length);
            if slot.is_none_or(|(best_cost, _)| cost < best_cost) {
                *slot = Some((cost, start));
            }
        }
    }
    let mut boundaries = vec![count];
    let mut end = count;
    while end > 0 {
        let (_, start) = best[end].unwrap_or((0, 0));
        boundaries.push(start);
        end = start;
    }
    boundaries.reverse();
    boundaries
}

/// What one chunk of `length` characters costs: a base, a penalty when it is too small
/// to stand alone, and a little for unused room so that chunks come out even (two of
/// 400 rather than 690 and 110).
fn chunk_cost(length: usize) -> u64 {
    let slack = MAX_CHUNK_CHARS.saturating_sub(length) as u64;
    let tiny = if length < MIN_CHUNK_CHARS {
        TINY_CHUNK
    } else {
        0
    };
    CHUNK_COST + tiny + slack * slack / 49_000
}

/// The units of `blocks`, and the rendered header (with its delimiter row) of each table.
fn units_of(blocks: &[Block]) -> (Vec<Unit>, Vec<String>) {
    let mut units = Vec::new();
    let mut headers = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let follows_paragraph = index > 0 && matches!(blocks[index - 1], Block::Paragraph(_));
        match block {
            Block::Paragraph(text) => push_text(&mut units, text, "\n\n", 0, None, 0),
            Block::List(items) => {
                for (position, item) in items.iter().enumerate() {
                    let (separator, cut_cost) = match position {
                        0 if follows_paragraph => ("\n", CUT_INTRO_FROM_LIST),
                        0 => ("\n\n", 0),
                        _ => ("\n", CUT_LIST_ITEM),
                    };
                    push_text(&mut units, item, separator, cut_cost, None, 0);
                }
            }
            Block::Table(table) => push_table(&mut units, &mut headers, table),
        }
    }
    (units, headers)
}

fn push_table(units: &mut Vec<Unit>, headers: &mut Vec<String>, table: &Table) {
    let header = format!("{}\n|{}", table.header, "---|".repeat(table.columns));
    let header_chars = header.chars().count();
    // A header taking more than half a chunk would leave too little room to repeat it in
    // every piece: such a table is kept as plain lines instead.
    if header_chars > MAX_CHUNK_CHARS / 2 || table.rows.is_empty() {
        push_text(units, &header, "\n\n", 0, None, 0);
        for row in &table.rows {
            push_text(units, row, "\n", CUT_TABLE_ROW, None, 0);
        }
        return;
    }
    let table_index = headers.len();
    headers.push(header);
    for (position, row) in table.rows.iter().enumerate() {
        let (separator, cut_cost) = if position == 0 {
            ("\n\n", 0)
        } else {
            ("\n", CUT_TABLE_ROW)
        };
        // Room for the header repeated above the row, and its line break.
        push_text(
            units,
            row,
            separator,
            cut_cost,
            Some(table_index),
            header_chars + 1,
        );
    }
}

/// Pushes `text` as units that fit: whole sentences (a row, an item or a paragraph is
/// usually one or a few), cut smaller only when one does not fit in `MAX_CHUNK_CHARS`
/// minus `reserved` (room kept for a table header).
fn push_text(
    units: &mut Vec<Unit>,
    text: &str,
    separator: &'static str,
    cut_cost: u64,
    table: Option<usize>,
    reserved: usize,
) {
    let pieces = split_to_fit(text, MAX_CHUNK_CHARS - reserved);
    for (position, piece) in pieces.into_iter().enumerate() {
        let (separator, cut_cost) = if position == 0 {
            (separator, cut_cost)
        } else {
            (piece.separator, cut_cost_of(&piece))
        };
        units.push(Unit {
            chars: piece.text.chars().count(),
            text: piece.text,
            separator,
            cut_cost,
            table,
        });
    }
}

fn cut_cost_of(piece: &Piece) -> u64 {
    use super::sentences::Cut;
    match piece.cut {
        Cut::Sentence => CUT_SENTENCE,
        Cut::Line => CUT_LINE,
        Cut::Word => CUT_WORD,
        Cut::Character => CUT_CHARACTER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(blocks: Vec<Block>) -> Section {
        Section {
            headings: vec!["Chính sách".into()],
            blocks,
        }
    }

    /// A paragraph of `sentences` distinct sentences of about 45 characters each.
    fn paragraph(tag: &str, sentences: usize) -> String {
        (0..sentences)
            .map(|index| format!("Câu {tag}{index} nói về đổi trả hàng trong bảy ngày."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The longest such paragraph of at most `limit` characters.
    fn paragraph_up_to(limit: usize) -> String {
        (1..)
            .map(|sentences| paragraph("a", sentences))
            .take_while(|text| text.chars().count() <= limit)
            .last()
            .unwrap_or_default()
    }

    fn lengths(chunks: &[DocumentChunk]) -> Vec<usize> {
        chunks
            .iter()
            .map(|chunk| chunk.text.chars().count())
            .collect()
    }

    #[test]
    fn a_section_that_fits_is_one_chunk_with_its_heading_path() {
        let chunks = chunk_section(&section(vec![
            Block::Paragraph("Mở đầu.".into()),
            Block::List(vec!["- Một".into(), "- Hai".into()]),
        ]));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "Mở đầu.\n- Một\n- Hai");
        assert_eq!(chunks[0].headings, ["Chính sách"]);
    }

    #[test]
    fn long_sections_break_at_paragraphs_when_they_can() {
        let paragraphs: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|tag| paragraph(tag, 6))
            .collect();
        let blocks = paragraphs.iter().cloned().map(Block::Paragraph).collect();
        let chunks = chunk_section(&section(blocks));
        assert!(
            lengths(&chunks)
                .iter()
                .all(|&length| length <= MAX_CHUNK_CHARS)
        );
        for chunk in &chunks {
            for piece in chunk.text.split("\n\n") {
                assert!(
                    paragraphs.iter().any(|paragraph| paragraph == piece),
                    "cut inside a paragraph: {piece}"
                );
            }
        }
    }

    #[test]
    fn no_small_remnant_is_left_after_a_full_chunk() {
        // A nearly full paragraph then a short one: cutting between them would leave a
        // chunk of ~65 characters, so a sentence boundary is used instead.
        let tail = "Liên hệ hotline 1900 6789 hoặc Zalo 0901 234 567 để được hỗ trợ.";
        let chunks = chunk_section(&section(vec![
            Block::Paragraph(paragraph_up_to(MAX_CHUNK_CHARS)),
            Block::Paragraph(tail.into()),
        ]));
        assert_eq!(chunks.len(), 2);
        assert!(chunks[1].text.ends_with(tail));
        let lengths = lengths(&chunks);
        assert!(
            lengths
                .iter()
                .all(|length| (MIN_CHUNK_CHARS..=MAX_CHUNK_CHARS).contains(length)),
            "{lengths:?}"
        );
    }

    #[test]
    fn a_list_moved_to_the_next_chunk_takes_its_intro_sentence() {
        let intro = "Mây hoàn tiền như sau:";
        let items = (0..4)
            .map(|index| format!("- Cách {index}: hoàn tiền qua chuyển khoản ngân hàng."))
            .collect();
        let chunks = chunk_section(&section(vec![
            Block::Paragraph(format!(
                "{} {intro}",
                paragraph_up_to(MAX_CHUNK_CHARS - intro.len() - 1)
            )),
            Block::List(items),
        ]));
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks[1].text.contains(&format!("{intro}\n- Cách 0")),
            "{}",
            chunks[1].text
        );
    }

    #[test]
    fn an_oversized_word_is_cut_to_the_limit() {
        let chunks = chunk_section(&section(vec![Block::Paragraph(
            "x".repeat(MAX_CHUNK_CHARS * 2 + 10),
        )]));
        assert_eq!(
            lengths(&chunks).iter().sum::<usize>(),
            MAX_CHUNK_CHARS * 2 + 10
        );
        assert!(
            lengths(&chunks)
                .iter()
                .all(|&length| length <= MAX_CHUNK_CHARS)
        );
    }

    #[test]
    fn an_empty_section_has_no_chunks() {
        assert!(chunk_section(&section(Vec::new())).is_empty());
    }
}
