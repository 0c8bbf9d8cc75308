//! `allOf` of objects: one struct with the union of properties and `required`.
//!
//! Branches may be inline objects, `$ref`s to objects, nested `allOf`s or validation-only
//! schemas (`required` only). The same property declared differently in two branches, or a
//! branch that is not an object, is an error. `allOf` with a single branch and no own
//! properties is treated like that branch (a common way to annotate a `$ref`).
//! `additionalProperties` is taken from the schema holding `allOf` only.
//!
//! A branch holding a typed `anyOf`/`oneOf` (alternatives with their own properties) adds a
//! `#[serde(flatten)]` field (`any_of`/`one_of`) whose type is that union, read from the same
//! JSON object as the merged properties. serde cannot deny unknown fields beside a flattened
//! one, so such a struct accepts undeclared properties when deserializing (runtime validation
//! still rejects them).

use serde_json::{Map, Value};

use super::lower::{Lowered, Lowerer};
use super::object::{build_struct, properties_of, required_of, Additional};
use super::{Field, Ty, TypeKind};
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
    let mut parts = Parts::default();
    collect(lw, loc, &mut parts, 0)?;
    let additional = Additional::of(loc, map);
    let mut kind = build_struct(lw, hint, &parts.props, &parts.required, &additional, None)?;
    if let TypeKind::Struct {
        fields,
        deny_unknown,
        ..
    } = &mut kind
    {
        for (i, (union_loc, kw)) in parts.unions.iter().enumerate() {
            let base = if *kw == "oneOf" { "one_of" } else { "any_of" };
            let rust_name = if i == 0 {
                base.to_owned()
            } else {
                format!("{base}_{}", i + 1)
            };
            if fields.iter().any(|f| f.rust_name == rust_name) {
                return Err(lw.cat.error(
                    union_loc,
                    format!("a property named `{rust_name}` collides with the field holding this `{kw}`"),
                ));
            }
            let type_hint = format!("{hint}{}", super::name::type_name(&rust_name));
            let ty = match super::one_of::lower(lw, union_loc, kw, &type_hint)? {
                Lowered::Ty(ty) => ty,
                Lowered::Def { kind, nullable } => {
                    lw.claim(&type_hint, union_loc)?;
                    lw.define(&type_hint, union_loc, kind);
                    let named = Ty::Named(type_hint.clone());
                    if nullable {
                        Ty::Nullable(Box::new(named))
                    } else {
                        named
                    }
                }
            };
            fields.push(Field {
                json_name: String::new(),
                rust_name,
                ty,
                required: true,
                default: None,
                docs: vec![format!(
                    "The `{kw}` alternatives of `{}`, read from the same object (flattened).",
                    union_loc.pointer
                )],
                pii: false,
                flatten: true,
            });
            // serde cannot deny unknown fields next to a flattened field; runtime validation
            // still rejects them.
            *deny_unknown = false;
        }
    }
    Ok(Lowered::Def {
        kind,
        nullable: false,
    })
}

/// What the branches of an `allOf` contribute.
#[derive(Default)]
struct Parts {
    props: Vec<(String, Loc)>,
    required: Vec<(String, Loc)>,
    /// Branches holding a typed `oneOf`/`anyOf`: (branch location, keyword).
    unions: Vec<(Loc, &'static str)>,
}

fn collect(lw: &mut Lowerer<'_>, loc: &Loc, parts: &mut Parts, depth: usize) -> Result<()> {
    if depth > 32 {
        return Err(lw
            .cat
            .error(loc, "`allOf`/`$ref` nesting too deep (cycle?)"));
    }
    let map = lw.object_at(loc)?;
    lw.check_keywords(loc, map)?;
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        let target = lw.cat.resolve_ref(loc, r)?;
        collect(lw, &target, parts, depth + 1)?;
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
            parts.unions.push((loc.clone(), key));
        }
    }
    for (name, ploc) in properties_of(lw.cat, loc, map) {
        if let Some((_, first)) = parts.props.iter().find(|(n, _)| *n == name) {
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
        parts.props.push((name, ploc));
    }
    parts.required.extend(required_of(loc, map));
    if let Some(branches) = map.get("allOf").and_then(Value::as_array) {
        for i in 0..branches.len() {
            collect(
                lw,
                &loc.child("allOf").child(&i.to_string()),
                parts,
                depth + 1,
            )?;
        }
    }
    Ok(())
}
