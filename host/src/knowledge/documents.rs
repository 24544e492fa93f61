//! A shop's documents (return policy, size guide, care instructions) turned into
//! retrievable chunks: Markdown, plain text or PDF in, a [`Document`] out, each chunk small
//! enough to embed and to quote to the model, and big enough to make sense alone. Pure:
//! no store, no clock (the caller sets `updated_at_ms`), no async.

mod chunking;
mod inline;
mod markdown;
mod pdf;
mod sentences;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::store::Document;
use chunking::{Block, Section};

/// Longest chunk, in characters (Unicode scalar values). 700 characters of Vietnamese are
/// about 200–250 tokens for multilingual-e5-small: far below its 512-token window even with
/// the heading path prefixed, yet enough for a whole policy paragraph or a five-row size
/// table, so most answers come from one chunk.
pub const MAX_CHUNK_CHARS: usize = 700;

/// Shortest chunk, in characters, unless its whole section is shorter: a piece under ~80
/// characters ("Đồ unisex may theo bảng size nam.") carries too little context to be
/// retrieved for the right question, so it is kept with its neighbours instead.
pub const MIN_CHUNK_CHARS: usize = 80;

/// The kinds of documents loa reads, told apart by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// Markdown (`.md`, `.markdown`): headings become each chunk's heading path.
    Markdown,
    /// Plain text (`.txt`): blank-line separated paragraphs.
    Text,
    /// PDF (`.pdf`) with a text layer; read as plain text.
    Pdf,
}

impl DocumentFormat {
    /// The format of a file named `file_name`, by its extension (case-insensitive).
    pub fn from_file_name(file_name: &str) -> Result<Self, DocumentError> {
        let extension = Path::new(file_name)
            .extension()
            .map(|extension| extension.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "md" | "markdown" => Ok(Self::Markdown),
            "txt" => Ok(Self::Text),
            "pdf" => Ok(Self::Pdf),
            _ => Err(DocumentError::UnsupportedFormat {
                id: file_name.to_owned(),
                extension,
            }),
        }
    }
}

/// Why a file could not become a [`Document`]; each message tells a shop admin what to do.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The file could not be read at all.
    #[error("cannot read the document {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The extension is not one loa reads.
    #[error("{}", unsupported_message(id, extension))]
    UnsupportedFormat {
        /// The document's id (its file name).
        id: String,
        /// Its extension, lower-case, without the dot; empty when it has none.
        extension: String,
    },
    /// A `.md` or `.txt` file that is not UTF-8.
    #[error(
        "'{id}' is not UTF-8 text (invalid bytes at byte offset {offset}, line {line}): \
         save it with UTF-8 encoding and import it again"
    )]
    NotUtf8 {
        /// The document's id.
        id: String,
        /// Byte offset of the first invalid byte, from the start of the file.
        offset: usize,
        /// Line (from 1) of that byte.
        line: usize,
    },
    /// Nothing but blank space or markup.
    #[error("'{id}' has no text: there is nothing the bot could learn from it")]
    Empty {
        /// The document's id.
        id: String,
    },
    /// A `.pdf` that is not a PDF loa can read (damaged, encrypted, unusual fonts).
    #[error(
        "'{id}' cannot be read as a PDF ({reason}): export it again as PDF, or save its \
         text as .txt or .md"
    )]
    UnreadablePdf {
        /// The document's id.
        id: String,
        /// What went wrong, from the PDF reader.
        reason: String,
    },
    /// A PDF whose pages carry no text layer, typically scanned images.
    #[error(
        "'{id}' has no text that can be extracted: it is probably scanned images. Run OCR \
         on it, or type its text into a .txt or .md file"
    )]
    PdfWithoutText {
        /// The document's id.
        id: String,
    },
}

fn unsupported_message(id: &str, extension: &str) -> String {
    let found = if extension.is_empty() {
        "has no extension".to_owned()
    } else {
        format!("is a .{extension} file")
    };
    format!(
        "'{id}' {found}; loa reads Markdown (.md, .markdown), plain text (.txt) and PDF (.pdf): \
         save it in one of these formats"
    )
}

