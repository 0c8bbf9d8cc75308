//! `oneOf` / `anyOf`.
//!
//! In order of precedence:
//! 1. every branch only carries `required` (or other object-level validation): a
//!    validation-only constraint, ignored for typing (e.g. "`body_text` or `template`");
//! 2. `null` plus one other branch: `Option<T>`;
//! 3. every branch is a `const` string: a string enum whose variant docs are the branch
//!    descriptions;
//! 4. every branch is an object (inline or via `$ref`) with a common required property whose
//!    schema is a `const` string, distinct per branch: an internally tagged enum
//!    `#[serde(tag = "kind")]`, one variant per branch holding a struct of the remaining
//!    properties (`LocationAddress`), or a unit variant when nothing remains;
//! 5. anything else: `#[serde(untagged)]`, variants named after the referenced type, the
//!    branch `title`, or the JSON type. serde tries branches in order, so list narrower
//!    branches first.

use std::collections::BTreeSet;

use serde_json::Value;

use super::lower::{Lowered, Lowerer};
use super::name::type_name;
use super::object::{build_struct, properties_of, required_of, Additional};
use super::string_enum::variants;
use super::{DataVariant, Ty, TypeKind};
use crate::error::Result;
use crate::schema::Loc;

/// Whether every branch of a `oneOf`/`anyOf` array is validation-only.
pub fn all_validation_only(branches: &Value) -> bool {
    branches
        .as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(is_validation_only))
}

fn is_validation_only(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    map.iter().all(|(k, v)| match k.as_str() {
        "required" | "dependentRequired" | "minProperties" | "maxProperties" | "description"
        | "title" | "$comment" => true,
        "not" => is_validation_only(v),
        "oneOf" | "anyOf" | "allOf" => all_validation_only(v),
        _ => k.starts_with("x-"),
    })
}

fn is_null_branch(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("const").is_some_and(Value::is_null)
}

/// Lower a `oneOf`/`anyOf` (keyword `kw`) at `loc`.
pub fn lower(lw: &mut Lowerer<'_>, loc: &Loc, kw: &str, hint: &str) -> Result<Lowered> {
    let map = lw.object_at(loc)?;
    for key in ["properties", "items", "enum", "const"] {
        if map.contains_key(key) {
            return Err(lw.cat.error(
                &loc.child(key),
                format!("`{key}` beside a non-validation `{kw}` is not supported; move it into the branches"),
            ));
        }
    }
    if map.contains_key("oneOf") && map.contains_key("anyOf") && !all_validation_only(&map["anyOf"])
    {
        return Err(lw.cat.error(
            &loc.child("anyOf"),
            "`oneOf` and `anyOf` together are not supported",
        ));
    }
    let at = loc.child(kw);
    let Some(branches) = map
        .get(kw)
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(lw
            .cat
            .error(&at, format!("`{kw}` must be a non-empty array")));
    };
    let mut nullable = false;
    let mut locs = Vec::new();
    for (i, b) in branches.iter().enumerate() {
        if is_null_branch(b) {
            nullable = true;
        } else {
            locs.push(at.child(&i.to_string()));
        }
    }
    if locs.is_empty() {
        return Ok(Lowered::Ty(Ty::Unit));
    }
    if nullable && locs.len() == 1 {
        let inner = lw.inline(&locs[0], hint)?;
        return Ok(Lowered::Ty(Ty::Nullable(Box::new(inner))));
    }
    // 3. const strings
    let consts: Option<Vec<(Loc, String, Vec<String>)>> = locs
        .iter()
        .map(|l| {
            let b = lw.cat.get(l)?;
            let s = b.get("const")?.as_str()?.to_owned();
            let docs = ["title", "description"]
                .iter()
                .filter_map(|k| b.get(*k).and_then(Value::as_str).map(str::to_owned))
                .collect();
            Some((l.child("const"), s, docs))
        })
        .collect();
    if let Some(consts) = consts {
        for l in &locs {
            let m = lw.object_at(l)?;
            lw.check_keywords(l, m)?;
        }
        let wires: Vec<(Loc, String)> = consts
            .iter()
            .map(|(l, s, _)| (l.clone(), s.clone()))
            .collect();
        let docs = consts
            .iter()
            .map(|(_, s, d)| (s.clone(), d.clone()))
            .collect();
        let kind = TypeKind::StringEnum(variants(lw, &wires, &docs)?);
        return Ok(Lowered::Def { kind, nullable });
    }
    // 4. tagged
    if let Some(kind) = try_tagged(lw, &locs, hint)? {
        return Ok(Lowered::Def { kind, nullable });
    }
    // 5. untagged
    let mut variants: Vec<DataVariant> = Vec::new();
    for (i, l) in locs.iter().enumerate() {
        let b = lw.cat.get(l);
        let title = b
            .and_then(|v| v.get("title"))
            .and_then(Value::as_str)
            .map(type_name);
        let inline_hint = format!(
            "{hint}{}",
            title.clone().unwrap_or_else(|| format!("Variant{}", i + 1))
        );
        let ty = lw.inline(l, &inline_hint)?;
        let mut rust = match (&ty, title) {
            (_, Some(t)) => t,
            (Ty::Named(n), None) => n
                .strip_prefix(hint)
                .filter(|s| !s.is_empty())
                .unwrap_or(n)
                .to_owned(),
            (ty, None) => json_type_label(ty).to_owned(),
        };
        if variants.iter().any(|v| v.rust == rust) {
            rust = format!("{rust}{}", i + 1);
        }
        let docs = b
            .and_then(|v| v.get("description"))
            .and_then(Value::as_str)
            .map(|d| vec![d.to_owned()])
            .unwrap_or_default();
        variants.push(DataVariant {
            rust,
            wire: None,
            ty: Some(ty),
            docs,
        });
    }
    Ok(Lowered::Def {
        kind: TypeKind::Untagged(variants),
        nullable,
    })
}

