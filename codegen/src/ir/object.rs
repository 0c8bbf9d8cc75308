//! Objects: `properties` + `required` become a struct, `additionalProperties` a map.
//!
//! | schema | Rust |
//! |---|---|
//! | required property | `T` |
//! | optional property | `Option<T>`, omitted when `None` |
//! | optional with `default` | `T` with a serde default function |
//! | required, `["T","null"]` | `Option<T>`, `null` when `None` |
//! | optional, `["T","null"]` | `Option<Option<T>>`: absent = `None`, null = `Some(None)` |
//! | `additionalProperties: false` | `#[serde(deny_unknown_fields)]` |
//! | no `properties`, `additionalProperties: S` | `BTreeMap<String, S>` (sorted: deterministic) |
//! | `properties` and `additionalProperties: S` | struct + flattened `additional_properties` map |
//! | `patternProperties` with one pattern `P` and `additionalProperties: false` | as `additionalProperties: P` (map, or struct + flattened map) |
//! | other `patternProperties` | map (or flattened map) of `serde_json::Value`, keys checked by validation |
//! | `propertyNames` | validation only (keys are `String`s) |
//!
//! Field names: see [`super::name`]; a non-ASCII property whose transliteration is already
//! taken is named by its 1-based position (`grosse_2`); other collisions are errors.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::lower::{Lowered, Lowerer};
use super::name::{field_name, type_name, unraw};
use super::{default, Field, Ty, TypeKind};
use crate::error::Result;
use crate::schema::{Catalog, Loc};

/// What `additionalProperties` says.
#[derive(Debug, Clone)]
pub enum Additional {
    /// Absent or `true`: unknown properties are ignored when deserializing.
    Open,
    /// `false`.
    Deny,
    /// A schema at this location.
    Schema(Loc),
    /// Any JSON value (several `patternProperties`, or patterns beside open or typed
    /// additional properties); runtime validation checks each key's schema.
    AnyValue,
}

impl Additional {
    /// Read `additionalProperties` (and `patternProperties`) of the schema at `loc`.
    pub fn of(loc: &Loc, map: &Map<String, Value>) -> Additional {
        if let Some(patterns) = map
            .get("patternProperties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
        {
            let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
            return match patterns.keys().next() {
                Some(only) if closed && patterns.len() == 1 => {
                    Additional::Schema(loc.child("patternProperties").child(only))
                }
                _ => Additional::AnyValue,
            };
        }
        match map.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Open,
            Some(Value::Bool(false)) => Additional::Deny,
            Some(_) => Additional::Schema(loc.child("additionalProperties")),
        }
    }
}

/// Properties in declared order (their order in the schema file) as (name, location).
///
/// The parsed JSON object is sorted by key, so the order comes from the source map: each
/// property's position in its file. Field order is the wire order of serialized payloads
/// and the order of the fields in the docs, so it follows the author, not the alphabet.
pub fn properties_of(cat: &Catalog, loc: &Loc, map: &Map<String, Value>) -> Vec<(String, Loc)> {
    let mut props: Vec<(String, Loc)> = map
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .keys()
                .map(|k| (k.clone(), loc.child("properties").child(k)))
                .collect()
        })
        .unwrap_or_default();
    props.sort_by_cached_key(|(_, ploc)| cat.position(ploc));
    props
}

