//! `default` values on optional properties.
//!
//! The field keeps its plain type `T` and gets `#[serde(default = "..")]` with a generated
//! function returning the value, so a consumer never sees `None` for a defaulted property.
//! Serialization always writes the field. Supported values: booleans, numbers, strings, values
//! of generated string enums, arrays of those, `null` for nullable fields, `{}` for maps, and
//! `uuid` / `date` / `date-time` strings (checked against their format when generating, then
//! parsed by the generated default function).

use serde_json::Value;

use super::lower::Lowerer;
use super::{integer, DefaultValue, Ty, TypeKind};
use crate::error::Result;
use crate::schema::Loc;

/// Check `value` against `ty`; `loc` is the `default` keyword's location.
pub fn check(lw: &Lowerer<'_>, loc: &Loc, ty: &Ty, value: &Value) -> Result<DefaultValue> {
    convert(lw, ty, value).ok_or_else(|| {
        lw.cat.error(
            loc,
            "`default` does not fit the property's type (or is not supported for it)",
        )
    })
}

/// Whether `text` is a valid `format` string, by the runtime validator's own format checks.
fn valid_format(format: &str, text: &str) -> bool {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::json!({ "format": format }))
        .is_ok_and(|v| v.is_valid(&Value::String(text.to_owned())))
}

fn convert(lw: &Lowerer<'_>, ty: &Ty, value: &Value) -> Option<DefaultValue> {
    Some(match (ty, value) {
        (Ty::Nullable(_), Value::Null) => DefaultValue::Null,
        (Ty::Nullable(inner), v) => DefaultValue::Some(Box::new(convert(lw, inner, v)?)),
        (Ty::Boxed(inner), v) => convert(lw, inner, v)?,
        (Ty::Bool, Value::Bool(b)) => DefaultValue::Bool(*b),
        (Ty::Int(w), Value::Number(n)) => {
            let i = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))?;
            let (lo, hi) = integer::range(*w);
            if i < lo || i > hi {
                return None;
            }
            DefaultValue::Int(i)
        }
        (Ty::F64, Value::Number(n)) => DefaultValue::Float(n.as_f64()?),
        (Ty::String, Value::String(s)) => DefaultValue::Str(s.clone()),
        (Ty::Uuid, Value::String(s)) if valid_format("uuid", s) => {
            DefaultValue::Parsed(ty.clone(), s.clone())
        }
        (Ty::Date, Value::String(s)) if valid_format("date", s) => {
            DefaultValue::Parsed(ty.clone(), s.clone())
        }
        (Ty::DateTime, Value::String(s)) if valid_format("date-time", s) => {
            DefaultValue::Parsed(ty.clone(), s.clone())
        }
        (Ty::Vec(inner), Value::Array(items)) => DefaultValue::List(
            items
                .iter()
                .map(|v| convert(lw, inner, v))
                .collect::<Option<_>>()?,
        ),
        (Ty::Map(_), Value::Object(m)) if m.is_empty() => DefaultValue::Empty,
        (Ty::Named(name), v) => match &lw.types.get(name)?.kind {
            TypeKind::StringEnum(variants) => {
                let s = v.as_str()?;
                let variant = variants.iter().find(|x| x.wire == s)?;
                DefaultValue::Variant(name.clone(), variant.rust.clone())
            }
            TypeKind::Alias(inner) => convert(lw, inner, v)?,
            _ => return None,
        },
        _ => return None,
    })
}