fn json_type_label(ty: &Ty) -> &'static str {
    match ty {
        Ty::Any => "Value",
        Ty::Unit => "Null",
        Ty::Bool => "Boolean",
        Ty::Int(_) => "Integer",
        Ty::F64 => "Number",
        Ty::String => "String",
        Ty::Uuid => "Uuid",
        Ty::Date => "Date",
        Ty::DateTime => "DateTime",
        Ty::Vec(_) => "Array",
        Ty::Map(_) => "Map",
        Ty::Tuple(_) => "Tuple",
        Ty::Nullable(_) => "Nullable",
        Ty::Named(_) | Ty::Boxed(_) => "Object",
    }
}

/// Follow `$ref`-only branches to the object schema they name.
fn object_branch(lw: &Lowerer<'_>, loc: &Loc) -> Option<Loc> {
    let mut current = loc.clone();
    for _ in 0..32 {
        let v = lw.cat.get(&current)?.as_object()?;
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => current = lw.cat.resolve_ref(&current, r).ok()?,
            None => {
                let is_object = v.get("properties").is_some()
                    && !v.contains_key("allOf")
                    && v.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "object");
                return is_object.then_some(current);
            }
        }
    }
    None
}

fn const_string(v: &Value) -> Option<String> {
    if let Some(s) = v.get("const").and_then(Value::as_str) {
        return Some(s.to_owned());
    }
    match v.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
        Some([Value::String(s)]) => Some(s.clone()),
        _ => None,
    }
}

fn try_tagged(lw: &mut Lowerer<'_>, locs: &[Loc], hint: &str) -> Result<Option<TypeKind>> {
    let mut objects = Vec::new();
    for l in locs {
        match object_branch(lw, l) {
            Some(o) => objects.push(o),
            None => return Ok(None),
        }
    }
    // Candidate discriminators: required in every branch with a const string schema.
    let mut candidates: Option<BTreeSet<String>> = None;
    for o in &objects {
        let map = lw.object_at(o)?;
        let required: BTreeSet<String> = required_of(o, map).into_iter().map(|(n, _)| n).collect();
        let here: BTreeSet<String> = properties_of(lw.cat, o, map)
            .into_iter()
            .filter(|(n, pl)| {
                required.contains(n) && lw.cat.get(pl).and_then(const_string).is_some()
            })
            .map(|(n, _)| n)
            .collect();
        candidates = Some(match candidates {
            None => here,
            Some(c) => c.intersection(&here).cloned().collect(),
        });
    }
    let Some(candidates) = candidates else {
        return Ok(None);
    };
    for tag in candidates {
        let wires: Vec<String> = objects
            .iter()
            .filter_map(|o| {
                lw.cat
                    .get(&o.child("properties").child(&tag))
                    .and_then(const_string)
            })
            .collect();
        let distinct: BTreeSet<&String> = wires.iter().collect();
        if distinct.len() != wires.len() {
            continue;
        }
        let mut out: Vec<DataVariant> = Vec::new();
        for ((branch, o), wire) in locs.iter().zip(&objects).zip(&wires) {
            let map = lw.object_at(o)?;
            lw.check_keywords(o, map)?;
            let rust = type_name(wire);
            if let Some(other) = out.iter().find(|v| v.rust == rust) {
                return Err(lw.cat.error(
                    branch,
                    format!(
                        "discriminator values {:?} and {wire:?} both become variant `{rust}`",
                        other.wire
                    ),
                ));
            }
            let props = properties_of(lw.cat, o, map);
            let required = required_of(o, map);
            let additional = Additional::of(o, map);
            let name = format!("{hint}{rust}");
            let kind = build_struct(lw, &name, &props, &required, &additional, Some(&tag))?;
            let empty = matches!(&kind, TypeKind::Struct { fields, additional: None, .. } if fields.is_empty());
            let ty = if empty {
                None
            } else {
                lw.claim(&name, o)?;
                lw.define(&name, o, kind);
                Some(Ty::Named(name))
            };
            let docs = [branch, o]
                .iter()
                .find_map(|l| {
                    lw.cat
                        .get(l)
                        .and_then(|v| v.get("description"))
                        .and_then(Value::as_str)
                })
                .map(|d| vec![d.to_owned()])
                .unwrap_or_default();
            out.push(DataVariant {
                rust,
                wire: Some(wire.clone()),
                ty,
                docs,
            });
        }
        return Ok(Some(TypeKind::Tagged { tag, variants: out }));
    }
    Ok(None)
}
