//! The Markdown reader on the constructs shop documents use.

use super::*;

fn blocks_under<'a>(parsed: &'a Parsed, heading: &str) -> &'a [Block] {
    let section = parsed
        .sections
        .iter()
        .find(|section| section.headings.last().map(String::as_str) == Some(heading));
    &section
        .unwrap_or_else(|| panic!("no section {heading}"))
        .blocks
}

#[test]
fn heading_paths_nest_by_level_and_the_first_h1_is_the_title() {
    let parsed =
        parse("# Chính sách\nMở đầu.\n## Đổi ###\nA.\n### Điều kiện\nB.\n## Hoàn tiền\nC.");
    assert_eq!(parsed.title.as_deref(), Some("Chính sách"));
    let paths: Vec<Vec<String>> = parsed
        .sections
        .iter()
        .map(|section| section.headings.clone())
        .collect();
    assert_eq!(
        paths,
        [
            vec!["Chính sách"],
            vec!["Chính sách", "Đổi"],
            vec!["Chính sách", "Đổi", "Điều kiện"],
            vec!["Chính sách", "Hoàn tiền"],
        ]
    );
}

#[test]
fn no_h1_means_no_title_and_text_before_any_heading_has_an_empty_path() {
    let parsed = parse("Lời chào.\n\n## Mục\nNội dung.");
    assert_eq!(parsed.title, None);
    assert!(parsed.sections[0].headings.is_empty());
}

#[test]
fn setext_headings_and_hashtags() {
    let parsed = parse("Tiêu đề\n=======\n\n#sale hè\n\nMục\n---\nchữ");
    assert_eq!(parsed.title.as_deref(), Some("Tiêu đề"));
    assert_eq!(
        blocks_under(&parsed, "Tiêu đề"),
        [Block::Paragraph("#sale hè".into())]
    );
    assert_eq!(
        blocks_under(&parsed, "Mục"),
        [Block::Paragraph("chữ".into())]
    );
}

#[test]
fn a_list_is_one_block_after_its_intro_paragraph() {
    let parsed = parse(
        "## Hoàn tiền\nMây hoàn tiền:\n\n* Đơn **COD**\n  chuyển khoản\n+ Ví\n   - thẻ\n1) Một\n\nSau.",
    );
    assert_eq!(
        blocks_under(&parsed, "Hoàn tiền"),
        [
            Block::Paragraph("Mây hoàn tiền:".into()),
            Block::List(vec![
                "- Đơn COD\nchuyển khoản".into(),
                "- Ví".into(),
                "  - thẻ".into(),
                "1. Một".into()
            ]),
            Block::Paragraph("Sau.".into()),
        ]
    );
}

#[test]
fn tables_keep_pipes_without_padding() {
    let parsed = parse(
        "## Size\n| Size | **Eo** (cm) |\n|:-----|----:|\n| S    | 62–65 |\n| M | 66\\|69 |\nĐồ unisex.",
    );
    let [Block::Table(table), Block::Paragraph(after)] = blocks_under(&parsed, "Size") else {
        panic!("{parsed:?}");
    };
    assert_eq!(table.header, "| Size | Eo (cm) |");
    assert_eq!(table.columns, 2);
    assert_eq!(table.rows, ["| S | 62–65 |", "| M | 66|69 |"]);
    assert_eq!(after, "Đồ unisex.");
}

#[test]
fn a_pipe_without_a_delimiter_row_is_text() {
    let parsed = parse("Giờ mở cửa | 8h–22h\nHotline | 1900 6789");
    assert_eq!(
        parsed.sections[0].blocks,
        [Block::Paragraph(
            "Giờ mở cửa | 8h–22h\nHotline | 1900 6789".into()
        )]
    );
}

#[test]
fn code_quotes_comments_front_matter_and_rules() {
    let text = "---\ntitle: x\n---\n> Trích **dẫn**\n\n<!-- ghi chú\nnội bộ -->\n\n```\nMAY**10\n```\n\n***\n[size]: https://may.vn/size";
    let parsed = parse(text);
    assert_eq!(
        parsed.sections[0].blocks,
        [
            Block::Paragraph("Trích dẫn".into()),
            Block::Paragraph("MAY**10".into())
        ]
    );
}

#[test]
fn a_heading_with_nothing_under_it_is_kept_as_text() {
    let parsed = parse("# Tài liệu\n## Chương\n### Mục\nchữ\n## Liên hệ");
    let last = parsed.sections.last().unwrap();
    assert_eq!(last.headings, ["Tài liệu", "Liên hệ"]);
    assert_eq!(last.blocks, [Block::Paragraph("Liên hệ".into())]);
    // "Chương" has a subsection, so it lives on in that section's path.
    assert_eq!(parsed.sections.len(), 2);
}
