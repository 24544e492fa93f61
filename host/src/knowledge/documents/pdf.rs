//! Text out of a PDF's text layer, with `pdf-extract` (pure Rust, on `lopdf`). Lines come
//! out one per line and a wider vertical gap as a blank line, so the text reads as
//! paragraphs like a `.txt` file.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::DocumentError;

/// The text of the PDF `bytes` (empty when it has no text layer).
pub(crate) fn extract_text(id: &str, bytes: &[u8]) -> Result<String, DocumentError> {
    let unreadable = |reason: String| DocumentError::UnreadablePdf {
        id: id.to_owned(),
        reason,
    };
    // pdf-extract panics (rather than failing) on many fonts, encodings and colour spaces
    // it does not handle; an admin's upload must never bring the host down, so a panic is
    // caught and reported like any unreadable PDF. The default panic hook still logs it to
    // stderr, which helps whoever reports the file to pdf-extract.
    match catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::extract_text_from_mem(bytes)
    })) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(error)) => Err(unreadable(error.to_string())),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|message| (*message).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(unreadable(format!(
                "the PDF reader does not support part of this file: {detail}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DocumentError, DocumentFormat, parse_document};

    /// A one-page PDF whose page shows `lines` (one `Tj` each, 14 points apart: a line
    /// break, not a paragraph) in a Type0 font with Identity-H encoding and a ToUnicode
    /// map, which is how PDF writers store Vietnamese: glyph ids in the content, their
    /// Unicode in the map. No font program is embedded: text extraction does not need one.
    fn pdf_with_text(lines: &[&str]) -> Vec<u8> {
        let mut characters: Vec<char> = lines.iter().flat_map(|line| line.chars()).collect();
        characters.sort_unstable();
        characters.dedup();
        let glyph = |character: char| characters.binary_search(&character).unwrap_or(0) + 1;
        let mut content = String::from("BT /F1 12 Tf 72 720 Td\n");
        for line in lines {
            let glyphs: String = line
                .chars()
                .map(|character| format!("{:04X}", glyph(character)))
                .collect();
            content.push_str(&format!("<{glyphs}> Tj 0 -14 Td\n"));
        }
        content.push_str("ET");
        let mut to_unicode = format!(
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Vn def\n\
             1 begincodespacerange <0000> <FFFF> endcodespacerange\n{} beginbfchar\n",
            characters.len()
        );
        for (index, character) in characters.iter().enumerate() {
            let utf16: String = character
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|unit| format!("{unit:04X}"))
                .collect();
            to_unicode.push_str(&format!("<{:04X}> <{utf16}>\n", index + 1));
        }
        to_unicode
            .push_str("endbfchar endcmap CMapName currentdict /CMap defineresource pop end end");
        pdf_with_objects(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .into(),
            stream(&content),
            "<< /Type /Font /Subtype /Type0 /BaseFont /Arial /Encoding /Identity-H \
             /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
                .into(),
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Arial /DW 500 \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor << /Type /FontDescriptor /FontName /Arial /Flags 32 \
             /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 900 /Descent -200 \
             /CapHeight 700 /StemV 80 >> >>"
                .into(),
            stream(&to_unicode),
        ])
    }

    /// A PDF whose only page draws a filled rectangle, as a scanned page shows an image:
    /// nothing for text extraction.
    fn pdf_without_text() -> Vec<u8> {
        pdf_with_objects(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".into(),
            stream("0.5 g 72 72 468 648 re f"),
        ])
    }

    fn stream(content: &str) -> String {
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        )
    }

    /// A PDF file of `objects` (numbered from 1, the first the catalog), with a correct
    /// cross-reference table.
    fn pdf_with_objects(objects: &[String]) -> Vec<u8> {
        let mut pdf = String::from("%PDF-1.7\n");
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.push_str(&format!("{} 0 obj\n{object}\nendobj\n", index + 1));
        }
        let xref = pdf.len();
        pdf.push_str(&format!(
            "xref\n0 {}\n0000000000 65535 f \n",
            objects.len() + 1
        ));
        for offset in offsets {
            pdf.push_str(&format!("{offset:010} 00000 n \n"));
        }
        pdf.push_str(&format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        ));
        pdf.into_bytes()
    }

    #[test]
    fn vietnamese_text_is_extracted_from_a_pdf() {
        let bytes = pdf_with_text(&["Chính sách đổi trả", "Bạn có 7 ngày để đổi hàng."]);
        let document =
            parse_document("doi-tra.pdf", "doi-tra.pdf", &bytes, DocumentFormat::Pdf).unwrap();
        assert_eq!(document.title, "Chính sách đổi trả");
        let text: Vec<&str> = document
            .chunks
            .iter()
            .map(|chunk| chunk.text.as_str())
            .collect();
        assert_eq!(text, ["Chính sách đổi trả\nBạn có 7 ngày để đổi hàng."]);
    }

    #[test]
    fn a_pdf_without_text_says_it_is_probably_scanned() {
        let error = parse_document(
            "scan.pdf",
            "scan.pdf",
            &pdf_without_text(),
            DocumentFormat::Pdf,
        )
        .unwrap_err();
        assert!(
            matches!(error, DocumentError::PdfWithoutText { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("scanned"), "{error}");
    }

    #[test]
    fn bytes_that_are_not_a_pdf_are_an_unreadable_pdf() {
        let error = parse_document(
            "a.pdf",
            "a.pdf",
            b"<html>not a pdf</html>",
            DocumentFormat::Pdf,
        )
        .unwrap_err();
        assert!(
            matches!(error, DocumentError::UnreadablePdf { .. }),
            "{error:?}"
        );
    }
}
