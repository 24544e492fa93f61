//! Knowledge: what the bot knows (FAQ entries, documents) and how it finds the right piece
//! for a customer's question: an offline multilingual embedder, a vector index, a lexical
//! index over Vietnamese text folded to plain letters, and the fusion of both.

pub mod analyze;
pub mod config;
pub mod documents;
pub mod embedder;
pub mod lexical;
pub mod lexicon;
pub mod restore;
pub mod retrieval;
pub mod service;
pub mod text;
pub mod units;
pub mod vector;

pub use config::KnowledgeConfig;
pub use service::{Knowledge, KnowledgeError, Retrieval, SyncReport};
pub mod eval;
pub mod faq_file;
