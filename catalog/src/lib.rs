//! The catalog people look at, generated from the schema directory.
//!
//! - [`mod@asyncapi`]: the AsyncAPI 3.0 document (`eventctl asyncapi`): topics as channels, event
//!   types and versions as messages, services' sends and receives as operations.
//! - [`site`]: a static HTML catalog (`eventctl docs`) that opens from `file://`: an index
//!   with search, a page per event type and version (field table, examples, key and topic,
//!   compatibility level, changes since the previous version), a page per topic, and the
//!   services → topics → services diagram as SVG.
//!
//! Data flow:
//!
//! ```text
//! schemas/ --codegen loader + lowering--> model::EventCatalog --+--> asyncapi::asyncapi --> YAML / JSON
//!                                                               +--> fields (field tables)
//!                                                               +--> changes (compat engine, both directions)
//!                                                               +--> site::write_site (minijinja) --> DIR/*.html, style.css, search.js
//! ```
//!
//! Everything is deterministic (same schemas, same bytes) and offline: no CDN, no fonts, no
//! network `$ref`.

#![deny(missing_docs)]

pub mod asyncapi;
pub mod changes;
pub mod fields;
pub mod model;
pub mod site;

pub use asyncapi::{asyncapi, AsyncApiDocument};
pub use model::{CatalogError, EventCatalog, EventVersion};
pub use site::write_site;
