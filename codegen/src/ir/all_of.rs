//! `allOf` of objects: one struct with the union of properties and `required`.
//!
//! Branches may be inline objects, `$ref`s to objects, nested `allOf`s or validation-only
//! schemas (`required` only). The same property declared differently in two branches, or a
//! branch that is not an object, is an error. `allOf` with a single branch and no own
//! properties is treated like that branch (a common way to annotate a `$ref`).
//! `additionalProperties` is taken from the schema holding `allOf` only.

use serde_json::{Map, Value};

use super::lower::{Lowered, Lowerer};
use super::object::{build_struct, properties_of, required_of, Additional};
use crate::error::Result;
use crate::schema::Loc;

/// Lower a schema with `allOf`.
pub fn lower(
    lw: &mut Lowerer<'_>,
    loc: &Loc,
    map: &Map<String, Value>,
    hint: &str,
) -> Result<Lowered> {
    let at = loc.child("allOf");
    let Some(branches) = map
        .get("allOf")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(lw.cat.error(&at, "`allOf` must be a non-empty array"));
    };
    for key in ["oneOf", "anyOf"] {
        if map
            .get(key)
            .is_some_and(|b| !super::one_of::all_validation_only(b))
        {
            return Err(lw.cat.error(
                &loc.child(key),
                format!("`{key}` beside `allOf` is not supported"),
            ));
        }
    }
    if branches.len() == 1 && !map.contains_key("properties") {
        return lw.lower_body(&at.child("0"), hint);
    }
    let mut props: Vec<(String, Loc)> = Vec::new();
    let mut required: Vec<(String, Loc)> = Vec::new();
    collect(lw, loc, &mut props, &mut required, 0)?;
    let additional = Additional::of(loc, map);
    let kind = build_struct(lw, hint, &props, &required, &additional, None)?;
    Ok(Lowered::Def {
        kind,
        nullable: false,
    })
}

fn collect(
    lw: &mut Lowerer<'_>,
    loc: &Loc,
    props: &mut Vec<(String, Loc)>,
    required: &mut Vec<(String, Loc)>,
    depth: usize,
) -> Result<()> {
    if depth > 32 {
        return Err(lw
            .cat
            .error(loc, "`allOf`/`$ref` nesting too deep (cycle?)"));
    }
    let map = lw.object_at(loc)?;
    lw.check_keywords(loc, map)?;
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        let target = lw.cat.resolve_ref(loc, r)?;
        collect(lw, &target, props, required, depth + 1)?;
    }
    for key in ["items", "enum", "const"] {
        if map.contains_key(key) {
            return Err(lw
                .cat
                .error(&loc.child(key), "`allOf` is only supported for objects"));
        }
    }
    if let Some(t) = map.get("type").and_then(Value::as_str) {
        if t != "object" {
            return Err(lw
                .cat
                .error(&loc.child("type"), "`allOf` is only supported for objects"));
        }
    }
    for key in ["oneOf", "anyOf"] {
        if map
            .get(key)
            .is_some_and(|b| !super::one_of::all_validation_only(b))
        {
            return Err(lw.cat.error(
                &loc.child(key),
                format!("`{key}` inside an `allOf` branch is not supported"),
            ));
        }
    }
    for (name, ploc) in properties_of(loc, map) {
        if let Some((_, first)) = props.iter().find(|(n, _)| *n == name) {
            if lw.cat.get(first) != lw.cat.get(&ploc) {
                let doc = lw.cat.document(first);
                return Err(lw.cat.error(
                    &ploc,
                    format!(
                        "property `{name}` is declared differently in two `allOf` branches (first at {}#{})",
                        doc.path.display(),
                        first.pointer
                    ),
                ));
            }
            continue;
        }
        props.push((name, ploc));
    }
    required.extend(required_of(loc, map));
    if let Some(branches) = map.get("allOf").and_then(Value::as_array) {
        for i in 0..branches.len() {
            collect(
                lw,
                &loc.child("allOf").child(&i.to_string()),
                props,
                required,
                depth + 1,
            )?;
        }
    }
    Ok(())
}
