//! placeholder
use crate::model::{CatalogError, EventCatalog};
use std::path::Path;
/// placeholder
pub fn write_site(_c: &EventCatalog, _out: &Path) -> Result<usize, CatalogError> { Ok(0) }
