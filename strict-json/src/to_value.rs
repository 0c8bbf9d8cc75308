//! Serializing into a [`Value`] while refusing duplicate keys: the writing side of this
//! crate's rule.
//!
//! A type's own `Serialize` can write a key twice: a `#[serde(flatten)]` map beside a
//! declared field of the same name writes both, and `serde_json::to_writer` puts both on the
//! wire. `serde_json::to_value` hides it (the map keeps the last value), so validating its
//! result would pass an event every strict reader refuses. [`to_value`] builds the same
//! [`Value`] as `serde_json::to_value`, but an object that receives a key twice fails with
//! [`ToValueError::DuplicateKey`] and the key's JSON pointer: exactly the documents
//! [`from_slice`](crate::from_slice) would refuse after `serde_json::to_writer`, without
//! writing and re-parsing the bytes.
//!
//! ```
//! #[derive(serde::Serialize)]
//! struct Tagged {
//!     id: u64,
//!     #[serde(flatten)]
//!     extra: std::collections::BTreeMap<String, u64>,
//! }
//! let twice = Tagged { id: 1, extra: [("id".to_owned(), 9)].into() };
//! let err = pmp_strict_json::to_value(&twice).unwrap_err();
//! assert_eq!(err.duplicate_pointer(), Some("/id"));
//! ```
//!
//! Numbers: an `f32` becomes the `f64` of its shortest decimal form (`0.1f32` is `0.1`, what
//! a reader of `to_writer`'s output sees), not its widened binary value. Everything else
//! follows `serde_json::value::Serializer`, which leaves and map keys are delegated to.

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

/// Why [`to_value`] failed.
#[derive(Debug)]
pub enum ToValueError {
    /// An object received the same key twice.
    DuplicateKey {
        /// JSON pointer of the repeated member (`/a/b` for a second `b` in `a`).
        pointer: String,
    },
    /// The value cannot be represented as JSON (`serde_json`'s own error, e.g. a map key
    /// that is not a string).
    Serialize(serde_json::Error),
}

impl ToValueError {
    /// The pointer of the repeated key, for [`ToValueError::DuplicateKey`].
    pub fn duplicate_pointer(&self) -> Option<&str> {
        match self {
            ToValueError::DuplicateKey { pointer } => Some(pointer),
            ToValueError::Serialize(_) => None,
        }
    }
}

impl fmt::Display for ToValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToValueError::DuplicateKey { pointer } => write!(
                f,
                "duplicate key at #{pointer}: an object has this key more than once (JSON parsers disagree on which value wins)"
            ),
            ToValueError::Serialize(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ToValueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ToValueError::Serialize(e) => Some(e),
            ToValueError::DuplicateKey { .. } => None,
        }
    }
}

/// Serialize `value` into a [`Value`], refusing a key written twice into one object (at any
/// depth), e.g. by a `#[serde(flatten)]` map that repeats a declared field: that fails with
/// [`ToValueError::DuplicateKey`] and the key's JSON pointer, exactly where
/// [`from_slice`](crate::from_slice) would fail on `serde_json::to_writer`'s output.
/// Otherwise the result is `serde_json::to_value`'s, except that an `f32` becomes the `f64`
/// of its shortest decimal form (what a reader of the written JSON sees).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ToValueError> {
    value.serialize(Checked).map_err(|e| match e.reversed_path {
        Some(path) => ToValueError::DuplicateKey {
            pointer: pointer(&path),
        },
        None => ToValueError::Serialize(e.inner),
    })
}

