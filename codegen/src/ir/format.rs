//! String formats.
//!
//! | `format` | Rust |
//! |---|---|
//! | `uuid` | `uuid::Uuid` |
//! | `date` | `chrono::NaiveDate` |
//! | `date-time` | `chrono::DateTime<chrono::Utc>` (serialized RFC 3339 with `Z`) |
//! | anything else (`email`, `uri`, ...) | `String`, checked by runtime validation |

use serde_json::{Map, Value};

use super::Ty;

/// The Rust type of a `type: string` schema.
pub fn string_ty(map: &Map<String, Value>) -> Ty {
    match map.get("format").and_then(Value::as_str) {
        Some("uuid") => Ty::Uuid,
        Some("date") => Ty::Date,
        Some("date-time") => Ty::DateTime,
        _ => Ty::String,
    }
}
