//! The shop's real documents (`samples/demo-shop/docs`, a copy of `shared/data/shop-docs`) turned into chunks: the size limits,
//! heading paths, tables and lists kept together, markup gone and no word lost; and the
//! errors an admin sees for files loa cannot use.

use std::path::{Path, PathBuf};

use loa::knowledge::documents::{
    DocumentError, DocumentFormat, MAX_CHUNK_CHARS, MIN_CHUNK_CHARS, parse_document, read_document,
};
use loa::store::Document;

const SHOP_DOCS: [&str; 3] = [
    "chinh-sach-doi-tra.md",
    "huong-dan-chon-size.md",
    "bao-quan-san-pham.md",
];

/// The copy in the repository, so a fresh clone (CI) has it.
fn shop_doc(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/demo-shop/docs")
        .join(name)
}

fn read_shop_doc(name: &str) -> (String, Document) {
    let path = shop_doc(name);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let document = read_document(&path).unwrap_or_else(|error| panic!("{error}"));
    (source, document)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The words of `text` without the punctuation and markup around them (`**7` → `7`,
/// `|------|` → nothing).
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|word| word.trim_matches(|character: char| !character.is_alphanumeric()))
        .filter(|word| !word.is_empty())
        .collect()
}

#[test]
fn every_chunk_of_the_shop_documents_is_within_the_limits() {
    for name in SHOP_DOCS {
        let (_, document) = read_shop_doc(name);
        let longest = document
            .chunks
            .iter()
            .map(|chunk| chars(&chunk.text))
            .max()
            .unwrap_or(0);
        println!(
            "{name}: {} chunks, longest {longest} characters",
            document.chunks.len()
        );
        for chunk in &document.chunks {
            let length = chars(&chunk.text);
            assert!(
                length <= MAX_CHUNK_CHARS,
                "{name}: {length} characters:\n{}",
                chunk.text
            );
            // Shorter than the minimum only when it is its section's only chunk.
            let in_section = document
                .chunks
                .iter()
                .filter(|other| other.headings == chunk.headings)
                .count();
            assert!(
                length >= MIN_CHUNK_CHARS || in_section == 1,
                "{name}: lone small chunk {:?}",
                chunk.text
            );
        }
    }
}

#[test]
fn no_word_of_the_shop_documents_is_lost_nor_reordered() {
    for name in SHOP_DOCS {
        let (source, document) = read_shop_doc(name);
        // Every chunk read as its heading path then its text, in order: the source's words
        // must all appear there in the same order (headings and table headers repeat).
        let chunk_words: Vec<&str> = document
            .chunks
            .iter()
            .flat_map(|chunk| {
                chunk
                    .headings
                    .iter()
                    .map(String::as_str)
                    .chain([chunk.text.as_str()])
            })
            .flat_map(words)
            .collect();
        let mut position = 0;
        for (index, word) in words(&source).into_iter().enumerate() {
            let found = chunk_words[position..]
                .iter()
                .position(|candidate| *candidate == word);
            let Some(offset) = found else {
                panic!("{name}: word {index} {word:?} is missing (or out of order) in the chunks");
            };
            position += offset + 1;
        }
    }
}

#[test]
fn chunks_carry_the_heading_path_and_the_title_is_the_first_heading() {
    let (source, document) = read_shop_doc("chinh-sach-doi-tra.md");
    let title = "Chính sách đổi trả – Thời Trang Mây";
    assert_eq!(document.title, title);
    assert_eq!(document.id, "chinh-sach-doi-tra.md");
    assert_eq!(document.updated_at_ms, 0);
    assert_eq!(document.chunks[0].headings, [title]);
    let sections: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .collect();
    let mut chunk_sections: Vec<&str> = document
        .chunks
        .iter()
        .filter_map(|chunk| chunk.headings.get(1))
        .map(String::as_str)
        .collect();
    chunk_sections.dedup();
    assert_eq!(chunk_sections, sections);
    for chunk in &document.chunks {
        assert_eq!(chunk.headings[0], title);
    }
}

#[test]
fn markdown_syntax_is_stripped_from_chunks_and_headings() {
    for name in SHOP_DOCS {
        let (_, document) = read_shop_doc(name);
        for chunk in &document.chunks {
            for text in chunk.headings.iter().chain([&chunk.text]) {
                assert!(
                    !text.contains("**") && !text.contains('#'),
                    "{name}: {text}"
                );
            }
        }
    }
}