/// Reads the file at `path` into a [`Document`] whose id is the file name.
pub fn read_document(path: &Path) -> Result<Document, DocumentError> {
    let id = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    // The format first: an unsupported file is refused without being read.
    let format = DocumentFormat::from_file_name(&id)?;
    let bytes = std::fs::read(path).map_err(|source| DocumentError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    parse_document(&id, &path.display().to_string(), &bytes, format)
}

/// Turns the bytes of a document into a [`Document`] (with `updated_at_ms` 0: the caller
/// knows when it was written).
pub fn parse_document(
    id: &str,
    source: &str,
    bytes: &[u8],
    format: DocumentFormat,
) -> Result<Document, DocumentError> {
    let (title, sections) = match format {
        DocumentFormat::Markdown => {
            let parsed = markdown::parse(&decode_utf8(id, bytes)?);
            (parsed.title, parsed.sections)
        }
        DocumentFormat::Text => text_sections(&decode_utf8(id, bytes)?),
        DocumentFormat::Pdf => {
            let text = normalize(&pdf::extract_text(id, bytes)?);
            if text.is_empty() {
                return Err(DocumentError::PdfWithoutText { id: id.to_owned() });
            }
            text_sections(&text)
        }
    };
    let chunks: Vec<_> = sections.iter().flat_map(chunking::chunk_section).collect();
    if chunks.is_empty() {
        return Err(DocumentError::Empty { id: id.to_owned() });
    }
    Ok(Document {
        id: id.to_owned(),
        title: title.unwrap_or_else(|| file_stem(id)),
        source: source.to_owned(),
        sha256: hex::encode(Sha256::digest(bytes)),
        chunks,
        updated_at_ms: 0,
    })
}

/// UTF-8 text of a `.md` or `.txt` file, normalised (see [`normalize`]).
fn decode_utf8(id: &str, bytes: &[u8]) -> Result<String, DocumentError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        DocumentError::NotUtf8 {
            id: id.to_owned(),
            offset,
            line: bytes[..offset]
                .iter()
                .filter(|&&byte| byte == b'\n')
                .count()
                + 1,
        }
    })?;
    Ok(normalize(text))
}

/// One form for the same text whatever the editor that saved it: NFC (macOS and some
/// Vietnamese keyboards write decomposed accents, which would never match a customer's
/// precomposed ones), `\n` line endings, no byte-order mark, a form feed (page break in
/// text exported from PDF) as a paragraph break, no blank or zero-width space around it all.
fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\u{c}', "\n\n");
    // Zero-width characters count as blank here: a file of only those has no text.
    text.nfc()
        .collect::<String>()
        .trim_matches(|character: char| {
            character.is_whitespace() || matches!(character, '\u{feff}' | '\u{200b}')
        })
        .to_owned()
}

/// Plain text as one section of paragraphs; its title is the first line if it is short
/// enough to be one.
fn text_sections(text: &str) -> (Option<String>, Vec<Section>) {
    // 100 characters: a longer first line is a sentence of the body, not a title.
    const LONGEST_TITLE_CHARS: usize = 100;
    let title = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .filter(|line| line.chars().count() < LONGEST_TITLE_CHARS)
        .map(str::to_owned);
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !paragraph.is_empty() {
                blocks.push(Block::Paragraph(paragraph.join("\n")));
                paragraph.clear();
            }
        } else {
            paragraph.push(line);
        }
    }
    if !paragraph.is_empty() {
        blocks.push(Block::Paragraph(paragraph.join("\n")));
    }
    let section = Section {
        headings: Vec::new(),
        blocks,
    };
    (title, vec![section])
}

