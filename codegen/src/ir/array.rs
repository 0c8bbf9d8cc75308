//! Arrays: `items` becomes `Vec<T>`.
//!
//! `uniqueItems` keeps `Vec<T>` (documented on the field, enforced by validation): a
//! `BTreeSet` would reorder elements, so a consumed event would not serialize back to the
//! same JSON, and `f64` or struct items are not `Ord` anyway.

use serde_json::{Map, Value};

use super::lower::{Lowered, Lowerer};
use super::Ty;
use crate::error::Result;
use crate::schema::Loc;

/// Lower an array schema.
pub fn lower(
    lw: &mut Lowerer<'_>,
    loc: &Loc,
    map: &Map<String, Value>,
    hint: &str,
) -> Result<Lowered> {
    let item = match map.get("items") {
        None | Some(Value::Bool(true)) => Ty::Any,
        Some(Value::Array(_)) => {
            return Err(lw.cat.error(
                &loc.child("items"),
                "tuple form of `items` (an array) is not supported",
            ))
        }
        Some(_) => lw.inline(&loc.child("items"), &format!("{hint}Item"))?,
    };
    Ok(Lowered::Ty(Ty::Vec(Box::new(item))))
}
