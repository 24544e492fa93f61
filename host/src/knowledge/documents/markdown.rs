//! Markdown read into sections (one per heading, each with its heading path) of
//! paragraphs, lists and tables. A line-based reader for what shop documents use
//! (CommonMark headings, lists, quotes, fences, GitHub tables, YAML front matter) rather than
//! a full CommonMark parser: what it does not recognise stays as text, so nothing is lost.
//!
//! Tables keep their pipes (`| S | 150–155 | 40–45 |`) rather than becoming "Size: S,
//! Chiều cao: 150–155" text: the model that answers from a chunk reads a pipe table as a
//! table, a five-row size table stays a third of the size (so it fits whole in one chunk),
//! and the lexical index drops the pipes when it folds text, so they cost matching nothing.
//! A table split across chunks gets its header row again in every piece.

use super::chunking::{Block, Section, Table};
use super::inline::strip_inline;

/// A Markdown document read.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The text of its first `#` heading.
    pub title: Option<String>,
    /// Its sections in order, empty ones left out.
    pub sections: Vec<Section>,
}

/// Reads normalised Markdown text.
pub(crate) fn parse(text: &str) -> Parsed {
    let lines: Vec<&str> = text.lines().collect();
    let mut reader = Reader::default();
    let mut index = front_matter_end(&lines).unwrap_or(0);
    while index < lines.len() {
        index = reader.line(&lines, index);
    }
    reader.finish()
}

#[derive(Default)]
struct Reader {
    title: Option<String>,
    /// The open headings: level and text.
    headings: Vec<(usize, String)>,
    sections: Vec<Section>,
    blocks: Vec<Block>,
    paragraph: Vec<String>,
    /// The open list's items: marker and raw text.
    list: Vec<(String, String)>,
    blank_in_list: bool,
}