/// `id` without its extension: the title of a document that names none.
fn file_stem(id: &str) -> String {
    Path::new(id)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Document, DocumentError> {
        parse_document(
            "ghi-chu.txt",
            "ghi-chu.txt",
            text.as_bytes(),
            DocumentFormat::Text,
        )
    }

    #[test]
    fn format_comes_from_the_extension_in_any_case() {
        for (name, format) in [
            ("a.md", DocumentFormat::Markdown),
            ("a.MARKDOWN", DocumentFormat::Markdown),
            ("a.txt", DocumentFormat::Text),
            ("a.Pdf", DocumentFormat::Pdf),
        ] {
            assert_eq!(
                DocumentFormat::from_file_name(name).ok(),
                Some(format),
                "{name}"
            );
        }
    }

    #[test]
    fn docx_is_refused_naming_the_supported_formats() {
        let error = DocumentFormat::from_file_name("chinh-sach.docx").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, DocumentError::UnsupportedFormat { .. }));
        assert!(message.contains(".docx"), "{message}");
        for supported in [".md", ".markdown", ".txt", ".pdf"] {
            assert!(message.contains(supported), "{message}");
        }
    }

    #[test]
    fn a_file_without_extension_is_refused() {
        let message = DocumentFormat::from_file_name("README")
            .unwrap_err()
            .to_string();
        assert!(message.contains("has no extension"), "{message}");
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_byte_offset_and_line() {
        let bytes = b"# \xc4\x90\xe1\xbb\x95i tr\xe1\xba\xa3\nxin ch\xe0o";
        let error = parse_document("a.md", "a.md", bytes, DocumentFormat::Markdown).unwrap_err();
        assert!(
            matches!(
                error,
                DocumentError::NotUtf8 {
                    offset: 21,
                    line: 2,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("byte offset 21"), "{error}");
    }

    #[test]
    fn blank_text_is_an_empty_document() {
        let error = parse_text(" \r\n\t\n\u{feff}").unwrap_err();
        assert!(matches!(error, DocumentError::Empty { .. }), "{error:?}");
    }

    #[test]
    fn markdown_of_only_markup_is_an_empty_document() {
        let bytes = "---\n\n<!-- nháp -->\n\n***\n".as_bytes();
        let error = parse_document("a.md", "a.md", bytes, DocumentFormat::Markdown).unwrap_err();
        assert!(matches!(error, DocumentError::Empty { .. }), "{error:?}");
    }

    #[test]
    fn text_is_normalised_to_nfc_with_unix_line_endings() {
        // "Đổi trả" typed with combining accents, saved on Windows.
        let document =
            parse_text("\u{feff}\u{110}o\u{302}\u{309}i tra\u{309}\r\n\r\nnội dung").unwrap();
        assert_eq!(document.title, "Đổi trả");
        assert_eq!(document.chunks[0].text, "Đổi trả\n\nnội dung");
    }

    #[test]
    fn text_title_is_the_first_short_line_else_the_file_stem() {
        assert_eq!(
            parse_text("\n\n  Bảo hành  \nChi tiết").unwrap().title,
            "Bảo hành"
        );
        let long_first_line = "Chữ ".repeat(30);
        assert_eq!(parse_text(&long_first_line).unwrap().title, "ghi-chu");
    }

    #[test]
    fn text_paragraphs_are_grouped_into_chunks_within_the_limit() {
        let paragraph = "Mây giao hàng toàn quốc trong 2–4 ngày làm việc, nội thành nhanh hơn. ";
        let text: Vec<String> = (0..20).map(|_| paragraph.repeat(3)).collect();
        let document = parse_text(&text.join("\n\n")).unwrap();
        assert!(document.chunks.len() >= 5, "{}", document.chunks.len());
        for chunk in &document.chunks {
            let length = chunk.text.chars().count();
            assert!(
                (MIN_CHUNK_CHARS..=MAX_CHUNK_CHARS).contains(&length),
                "{length}"
            );
            assert!(chunk.headings.is_empty());
        }
    }

    #[test]
    fn sha256_is_of_the_original_bytes_and_updated_at_is_left_to_the_caller() {
        let document = parse_text("Xin chào").unwrap();
        assert_eq!(
            document.sha256,
            hex::encode(Sha256::digest("Xin chào".as_bytes()))
        );
        assert_eq!(document.updated_at_ms, 0);
        assert_eq!(
            (document.id.as_str(), document.source.as_str()),
            ("ghi-chu.txt", "ghi-chu.txt")
        );
    }

    #[test]
    fn unreadable_file_names_its_path() {
        let error = read_document(Path::new("/nonexistent/chinh-sach.md")).unwrap_err();
        assert!(
            matches!(error, DocumentError::Unreadable { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("/nonexistent/chinh-sach.md"),
            "{error}"
        );
    }
}
