//! What gets embedded for a bot: one unit per FAQ question, per alternative phrasing,
//! per FAQ question-and-answer, and per document chunk. A unit's id is stable for the same
//! place in the same item, and its text hash says whether its vector is still good.

use sha2::{Digest, Sha256};

use super::embedder::Role;
use super::vector::{PointKind, VectorPoint};
use crate::conversation::model::FaqEntry;
use crate::store::Document;

/// One text to embed and where its vector goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Point id in the vector index (`faq:faq-01:q`, `chunk:size.md:3`).
    pub id: String,
    /// FAQ or chunk.
    pub kind: PointKind,
    /// The FAQ entry or document.
    pub item_id: String,
    /// The text, without the role prefix.
    pub text: String,
    /// How e5 embeds it.
    pub role: Role,
    /// SHA-256 (hex) of prefix + text: the key of its stored vector.
    pub text_sha256: String,
}

impl Unit {
    fn new(id: String, kind: PointKind, item_id: &str, text: String, role: Role) -> Self {
        let text_sha256 = hex::encode(Sha256::digest(format!("{}{text}", role.prefix())));
        Self {
            id,
            kind,
            item_id: item_id.to_owned(),
            text,
            role,
            text_sha256,
        }
    }

    /// The index point of this unit with `vector`.
    pub fn point(&self, vector: Vec<f32>) -> VectorPoint {
        VectorPoint {
            id: self.id.clone(),
            kind: self.kind,
            item_id: self.item_id.clone(),
            vector,
        }
    }
}

/// The units of a bot's FAQ and documents.
///
/// Questions and phrasings are embedded as queries: e5 compares two questions best when
/// both sides carry the `query: ` prefix. The question with its answer is a passage, so a
/// customer's question also meets the facts the answer states.
pub fn units(faq: &[FaqEntry], documents: &[Document]) -> Vec<Unit> {
    let mut units = Vec::new();
    for entry in faq {
        units.push(Unit::new(
            format!("faq:{}:q", entry.id),
            PointKind::Faq,
            &entry.id,
            entry.question.clone(),
            Role::Query,
        ));
        for (position, variant) in entry.variants.iter().enumerate() {
            units.push(Unit::new(
                format!("faq:{}:v{position}", entry.id),
                PointKind::Faq,
                &entry.id,
                variant.clone(),
                Role::Query,
            ));
        }
        units.push(Unit::new(
            format!("faq:{}:qa", entry.id),
            PointKind::Faq,
            &entry.id,
            format!("{}\n{}", entry.question, entry.answer),
            Role::Passage,
        ));
    }
    for document in documents {
        for position in 0..document.chunks.len() {
            units.push(Unit::new(
                format!("chunk:{}:{position}", document.id),
                PointKind::Chunk,
                &document.id,
                chunk_text(document, position),
                Role::Passage,
            ));
        }
    }
    units
}

/// A chunk as retrieval sees it: the document title and headings first, so a chunk about
/// "Áo len" under "Bảo quản sản phẩm" says both.
pub fn chunk_text(document: &Document, position: usize) -> String {
    let Some(chunk) = document.chunks.get(position) else {
        return String::new();
    };
    let mut path = vec![document.title.as_str()];
    path.extend(
        chunk
            .headings
            .iter()
            .map(String::as_str)
            .filter(|heading| *heading != document.title),
    );
    format!("{}\n{}", path.join(" > "), chunk.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DocumentChunk;

    fn entry() -> FaqEntry {
        FaqEntry {
            id: "faq-01".into(),
            question: "Có ship COD không?".into(),
            variants: vec!["ship cod?".into()],
            answer: "Có ạ.".into(),
            tags: vec![],
        }
    }

    #[test]
    fn an_faq_entry_gives_question_variant_and_answer_units() {
        let units = units(&[entry()], &[]);
        let ids: Vec<&str> = units.iter().map(|unit| unit.id.as_str()).collect();
        assert_eq!(ids, ["faq:faq-01:q", "faq:faq-01:v0", "faq:faq-01:qa"]);
        assert_eq!(units[0].role, Role::Query);
        assert_eq!(units[2].role, Role::Passage);
    }

    #[test]
    fn the_hash_changes_with_the_text_and_the_role_only() {
        let first = units(&[entry()], &[]);
        assert_eq!(first, units(&[entry()], &[]));
        let mut changed = entry();
        changed.answer = "Không ạ.".into();
        let second = units(&[changed], &[]);
        assert_eq!(first[0].text_sha256, second[0].text_sha256);
        assert_ne!(first[2].text_sha256, second[2].text_sha256);
    }

    #[test]
    fn chunks_carry_their_title_and_headings() {
        let document = Document {
            id: "care.md".into(),
            title: "Bảo quản".into(),
            source: "care.md".into(),
            sha256: String::new(),
            chunks: vec![DocumentChunk {
                headings: vec!["Bảo quản".into(), "Áo len".into()],
                text: "Giặt tay.".into(),
            }],
            updated_at_ms: 0,
        };
        let units = units(&[], &[document]);
        assert_eq!(units[0].id, "chunk:care.md:0");
        assert_eq!(units[0].text, "Bảo quản > Áo len\nGiặt tay.");
    }
}
