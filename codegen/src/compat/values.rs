//! JSON Schema equality of instance values, for `enum` and `const`.
//!
//! [`EnumFacet`] keeps the allowed values in schema order (for messages and candidates) plus a
//! hash index of their canonical form, so membership is O(1) and comparing two enums of n
//! values is O(n), not O(n²). The canonical form follows JSON Schema equality: numbers by
//! exact value (`1` equals `1.0`), objects regardless of key order.

use super::family::Loc;
use super::number::Dec;
use serde_json::Value;
use std::collections::HashSet;

/// The values an `enum`/`const` (or several, intersected) allows.
#[derive(Debug, Clone)]
pub(crate) struct EnumFacet {
    /// Allowed values, in the order of the first schema that listed them.
    pub values: Vec<Value>,
    /// Where the (first) `enum`/`const` is.
    pub loc: Loc,
    /// Every contributing keyword was a `const`.
    pub is_const: bool,
    index: HashSet<String>,
}

impl EnumFacet {
    pub fn new(values: Vec<Value>, loc: Loc, is_const: bool) -> EnumFacet {
        let index = values.iter().map(canonical).collect();
        EnumFacet {
            values,
            loc,
            is_const,
            index,
        }
    }

    /// Whether `v` equals (by JSON Schema equality) an allowed value.
    pub fn contains(&self, v: &Value) -> bool {
        self.index.contains(&canonical(v))
    }

    /// Keeps only the values `other` also allows.
    pub fn intersect(self, other: &EnumFacet, is_const: bool) -> EnumFacet {
        let values = self
            .values
            .into_iter()
            .filter(|v| other.contains(v))
            .collect();
        EnumFacet::new(values, self.loc, self.is_const && is_const)
    }

    /// Keeps only the values `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&Value) -> bool) {
        let before = self.values.len();
        self.values.retain(keep);
        if self.values.len() != before {
            self.index = self.values.iter().map(canonical).collect();
        }
    }
}

/// A text equal for two values exactly when JSON Schema calls them equal.
///
/// Each type has its own first character, so forms of different types never collide; a
/// top-level string is its text after `"` (no escaping needed: nothing follows it), which
/// keeps the common case, an enum of strings, to one copy.
pub(crate) fn canonical(v: &Value) -> String {
    if let Value::String(s) = v {
        let mut out = String::with_capacity(s.len() + 1);
        out.push('"');
        out.push_str(s);
        return out;
    }
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push('n'),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => {
            out.push('#');
            out.push_str(&Dec::of(n).to_string());
        }
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_is_json_schema_equality() {
        assert_eq!(canonical(&json!(1)), canonical(&json!(1.0)));
        assert_ne!(
            canonical(&json!(9007199254740993u64)),
            canonical(&json!(9007199254740992.0))
        );
        assert_eq!(
            canonical(&json!({"a": 1, "b": [2.0]})),
            canonical(&json!({"b": [2], "a": 1.0}))
        );
        assert_ne!(canonical(&json!("1")), canonical(&json!(1)));
        assert_ne!(canonical(&json!(["a,b"])), canonical(&json!(["a", "b"])));
        assert_ne!(canonical(&json!("[1]")), canonical(&json!([1])));
        assert_ne!(canonical(&json!("n")), canonical(&Value::Null));
        assert_eq!(canonical(&json!("a\"b")), canonical(&json!("a\"b")));
    }
}
