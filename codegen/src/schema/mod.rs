//! Phase 1: read schema files into a [`Catalog`] and resolve references offline.
//!
//! Nothing in this module decides Rust types; it answers "what JSON is at this location"
//! and "where does this `$ref` point", with errors that carry file, pointer and position.

pub mod bundle;
pub mod catalog;
pub mod keywords;
pub mod position;
pub mod uri;

pub use catalog::{Catalog, Document, Loc};