/// `required` names with their locations.
pub fn required_of(loc: &Loc, map: &Map<String, Value>) -> Vec<(String, Loc)> {
    map.get("required")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    Some((
                        v.as_str()?.to_owned(),
                        loc.child("required").child(&i.to_string()),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The most properties one object (one generated struct) may have.
///
/// serde's derives expand a struct into code whose size grows with its fields, and rustc
/// needs deep recursion for very large ones: a 20,000-field struct crashes rustc (SIGSEGV,
/// stack overflow) and a few thousand take minutes to build. Larger objects are refused with
/// an error naming the object; split them into nested objects.
pub const MAX_PROPERTIES: usize = 2_000;

/// Lower an object schema.
pub fn lower(
    lw: &mut Lowerer<'_>,
    loc: &Loc,
    map: &Map<String, Value>,
    hint: &str,
) -> Result<Lowered> {
    let props = properties_of(lw.cat, loc, map);
    let additional = Additional::of(loc, map);
    if props.is_empty() {
        match &additional {
            Additional::Open => return Ok(Lowered::Ty(Ty::Map(Box::new(Ty::Any)))),
            Additional::Schema(value_loc) => {
                let value = lw.inline(value_loc, &format!("{hint}Value"))?;
                return Ok(Lowered::Ty(Ty::Map(Box::new(value))));
            }
            Additional::AnyValue => return Ok(Lowered::Ty(Ty::Map(Box::new(Ty::Any)))),
            Additional::Deny => {}
        }
    }
    let required = required_of(loc, map);
    let kind = build_struct(lw, hint, &props, &required, &additional, None)?;
    Ok(Lowered::Def {
        kind,
        nullable: false,
    })
}

/// Build a struct from (possibly merged) properties. `skip` drops a property (a tagged
/// enum's discriminator, which serde handles).
pub fn build_struct(
    lw: &mut Lowerer<'_>,
    hint: &str,
    props: &[(String, Loc)],
    required: &[(String, Loc)],
    additional: &Additional,
    skip: Option<&str>,
) -> Result<TypeKind> {
    if props.len() > MAX_PROPERTIES {
        let at = props[0]
            .1
            .pointer
            .rsplitn(3, '/')
            .nth(2)
            .unwrap_or_default();
        return Err(lw.cat.error(
            &Loc {
                doc: props[0].1.doc,
                pointer: at.to_owned(),
            },
            format!(
                "object has {} properties; the generator's limit is {MAX_PROPERTIES} per object (one Rust struct; rustc cannot build much larger derived structs); split it into nested objects",
                props.len()
            ),
        ));
    }
    let declared: BTreeSet<&str> = props.iter().map(|(n, _)| n.as_str()).collect();
    let required_names: BTreeSet<&str> = required.iter().map(|(n, _)| n.as_str()).collect();
    if !matches!(additional, Additional::Schema(_) | Additional::AnyValue) {
        for (name, at) in required {
            if !declared.contains(name.as_str()) {
                return Err(lw.cat.error(
                    at,
                    format!("required property `{name}` is not declared in `properties`"),
                ));
            }
        }
    }
    let names = field_names(lw, props, skip)?;
    let mut fields: Vec<Field> = Vec::with_capacity(props.len());
    for ((json_name, ploc), rust_name) in props.iter().zip(names) {
        let Some(rust_name) = rust_name else {
            continue;
        };
        let type_hint = if json_name.is_ascii() {
            type_name(json_name)
        } else {
            type_name(unraw(&rust_name))
        };
        let ty = lw.inline(ploc, &format!("{hint}{type_hint}"))?;
        let is_required = required_names.contains(json_name.as_str());
        let value = lw.cat.get(ploc);
        let default = match value.and_then(|v| v.get("default")) {
            Some(d) if !is_required => Some(default::check(lw, &ploc.child("default"), &ty, d)?),
            _ => None,
        };
        let docs = field_docs(lw, ploc, is_required);
        let pii = lw.is_pii(ploc);
        fields.push(Field {
            json_name: json_name.clone(),
            rust_name,
            ty,
            required: is_required,
            default,
            docs,
            pii,
            flatten: false,
        });
    }
    let (deny_unknown, extra) = match additional {
        Additional::Open => (false, None),
        Additional::Deny => (true, None),
        Additional::AnyValue => {
            if let Some((_, at)) = props
                .iter()
                .find(|(n, _)| field_name(n) == "additional_properties")
            {
                return Err(lw.cat.error(
                    at,
                    "a property named `additional_properties` collides with the map of additional properties",
                ));
            }
            (false, Some(Ty::Any))
        }
        Additional::Schema(value_loc) => {
            if fields
                .iter()
                .any(|f| f.rust_name == "additional_properties")
            {
                return Err(lw.cat.error(
                    value_loc,
                    "a property named `additional_properties` collides with the map of additional properties",
                ));
            }
            (false, Some(lw.inline(value_loc, &format!("{hint}Value"))?))
        }
    };
    Ok(TypeKind::Struct {
        fields,
        deny_unknown,
        additional: extra,
    })
}

/// The Rust field name of every property (`None` for the skipped one). ASCII names are
/// placed first, so a transliterated name never takes an ASCII property's name; a
/// transliteration that is taken gets the property's 1-based position as suffix.
fn field_names(
    lw: &Lowerer<'_>,
    props: &[(String, Loc)],
    skip: Option<&str>,
) -> Result<Vec<Option<String>>> {
    let mut names: Vec<Option<String>> = vec![None; props.len()];
    let mut used: HashMap<String, usize> = HashMap::with_capacity(props.len());
    for ascii in [true, false] {
        for (position, (json_name, ploc)) in props.iter().enumerate() {
            if json_name.is_ascii() != ascii || Some(json_name.as_str()) == skip {
                continue;
            }
            let mut rust_name = field_name(json_name);
            if !ascii && used.contains_key(&rust_name) {
                rust_name = format!("{}_{}", unraw(&rust_name), position + 1);
            }
            if let Some(&other) = used.get(&rust_name) {
                return Err(lw.cat.error(
                    ploc,
                    format!(
                        "field name collision: properties `{}` and `{json_name}` both become `{}`",
                        props[other].0,
                        unraw(&rust_name)
                    ),
                ));
            }
            used.insert(rust_name.clone(), position);
            names[position] = Some(rust_name);
        }
    }
    Ok(names)
}

/// Doc paragraphs for a property: description, then notes on constraints and privacy.
fn field_docs(lw: &Lowerer<'_>, loc: &Loc, required: bool) -> Vec<String> {
    let mut docs = Vec::new();
    let Some(value) = lw.cat.get(loc) else {
        return docs;
    };
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    match (text("title"), text("description")) {
        (Some(t), Some(d)) => {
            docs.push(t);
            docs.push(d);
        }
        (Some(t), None) => docs.push(t),
        (None, Some(d)) => docs.push(d),
        (None, None) => {
            // Every public field gets a doc line, so `#![deny(missing_docs)]` crates compile.
            let name = loc.pointer.rsplit('/').next().unwrap_or_default();
            let name = name.replace("~1", "/").replace("~0", "~").replace('`', "'");
            docs.push(format!("The `{name}` property."));
        }
    }
    let mut notes = Vec::new();
    if !required && value.get("default").is_some() {
        notes.push(format!("default `{}`", compact(&value["default"])));
    }
    if let Some(c) = value.get("const") {
        notes.push(format!("always `{}`", compact(c)));
    }
    for key in [
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    ] {
        if let Some(v) = value.get(key) {
            notes.push(format!("{key} `{}`", compact(v)));
        }
    }
    if value.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
        notes.push("items are unique".to_owned());
    }
    if !notes.is_empty() {
        docs.push(format!(
            "Schema: {} (checked by validation).",
            notes.join(", ")
        ));
    }
    if value.get("deprecated").and_then(Value::as_bool) == Some(true) {
        docs.push("Deprecated.".to_owned());
    }
    if lw.is_pii(loc) {
        docs.push("Personal data (`x-pii`): shown as `<redacted>` by `Debug`.".to_owned());
    }
    docs
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    // Backticks would end the inline code span.
    s.replace('`', "'")
}