fn pointer(reversed_path: &[String]) -> String {
    let mut out = String::new();
    for segment in reversed_path.iter().rev() {
        out.push('/');
        out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// The serializer's error: `serde_json`'s, plus the path of a duplicate (innermost segment
/// first, extended while the error unwinds, so success pays nothing for it).
#[derive(Debug)]
struct CheckError {
    inner: serde_json::Error,
    reversed_path: Option<Vec<String>>,
}

impl CheckError {
    fn duplicate(key: String) -> CheckError {
        CheckError {
            inner: ser::Error::custom("duplicate object key"),
            reversed_path: Some(vec![key]),
        }
    }

    fn within(mut self, segment: impl fmt::Display) -> CheckError {
        if let Some(path) = &mut self.reversed_path {
            path.push(segment.to_string());
        }
        self
    }
}

impl From<serde_json::Error> for CheckError {
    fn from(inner: serde_json::Error) -> Self {
        CheckError {
            inner,
            reversed_path: None,
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl std::error::Error for CheckError {}

impl ser::Error for CheckError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        serde_json::Error::custom(msg).into()
    }
}

/// `serde_json::value::Serializer` for leaves.
use serde_json::value::Serializer as Leaf;

struct Checked;

fn insert(map: &mut Map<String, Value>, key: String, value: Value) -> Result<(), CheckError> {
    match map.entry(key) {
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(value);
            Ok(())
        }
        serde_json::map::Entry::Occupied(slot) => Err(CheckError::duplicate(slot.key().clone())),
    }
}

fn member<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Value, CheckError> {
    value.serialize(Checked).map_err(|e| e.within(key))
}

/// A map key as `serde_json` writes it: strings as they are, numbers and booleans quoted.
fn map_key<T: Serialize + ?Sized>(key: &T) -> Result<String, CheckError> {
    match key.serialize(Leaf)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ser::Error::custom("key must be a string")),
    }
}

impl ser::Serializer for Checked {
    type Ok = Value;
    type Error = CheckError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = VariantSeq;
    type SerializeMap = Object;
    type SerializeStruct = Object;
    type SerializeStructVariant = VariantObject;