impl Reader {
    /// Reads the line at `index` (and any it needs after it); returns the next to read.
    fn line(&mut self, lines: &[&str], index: usize) -> usize {
        let line = strip_quote(lines[index]);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.flush_paragraph();
            self.blank_in_list = !self.list.is_empty();
            return index + 1;
        }
        if trimmed.starts_with("<!--") {
            self.flush_blocks();
            let closing = (index..lines.len()).find(|&next| lines[next].contains("-->"));
            return closing.map_or(lines.len(), |closing| closing + 1);
        }
        if let Some(fence) = fence(trimmed) {
            return self.code_block(lines, index, fence);
        }
        if let Some((level, text)) = atx_heading(line) {
            self.heading(level, &text);
            return index + 1;
        }
        if !self.paragraph.is_empty()
            && let Some(level) = setext_level(trimmed)
        {
            let text = std::mem::take(&mut self.paragraph).join(" ");
            self.heading(level, &strip_inline(&text));
            return index + 1;
        }
        if is_thematic_break(trimmed) {
            self.flush_blocks();
            return index + 1;
        }
        if is_table_start(lines, index) {
            self.flush_blocks();
            return self.table(lines, index);
        }
        if let Some((marker, rest)) = list_item(line) {
            // A paragraph just before a list is its intro: it stays a block of its own,
            // and the chunker keeps it with the first item.
            self.flush_paragraph();
            self.list.push((marker, rest.to_owned()));
            self.blank_in_list = false;
            return index + 1;
        }
        if let Some((_, item)) = self.list.last_mut() {
            let indented = line.len() - line.trim_start().len() >= 2;
            if indented || !self.blank_in_list {
                item.push('\n');
                item.push_str(trimmed);
                self.blank_in_list = false;
                return index + 1;
            }
            self.flush_list();
        }
        if !is_reference_definition(trimmed) {
            self.paragraph
                .push(trimmed.trim_end_matches('\\').to_owned());
        }
        index + 1
    }

    fn heading(&mut self, level: usize, text: &str) {
        self.close_section();
        self.headings.retain(|(open_level, _)| *open_level < level);
        if text.is_empty() {
            return;
        }
        if level == 1 && self.title.is_none() {
            self.title = Some(text.to_owned());
        }
        self.headings.push((level, text.to_owned()));
    }

    fn code_block(&mut self, lines: &[&str], index: usize, fence: &str) -> usize {
        self.flush_blocks();
        let mut content = Vec::new();
        let mut next = index + 1;
        while next < lines.len() && !strip_quote(lines[next]).trim().starts_with(fence) {
            content.push(strip_quote(lines[next]).trim_end());
            next += 1;
        }
        // Code is kept verbatim: in a shop document it is a voucher code or an address.
        let text = content.join("\n");
        if !text.trim().is_empty() {
            self.blocks.push(Block::Paragraph(text.trim().to_owned()));
        }
        next + 1
    }

    fn table(&mut self, lines: &[&str], index: usize) -> usize {
        let header = cells(lines[index]);
        let mut rows = Vec::new();
        let mut next = index + 2;
        while next < lines.len() {
            let row = strip_quote(lines[next]).trim();
            if row.is_empty() || !row.contains('|') || atx_heading(row).is_some() {
                break;
            }
            rows.push(render_row(&cells(row)));
            next += 1;
        }
        self.blocks.push(Block::Table(Table {
            header: render_row(&header),
            columns: header.len(),
            rows,
        }));
        next
    }

    fn flush_paragraph(&mut self) {
        if self.paragraph.is_empty() {
            return;
        }
        let text = strip_inline(&std::mem::take(&mut self.paragraph).join("\n"));
        if !text.trim().is_empty() {
            self.blocks.push(Block::Paragraph(text.trim().to_owned()));
        }
    }

    fn flush_list(&mut self) {
        let items: Vec<String> = std::mem::take(&mut self.list)
            .into_iter()
            .map(|(marker, text)| (marker, strip_inline(&text).trim().to_owned()))
            .filter(|(_, text)| !text.is_empty())
            .map(|(marker, text)| marker + &text)
            .collect();
        self.blank_in_list = false;
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    fn flush_blocks(&mut self) {
        self.flush_paragraph();
        self.flush_list();
    }

    fn close_section(&mut self) {
        self.flush_blocks();
        self.sections.push(Section {
            headings: self.headings.iter().map(|(_, text)| text.clone()).collect(),
            blocks: std::mem::take(&mut self.blocks),
        });
    }

    fn finish(mut self) -> Parsed {
        self.close_section();
        let mut sections = Vec::new();
        for (index, section) in self.sections.iter().enumerate() {
            if !section.blocks.is_empty() {
                sections.push(section.clone());
                continue;
            }
            // A heading with neither content nor subheadings would be lost: it becomes
            // its own text.
            let has_children = self.sections.get(index + 1).is_some_and(|next| {
                next.headings.len() > section.headings.len()
                    && next.headings.starts_with(&section.headings)
            });
            if let (false, Some(last)) = (has_children, section.headings.last()) {
                sections.push(Section {
                    headings: section.headings.clone(),
                    blocks: vec![Block::Paragraph(last.clone())],
                });
            }
        }
        Parsed {
            title: self.title,
            sections,
        }
    }
}

/// The first line after a YAML front matter block (`---` … `---`), if the text opens
/// with one: metadata for site generators, not text for customers.
fn front_matter_end(lines: &[&str]) -> Option<usize> {
    if lines.first()?.trim() != "---" {
        return None;
    }
    let closing = lines
        .iter()
        .skip(1)
        .position(|line| matches!(line.trim(), "---" | "..."))?;
    let body = &lines[1..=closing];
    let is_yaml = body.iter().all(|line| {
        line.trim().is_empty() || line.starts_with([' ', '-', '#']) || line.contains(':')
    });
    is_yaml.then_some(closing + 2)
}

/// `line` without its block quote markers (`> `, `>> `).
fn strip_quote(line: &str) -> &str {
    let mut rest = line;
    while let Some(inner) = rest.trim_start().strip_prefix('>') {
        rest = inner.strip_prefix(' ').unwrap_or(inner);
    }
    rest
}

/// The fence (```` ``` ```` or `~~~`, as long as written) opening a code block.
fn fence(trimmed: &str) -> Option<&str> {
    ['`', '~'].into_iter().find_map(|marker| {
        let length = trimmed
            .chars()
            .take_while(|&character| character == marker)
            .count();
        (length >= 3).then(|| &trimmed[..length])
    })
}

