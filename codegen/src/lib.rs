//! Schema-first code generator (placeholder; filled in by the generator work).

/// The topic catalog (`schemas/topics.json`) and the `create-topics.sh` it renders to.
pub mod topics;

/// Schema compatibility checks (`eventctl compat` / `eventctl check`).
pub mod compat;

/// Catalog conventions lint (`eventctl lint`).
pub mod lint;