    fn serialize_bool(self, v: bool) -> Result<Value, CheckError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<Value, CheckError> {
        Ok(ser::Serializer::serialize_i128(Leaf, v)?)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Value, CheckError> {
        Ok(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<Value, CheckError> {
        Ok(ser::Serializer::serialize_u128(Leaf, v)?)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, CheckError> {
        // The shortest decimal form, read back as f64: what the wire says.
        let wide = v.to_string().parse::<f64>().unwrap_or(f64::from(v));
        Ok(ser::Serializer::serialize_f64(Leaf, wide)?)
    }
    fn serialize_f64(self, v: f64) -> Result<Value, CheckError> {
        Ok(ser::Serializer::serialize_f64(Leaf, v)?)
    }
    fn serialize_char(self, v: char) -> Result<Value, CheckError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, CheckError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, CheckError> {
        Ok(ser::Serializer::serialize_bytes(Leaf, v)?)
    }
    fn serialize_none(self) -> Result<Value, CheckError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, CheckError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, CheckError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, CheckError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, CheckError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, CheckError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, CheckError> {
        let mut map = Map::new();
        map.insert(variant.to_owned(), member(variant, value)?);
        Ok(Value::Object(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, CheckError> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, CheckError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, CheckError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSeq, CheckError> {
        Ok(VariantSeq {
            variant,
            items: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object, CheckError> {
        Ok(Object {
            map: Map::new(),
            next_key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object, CheckError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantObject, CheckError> {
        Ok(VariantObject {
            variant,
            fields: self.serialize_map(Some(len))?,
        })
    }
}

struct Seq(Vec<Value>);

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        let index = self.0.len();
        self.0
            .push(value.serialize(Checked).map_err(|e| e.within(index))?);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, CheckError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, CheckError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, CheckError> {
        Ok(Value::Array(self.0))
    }
}

struct VariantSeq {
    variant: &'static str,
    items: Seq,
}

impl ser::SerializeTupleVariant for VariantSeq {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        let variant = self.variant;
        self.items.push(value).map_err(|e| e.within(variant))
    }
    fn end(self) -> Result<Value, CheckError> {
        let mut map = Map::new();
        map.insert(self.variant.to_owned(), Value::Array(self.items.0));
        Ok(Value::Object(map))
    }
}

struct Object {
    map: Map<String, Value>,
    next_key: Option<String>,
}

impl Object {
    fn field<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), CheckError> {
        let value = member(&key, value)?;
        insert(&mut self.map, key, value)
    }
}

impl ser::SerializeMap for Object {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CheckError> {
        self.next_key = Some(map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CheckError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| <CheckError as ser::Error>::custom("value before key"))?;
        self.field(key, value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), CheckError> {
        let key = map_key(key)?;
        self.field(key, value)
    }
    fn end(self) -> Result<Value, CheckError> {
        Ok(Value::Object(self.map))
    }
}

impl ser::SerializeStruct for Object {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CheckError> {
        self.field(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, CheckError> {
        Ok(Value::Object(self.map))
    }
}

struct VariantObject {
    variant: &'static str,
    fields: Object,
}

impl ser::SerializeStructVariant for VariantObject {
    type Ok = Value;
    type Error = CheckError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CheckError> {
        let variant = self.variant;
        self.fields
            .field(key.to_owned(), value)
            .map_err(|e| e.within(variant))
    }
    fn end(self) -> Result<Value, CheckError> {
        let mut map = Map::new();
        map.insert(self.variant.to_owned(), Value::Object(self.fields.map));
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Inner {
        k: u8,
        #[serde(flatten)]
        more: BTreeMap<String, u8>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Dot,
        Circle(f64),
        Pair(u8, String),
        Boxed { w: u8, h: Option<u8> },
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        list: Vec<Inner>,
        shapes: Vec<Shape>,
        counts: HashMap<u32, bool>,
        bytes: Vec<u8>,
        small: f32,
        big: u128,
        neg: i128,
        unit: (),
        nested: Option<Box<Outer>>,
    }

    fn sample(more: BTreeMap<String, u8>) -> Outer {
        Outer {
            name: "a/b~".into(),
            list: vec![
                Inner {
                    k: 1,
                    more: BTreeMap::new(),
                },
                Inner { k: 2, more },
            ],
            shapes: vec![
                Shape::Dot,
                Shape::Circle(1.5),
                Shape::Pair(3, "x".into()),
                Shape::Boxed { w: 1, h: None },
            ],
            counts: HashMap::from([(7, true)]),
            bytes: vec![1, 2],
            small: 0.1,
            big: u128::from(u64::MAX),
            neg: -5,
            unit: (),
            nested: None,
        }
    }

    #[test]
    fn same_value_as_the_wire_bytes_read_back() {
        let value = sample(BTreeMap::from([("other".into(), 3)]));
        let checked = to_value(&value).unwrap();
        let wire: Value = serde_json::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(checked, wire);
        assert_eq!(checked["small"], serde_json::json!(0.1));
    }

    #[test]
    fn a_key_written_twice_is_refused_with_its_pointer() {
        let value = sample(BTreeMap::from([("k".into(), 9)]));
        let err = to_value(&value).unwrap_err();
        assert_eq!(err.duplicate_pointer(), Some("/list/1/k"), "{err}");
        assert!(err.to_string().contains("#/list/1/k"), "{err}");
        // What the strict parser says about the same bytes.
        let parsed = crate::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert_eq!(parsed.duplicate_pointer(), err.duplicate_pointer());
    }

    #[test]
    fn pointers_escape_and_name_variants() {
        #[derive(Serialize)]
        enum E {
            V { inner: Inner },
        }
        let inner = Inner {
            k: 1,
            more: BTreeMap::from([("k".into(), 2)]),
        };
        let mut outer = BTreeMap::new();
        outer.insert("a/b~", E::V { inner });
        let err = to_value(&outer).unwrap_err();
        assert_eq!(err.duplicate_pointer(), Some("/a~1b~0/V/inner/k"));
    }

    #[test]
    fn unrepresentable_values_are_serialize_errors() {
        let map = BTreeMap::from([(vec![1u8], 1u8)]);
        let err = to_value(&map).unwrap_err();
        assert!(matches!(err, ToValueError::Serialize(_)), "{err:?}");
        assert!(serde_json::to_value(&map).is_err());
    }
}
