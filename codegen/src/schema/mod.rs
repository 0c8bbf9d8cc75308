//! Phase 1: read schema files into a [`Catalog`] and resolve references offline.
//!
//! Nothing in this module decides Rust types; it answers "what JSON is at this location"
//! and "where does this `$ref` point", with errors that carry file, pointer and position.
//!
//! One loader for the whole crate: [`store::DocStore`] reads files (from disk or from memory,
//! e.g. a git revision), decides each document's draft from `$schema`, registers `$id`s,
//! `$anchor`s and draft-07 `#name` ids, resolves every `$ref` offline and refuses files
//! outside the configured root. The generator's [`Catalog`] is a directory view over it, the
//! compatibility checker uses it directly, and lint and all errors share one
//! [`source_map::SourceMap`] (pointer -> line and column) and one [`uri`] module
//! (RFC 3986 resolution, percent-decoding).

pub mod bundle;
pub mod catalog;
pub mod keywords;
pub mod source_map;
pub mod store;
pub mod uri;

pub use catalog::{Catalog, Document, Loc};
