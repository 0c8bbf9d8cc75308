//! JSON parsing that rejects duplicate object keys, at any depth.
//!
//! RFC 8259 only says keys *should* be unique, and parsers disagree on what a duplicate
//! means: `serde_json` (like most) keeps the last value, others keep the first or refuse.
//! `{"event_type":"patient.teleported", …, "event_type":"patient.deleted"}` would then be
//! routed one way by this toolkit and another way by a tool reading the first value: a
//! parser differential, which is a security problem for events about patients. So every
//! JSON document the toolkit reads as data or as a schema goes through this crate:
//!
//! - the runtime's envelope parser (consumer: class `duplicate_key` with the pointer in
//!   `dlq.pointer`);
//! - the generator's schema loader, and `eventctl`'s compat, lint and topic readers.
//!
//! Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key), because
//! that is what every parser sees. Finding duplicates costs nothing extra on top of
//! building the [`Value`]: each insert into the object map reports whether the key was
//! already there. The JSON pointer is built only when a duplicate is found, while the
//! error unwinds.
//!
//! ```
//! let err = pmp_strict_json::from_str(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
//! assert_eq!(err.duplicate_pointer(), Some("/a/b"));
//! assert!(pmp_strict_json::from_str(r#"{"a": [{"b": 1}, {"b": 2}]}"#).is_ok());
//! ```
//!
//! To parse straight into your own type while still checking a `Value` field (or unknown
//! fields) for duplicates, deserialize that field with [`ValueSeed`] and one
//! [`DuplicateTracker`] for the whole document; [`DuplicateTracker::into_error`] turns the
//! deserializer's error into an [`Error`] naming the pointer.
//!
//! The writing side: [`to_value`] serializes into a [`Value`] and refuses a key written
//! twice (a `#[serde(flatten)]` map repeating a declared field), so the producer validates
//! what it is about to send without writing and re-parsing it.

mod to_value;

pub use to_value::{to_value, ToValueError};

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Why a document was refused.
#[derive(Debug)]
pub enum Error {
    /// Not JSON (the `serde_json` error, with its line and column).
    Syntax(serde_json::Error),
    /// An object has the same key twice.
    DuplicateKey {
        /// JSON pointer of the duplicated member (`/a/b` for the second `b` in `a`).
        pointer: String,
        /// 1-based line where the parser noticed it (just after the second value).
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

impl Error {
    /// The pointer of the duplicated key, for [`Error::DuplicateKey`].
    pub fn duplicate_pointer(&self) -> Option<&str> {
        match self {
            Error::DuplicateKey { pointer, .. } => Some(pointer),
            Error::Syntax(_) => None,
        }
    }

    /// 1-based (line, column) of the problem.
    pub fn position(&self) -> (usize, usize) {
        match self {
            Error::Syntax(e) => (e.line(), e.column()),
            Error::DuplicateKey { line, column, .. } => (*line, *column),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(e) => e.fmt(f),
            Error::DuplicateKey { pointer, .. } => write!(
                f,
                "duplicate key at #{pointer}: an object has this key more than once (JSON parsers disagree on which value wins)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Syntax(e) => Some(e),
            Error::DuplicateKey { .. } => None,
        }
    }
}

/// Parse `text` into a [`Value`], refusing duplicate keys at any depth.
pub fn from_str(text: &str) -> Result<Value, Error> {
    from_slice(text.as_bytes())
}

/// Parse `bytes` into a [`Value`], refusing duplicate keys at any depth.
pub fn from_slice(bytes: &[u8]) -> Result<Value, Error> {
    let mut tracker = DuplicateTracker::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    ValueSeed(&mut tracker)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| tracker.into_error(e))
}

/// Where a duplicate key was found, if one was. One tracker serves a whole document; the
/// path is collected while the error unwinds (innermost segment first), so the happy path
/// allocates nothing for it.
#[derive(Debug, Default)]
pub struct DuplicateTracker {
    reversed_path: Option<Vec<String>>,
}

impl DuplicateTracker {
    /// Record that the object being read has `key` a second time; returns the error to
    /// return from the visitor.
    pub fn duplicate<E: de::Error>(&mut self, key: &str) -> E {
        self.reversed_path = Some(vec![key.to_owned()]);
        E::custom("duplicate object key")
    }

    /// Call while an error from reading member `segment` (an object key or an array
    /// index) of the enclosing value passes through: extends the pointer of a duplicate.
    pub fn within(&mut self, segment: impl fmt::Display) {
        if let Some(path) = &mut self.reversed_path {
            path.push(segment.to_string());
        }
    }

    /// The JSON pointer of the duplicate, when one was found.
    pub fn pointer(&self) -> Option<String> {
        self.reversed_path.as_ref().map(|path| {
            let mut out = String::new();
            for segment in path.iter().rev() {
                out.push('/');
                out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
            }
            out
        })
    }

    /// The [`Error`] for a failed parse: [`Error::DuplicateKey`] when this tracker saw one,
    /// otherwise the syntax (or type) error itself.
    pub fn into_error(self, e: serde_json::Error) -> Error {
        match self.pointer() {
            Some(pointer) => Error::DuplicateKey {
                pointer,
                line: e.line(),
                column: e.column(),
            },
            None => Error::Syntax(e),
        }
    }
}

/// Deserializes any JSON value into a [`Value`], failing on a duplicate key and recording
/// where in its tracker.
pub struct ValueSeed<'a>(pub &'a mut DuplicateTracker);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor(self.0))
    }
}

struct ValueVisitor<'a>(&'a mut DuplicateTracker);

impl<'de> Visitor<'de> for ValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        ValueSeed(self.0).deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            match seq.next_element_seed(ValueSeed(&mut *self.0)) {
                Ok(Some(v)) => items.push(v),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.0.within(items.len());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value_seed(ValueSeed(&mut *self.0)) {
                Ok(v) => v,
                Err(e) => {
                    self.0.within(&key);
                    return Err(e);
                }
            };
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => return Err(self.0.duplicate(slot.key())),
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(text: &str) -> Option<String> {
        from_str(text)
            .err()
            .and_then(|e| e.duplicate_pointer().map(str::to_owned))
    }

    #[test]
    fn duplicates_at_any_depth_name_their_pointer() {
        assert_eq!(dup(r#"{"a":1,"a":2}"#).as_deref(), Some("/a"));
        assert_eq!(
            dup(r#"{"p":{"x":[0,{"k":1,"k":1}]}}"#).as_deref(),
            Some("/p/x/1/k")
        );
        assert_eq!(
            dup(r#"[{}, {"a/b~":1,"a/b~":2}]"#).as_deref(),
            Some("/1/a~1b~0")
        );
        // Escapes are compared after decoding, as every parser sees them.
        assert_eq!(dup(r#"{"a":1,"\u0061":2}"#).as_deref(), Some("/a"));
    }

    #[test]
    fn same_keys_in_different_objects_are_fine_and_values_round_trip() {
        let text = r#"{"a":{"k":1},"b":{"k":[1.5,-2,true,null,"s",18446744073709551615]}}"#;
        let strict = from_str(text).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        let e = from_str("{\n  \"a\": }").unwrap_err();
        assert!(matches!(e, Error::Syntax(_)), "{e:?}");
        assert_eq!(e.position().0, 2);
        assert!(matches!(from_str("{} x"), Err(Error::Syntax(_))));
        let e = from_str("{\"a\":1,\n\"a\":2}").unwrap_err();
        assert_eq!(e.position().0, 2);
        assert!(e.to_string().contains("#/a"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(matches!(from_str(&deep), Err(Error::Syntax(_))));
    }
}
