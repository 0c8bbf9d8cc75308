//! Schema-first code generator: JSON Schema (draft 2020-12, and draft-07 where `$schema`
//! says so) files in, typed Rust out.
//!
//! Call it from `build.rs` like `prost-build`:
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     pmp_event_codegen::Config::new().schemas_dir("../schemas").generate()?;
//!     Ok(())
//! }
//! ```
//!
//! Data flow, one module per phase:
//!
//! ```text
//! schemas/**/*.json --schema (one loader: load, $ref resolve below the root, bundle)--> Catalog
//!                   --ir (lower: objects, enums, oneOf, allOf, ...)--> Model
//!                   --emit (quote + prettyplease)--> events.rs
//! ```
//!
//! Generated items for a schema directory: one payload type per (event type, version)
//! (`PatientCreatedV1`) implementing `pmp_event_runtime::EventPayload`, its bundled schema
//! constant (`PATIENT_CREATED_V1_SCHEMA_JSON`) and envelope alias
//! (`PatientCreatedV1Envelope`), the shared definitions of `common/`, `SCHEMAS` (every
//! `SchemaInfo`), `AnyEvent` (implements `EventSet`), `ENVELOPE_SCHEMA_JSON` and
//! `UnknownEnumValue` (the `FromStr` error of string enums), and per struct a builder with
//! a validated `build()` ([`emit::builder`]). Several schema roots, extern catalogs whose
//! types are reused (`extern_path`, like prost-build's) and extra attributes are
//! [`Config`] options. See the README for the type
//! mapping and the supported keywords ([`schema::keywords`]).
//!
//! Every error names the file and JSON pointer ([`Error`]); no input makes it panic.

#![deny(missing_docs)]

pub mod config;
pub mod emit;
pub mod error;
pub mod ir;
pub mod schema;
pub mod services;
pub mod topics;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};

pub mod compat;
pub mod lint;
