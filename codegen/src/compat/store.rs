//! The compatibility checker's document store is the crate's one schema loader and `$ref`
//! resolver, [`crate::schema::store`]; this module keeps the names compat has always used.

pub use crate::schema::store::*;
