//! `default` values on optional properties.
//!
//! The field keeps its plain type `T` and gets `#[serde(default = "..")]` with a generated
//! function returning the value, so a consumer never sees `None` for a defaulted property.
//! Serialization always writes the field. Supported values: booleans, numbers, strings, values
//! of generated string enums, arrays of those, `null` for nullable fields and `{}` for maps.

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
