//! Pointer → `line:col` positions: the crate's one source map, [`crate::schema::source_map`];
//! this module keeps the names compat and lint have always used.

pub use crate::schema::source_map::*;