#[test]
fn size_tables_stay_whole_with_their_header() {
    let (_, document) = read_shop_doc("huong-dan-chon-size.md");
    let women = "| Size | Chiều cao (cm) | Cân nặng (kg) | Vòng ngực (cm) | Vòng eo (cm) | Vòng mông (cm) |";
    let table_chunks: Vec<&str> = document
        .chunks
        .iter()
        .filter(|chunk| chunk.text.contains("| S | 150–155 |"))
        .map(|chunk| chunk.text.as_str())
        .collect();
    assert_eq!(table_chunks.len(), 1);
    assert!(table_chunks[0].starts_with(&format!(
        "{women}\n|---|---|---|---|---|---|\n| S | 150–155 |"
    )));
    assert!(table_chunks[0].contains("| XXL | 165–170 | 62–70 | 97–101 | 79–84 | 103–108 |"));
    // Every chunk with a table row has the row's header above it.
    for chunk in &document.chunks {
        if chunk.text.contains("\n| ") {
            assert!(chunk.text.contains("| Size"), "{}", chunk.text);
        }
    }
}

#[test]
fn a_table_too_long_for_one_chunk_repeats_its_header_in_each_piece() {
    let header = "| Size | Chiều cao (cm) | Cân nặng (kg) | Vòng eo (cm) |";
    let rows: Vec<String> = (0..60)
        .map(|index| {
            format!(
                "| S{index} | {}–{} | {}–{} | {} |",
                150 + index,
                155 + index,
                40 + index,
                45 + index,
                60 + index
            )
        })
        .collect();
    let markdown = format!(
        "# Bảng size\n\n## Bảng lớn\n\n{header}\n|---|:---:|---:|---|\n{}\n",
        rows.join("\n")
    );
    let document = parse_document(
        "size.md",
        "size.md",
        markdown.as_bytes(),
        DocumentFormat::Markdown,
    )
    .unwrap();
    assert!(document.chunks.len() >= 3, "{}", document.chunks.len());
    let mut seen = Vec::new();
    for chunk in &document.chunks {
        assert!(chars(&chunk.text) <= MAX_CHUNK_CHARS);
        assert_eq!(chunk.headings, ["Bảng size", "Bảng lớn"]);
        let mut lines = chunk.text.lines();
        assert_eq!(lines.next(), Some(header), "{}", chunk.text);
        assert_eq!(lines.next(), Some("|---|---|---|---|"));
        seen.extend(lines.map(str::to_owned));
    }
    assert_eq!(seen, rows, "every row once, in order");
}

#[test]
fn a_list_stays_with_its_intro_sentence() {
    let (_, document) = read_shop_doc("chinh-sach-doi-tra.md");
    let chunk = document
        .chunks
        .iter()
        .find(|chunk| chunk.text.contains("- Đơn COD"))
        .unwrap();
    assert!(
        chunk
            .text
            .contains("kiểm tra hàng:\n- Đơn COD hoặc chuyển khoản"),
        "{}",
        chunk.text
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused_with_the_offset() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("doi-tra.txt");
    // "Đổi trả" in Windows-1258, as an old Vietnamese Windows editor would save it.
    std::fs::write(&path, b"Chinh sach\n\xd0\xd5i tra").unwrap();
    let error = read_document(&path).unwrap_err();
    assert!(
        matches!(
            error,
            DocumentError::NotUtf8 {
                offset: 11,
                line: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("UTF-8"), "{error}");
}

#[test]
fn an_empty_file_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("trong.md");
    std::fs::write(&path, "\n  \n").unwrap();
    let error = read_document(&path).unwrap_err();
    assert!(matches!(error, DocumentError::Empty { .. }), "{error:?}");
    assert!(
        error.to_string().contains("'trong.md' has no text"),
        "{error}"
    );
}

#[test]
fn a_docx_is_refused_without_being_read() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("chinh-sach.docx");
    std::fs::write(&path, b"PK\x03\x04").unwrap();
    let error = read_document(&path).unwrap_err();
    assert!(
        matches!(error, DocumentError::UnsupportedFormat { ref extension, .. } if extension == "docx"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("Markdown (.md, .markdown), plain text (.txt) and PDF (.pdf)"),
        "{error}"
    );
}