/// Level and text of an ATX heading (`## Cotton`, `### Tiêu đề ###`).
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = line.trim_start_matches(' ');
    let level = rest
        .chars()
        .take_while(|&character| character == '#')
        .count();
    let after = &rest[level..];
    if indent > 3
        || !(1..=6).contains(&level)
        || !(after.is_empty() || after.starts_with([' ', '\t']))
    {
        return None;
    }
    let text = after.trim();
    let without_closing = text.trim_end_matches('#');
    let text = if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim()
    } else {
        text
    };
    Some((level, strip_inline(text).trim().to_owned()))
}

/// The heading level a setext underline (`===` for 1, `---` for 2) gives the paragraph
/// above it.
fn setext_level(trimmed: &str) -> Option<usize> {
    if trimmed.chars().all(|character| character == '=') {
        Some(1)
    } else if trimmed.chars().all(|character| character == '-') {
        Some(2)
    } else {
        None
    }
}

fn is_thematic_break(trimmed: &str) -> bool {
    ['-', '*', '_'].into_iter().any(|marker| {
        trimmed
            .chars()
            .all(|character| character == marker || character == ' ')
            && trimmed
                .chars()
                .filter(|&character| character == marker)
                .count()
                >= 3
    })
}

/// Whether a table starts at `index`: a row with pipes, then a delimiter row
/// (`|---|:--:|`) with as many cells.
fn is_table_start(lines: &[&str], index: usize) -> bool {
    let header = strip_quote(lines[index]);
    let Some(delimiter) = lines.get(index + 1).map(|line| strip_quote(line)) else {
        return false;
    };
    let delimiter_cells = split_cells(delimiter);
    header.contains('|')
        && delimiter.contains('|')
        && delimiter_cells.iter().all(|cell| {
            let cell = cell.trim().trim_start_matches(':').trim_end_matches(':');
            !cell.is_empty() && cell.chars().all(|character| character == '-')
        })
        && delimiter_cells.len() == split_cells(header).len()
}

/// The cells of a table row, their inline markup stripped.
fn cells(line: &str) -> Vec<String> {
    split_cells(strip_quote(line))
        .into_iter()
        .map(|cell| strip_inline(cell.trim()).trim().to_owned())
        .collect()
}

/// A row split at its unescaped pipes outside code, without the outer pipes.
fn split_cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = match line.strip_suffix('|') {
        Some(inner) if !inner.ends_with('\\') => inner,
        _ => line,
    };
    let mut cells = Vec::new();
    let (mut start, mut in_code, mut escaped) = (0, false, false);
    for (offset, character) in line.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '`' => in_code = !in_code,
            '|' if !in_code => {
                cells.push(&line[start..offset]);
                start = offset + 1;
            }
            _ => {}
        }
    }
    cells.push(&line[start..]);
    cells
}

/// A row as chunks show it: `| S | 150–155 | 40–45 |`, padding gone.
fn render_row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

/// The marker (normalised: `- `, `1. `, indented for a nested item) and the text of a
/// list item line.
fn list_item(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start();
    let indent = line.len() - rest.len();
    let nesting = if indent >= 2 { "  " } else { "" };
    let after_marker = |marker_length: usize| {
        let after = &rest[marker_length..];
        (after.is_empty() || after.starts_with([' ', '\t'])).then(|| after.trim())
    };
    if rest.starts_with(['-', '*', '+']) {
        return after_marker(1).map(|text| (format!("{nesting}- "), text));
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) && rest[digits..].starts_with(['.', ')']) {
        return after_marker(digits + 1)
            .map(|text| (format!("{nesting}{}. ", &rest[..digits]), text));
    }
    None
}

/// A link reference definition (`[size]: https://…`): the URL of a link whose text is
/// elsewhere. Footnotes (`[^1]: …`) are text and stay.
fn is_reference_definition(trimmed: &str) -> bool {
    trimmed.starts_with('[')
        && !trimmed.starts_with("[^")
        && trimmed.find("]:").is_some_and(|end| {
            !trimmed[1..end].contains(']') && !trimmed[end + 2..].trim().is_empty()
        })
}

#[cfg(test)]
mod tests;
