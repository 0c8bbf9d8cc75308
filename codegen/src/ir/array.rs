//! Arrays: `items` becomes `Vec<T>`; tuples become Rust tuples.
//!
//! Tuples are `prefixItems` (2020-12; `items` then governs the rest) or an array-valued
//! `items` (draft-07; `additionalItems` governs the rest). A Rust tuple `(A, B)` reads exactly
//! as many elements as it has, so it is generated only when the schema fixes the length: no
//! further items (`items: false` / `additionalItems: false`) and `minItems` at least the
//! tuple's length. Any other tuple (optional or extra positions) is `Vec<serde_json::Value>`,
//! with every position checked by runtime validation.
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
    let draft7 = lw.cat.is_draft7(loc);
    let (prefix_kw, rest_kw) = if draft7 {
        ("items", "additionalItems")
    } else {
        ("prefixItems", "items")
    };
    if let Some(prefix) = map
        .get(prefix_kw)
        .filter(|_| !draft7 || map["items"].is_array())
    {
        let Some(prefix) = prefix.as_array() else {
            return Err(lw.cat.error(
                &loc.child(prefix_kw),
                format!("`{prefix_kw}` must be an array"),
            ));
        };
        let closed = map.get(rest_kw) == Some(&Value::Bool(false));
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        if !closed || min < prefix.len() as u64 || prefix.is_empty() {
            // Optional or extra positions: a Rust tuple would reject valid arrays. The
            // positions are still checked for unsupported keywords.
            for i in 0..prefix.len() {
                let at = loc.child(prefix_kw).child(&i.to_string());
                lw.inline(&at, &format!("{hint}Item{}", i + 1))?;
            }
            lower_rest(lw, loc, map, rest_kw, hint)?;
            return Ok(Lowered::Ty(Ty::Vec(Box::new(Ty::Any))));
        }
        let mut items = Vec::with_capacity(prefix.len());
        for i in 0..prefix.len() {
            let at = loc.child(prefix_kw).child(&i.to_string());
            items.push(lw.inline(&at, &format!("{hint}Item{}", i + 1))?);
        }
        return Ok(Lowered::Ty(Ty::Tuple(items)));
    }
    if !draft7 && map.contains_key("additionalItems") {
        return Err(lw.cat.error(
            &loc.child("additionalItems"),
            "`additionalItems` is a draft-07 keyword; in 2020-12 use `prefixItems` + `items`",
        ));
    }
    let item = match map.get("items") {
        None | Some(Value::Bool(true)) => Ty::Any,
        Some(_) => lw.inline(&loc.child("items"), &format!("{hint}Item"))?,
    };
    Ok(Lowered::Ty(Ty::Vec(Box::new(item))))
}

/// Check the schema of the items after a tuple's prefix (it must be a valid schema even when
/// the generated type does not use it).
fn lower_rest(
    lw: &mut Lowerer<'_>,
    loc: &Loc,
    map: &Map<String, Value>,
    rest_kw: &str,
    hint: &str,
) -> Result<()> {
    match map.get(rest_kw) {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(_) => lw
            .inline(&loc.child(rest_kw), &format!("{hint}Rest"))
            .map(|_| ()),
    }
}
