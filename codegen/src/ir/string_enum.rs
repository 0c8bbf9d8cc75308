//! `enum` and `const`.
//!
//! - `enum` of strings -> a Rust enum of unit variants with `#[serde(rename = "wire")]`,
//!   `Display` and `FromStr` (wire values), `Copy`, `Eq`, `Ord`, `Hash`. Variant docs come from
//!   `x-enum-descriptions` / `x-enum-labels` (objects mapping each value to text), or from the
//!   branch `description`s when written as `oneOf` of `const`s (see [`super::one_of`]).
//!   `null` among the values makes references `Option<..>`.
//! - `enum` of integers -> the integer type spanning them (validation checks membership);
//!   of other numbers -> `f64`; of mixed JSON types (`["a", 1, true]`) or arrays/objects ->
//!   `serde_json::Value` (validation checks membership).
//! - `""` is a value like any other: its variant is `Empty`.
//! - `const` string without another type -> a single-variant enum (so a wrong value cannot
//!   be built in Rust); `const` of another JSON type -> that type (validation checks it);
//!   `const` beside `$ref` keeps the referenced type and documents the constant.

use serde_json::{Map, Value};

use super::lower::{Lowered, Lowerer};
use super::name::type_name;
use super::{integer, EnumVariant, Ty, TypeKind};
use crate::error::Result;
use crate::schema::Loc;

/// Lower a schema with `enum`.
pub fn lower_enum(lw: &mut Lowerer<'_>, loc: &Loc, map: &Map<String, Value>) -> Result<Lowered> {
    let at = loc.child("enum");
    let Some(values) = map
        .get("enum")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(lw.cat.error(&at, "`enum` must be a non-empty array"));
    };
    let (_, type_nullable) = lw.parse_type(loc, map)?;
    let nullable = type_nullable || values.iter().any(Value::is_null);
    let non_null: Vec<(usize, &Value)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .collect();
    if non_null.iter().all(|(_, v)| v.is_string()) {
        let mut wires = Vec::new();
        for (i, v) in &non_null {
            wires.push((
                at.child(&i.to_string()),
                v.as_str().unwrap_or_default().to_owned(),
            ));
        }
        let docs = variant_docs(map);
        let kind = TypeKind::StringEnum(variants(lw, &wires, &docs)?);
        return Ok(Lowered::Def { kind, nullable });
    }
    let ints: Option<Vec<i128>> = non_null.iter().map(|(_, v)| as_int(v)).collect();
    if let Some(ints) = ints {
        let ty = Ty::Int(integer::width(map, Some(&ints)));
        return Ok(Lowered::Ty(if nullable {
            Ty::Nullable(Box::new(ty))
        } else {
            ty
        }));
    }
    if non_null.iter().all(|(_, v)| v.is_number()) {
        let ty = Ty::F64;
        return Ok(Lowered::Ty(if nullable {
            Ty::Nullable(Box::new(ty))
        } else {
            ty
        }));
    }
    // Mixed JSON types (`["a", 1, true]`) or structured values: any JSON value, the field
    // docs list the values and runtime validation checks membership.
    Ok(Lowered::Ty(Ty::Any))
}

/// Lower a schema with `const` (and no `$ref`).
pub fn lower_const(lw: &mut Lowerer<'_>, loc: &Loc, map: &Map<String, Value>) -> Result<Lowered> {
    let value = &map["const"];
    let ty = match value {
        Value::String(s) => {
            let (types, nullable) = lw.parse_type(loc, map)?;
            if !types.is_empty() && types != ["string"] {
                return Err(lw
                    .cat
                    .error(&loc.child("const"), "`const` does not match `type`"));
            }
            let variants = variants(lw, &[(loc.child("const"), s.clone())], &Default::default())?;
            return Ok(Lowered::Def {
                kind: TypeKind::StringEnum(variants),
                nullable,
            });
        }
        Value::Null => Ty::Unit,
        Value::Bool(_) => Ty::Bool,
        Value::Number(_) => match as_int(value) {
            Some(i) if map.get("type").and_then(Value::as_str) != Some("number") => {
                Ty::Int(integer::width(map, Some(&[i])))
            }
            _ => Ty::F64,
        },
        Value::Array(_) | Value::Object(_) => Ty::Any,
    };
    Ok(Lowered::Ty(ty))
}

/// Build variants from (location, wire value), rejecting two values with one Rust name.
pub fn variants(
    lw: &Lowerer<'_>,
    wires: &[(Loc, String)],
    docs: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<Vec<EnumVariant>> {
    let mut out: Vec<EnumVariant> = Vec::new();
    for (at, wire) in wires {
        // `""` becomes the variant `Empty` (see `type_name`).
        let rust = type_name(wire);
        if let Some(other) = out.iter().find(|v| v.rust == rust) {
            return Err(lw.cat.error(
                at,
                format!(
                    "enum values {:?} and {wire:?} both become variant `{rust}`",
                    other.wire
                ),
            ));
        }
        out.push(EnumVariant {
            rust,
            wire: wire.clone(),
            docs: docs.get(wire).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Per-value docs from `x-enum-descriptions` and `x-enum-labels`.
fn variant_docs(map: &Map<String, Value>) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for key in ["x-enum-labels", "x-enum-descriptions"] {
        if let Some(Value::Object(entries)) = map.get(key) {
            for (value, text) in entries {
                if let Some(text) = text.as_str() {
                    out.entry(value.clone()).or_default().push(text.to_owned());
                }
            }
        }
    }
    out
}

fn as_int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}
