//! Types and values: `type`, `enum`, `const`.
//!
//! Rules (A ⊆ B):
//! * `type`: every JSON type A allows must be allowed by B (`integer` ⊂ `number`; a type
//!   array is a set). A type B lacks narrows (`type-narrowed`); the reverse widens.
//! * A finite A (an `enum`/`const`, or a schema allowing only `null`/booleans) is decided
//!   value by value: each value A accepts must be accepted by the whole of B, so the verdict
//!   is exact. A value B's enum lacks is `enum-value-removed` (`const-changed` between two
//!   `const`s, `enum-added` when A had no enum); a value another keyword of B rejects (B's
//!   enum, if any, lists it) is `enum-value-rejected`. Values the local evaluator cannot judge make the
//!   finding unknown.
//! * An `enum`/`const` in B over an A that has none narrows (`enum-added`).
//!
//! [`EnumFacet`] keeps the allowed values in schema order (for messages and candidates) plus a
//! hash index of their canonical form, so membership is O(1) and comparing two enums of n
//! values is O(n), not O(n²). The canonical form follows JSON Schema equality: numbers by
//! exact value (`1` equals `1.0`), objects regardless of key order.

use super::super::checker::{short, Checker, Raw};
use super::super::norm::*;
use super::super::number::Dec;
use super::super::rules;
use super::Loc;
use serde_json::Value;
use std::borrow::Cow;
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

impl Checker<'_, '_> {
    /// `type`: every JSON type A allows and B does not is a `type-*` finding, with instances
    /// of the missing types as candidates.
    pub(crate) fn types(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
        let ctx = self.ctx;
        let missing = na.types & !nb.types;
        if missing != 0 {
            let mut cands = Vec::new();
            for t in [OBJ, STR, INT, NUM, ARR, BOOL, NULL] {
                if missing & t != 0 {
                    let at = a.with(SRef::Type(t));
                    if let Some(v) = ctx.generate(&at) {
                        cands.push(v);
                    }
                    cands.extend(ctx.candidates(&at, na, t, 0));
                }
            }
            let w = self.witnesses(a, b, cands, None);
            let bl = nb.types_loc.clone().unwrap_or(nb.loc.clone());
            let al = na.types_loc.clone().unwrap_or(na.loc.clone());
            out.push(self.raw(
                rules::TYPE,
                false,
                &al,
                &bl,
                format!(
                    "type: {{A}} accepts {}, {{B}} only {}",
                    type_names(na.types),
                    type_names(nb.types)
                ),
                w,
            ));
        }
    }

    /// `enum`/`const`. A finite A (an enum, or only `null`/booleans) is decided value by value
    /// against the whole of B, and `true` is returned: nothing else needs comparing. Otherwise
    /// an enum in B restricting an unrestricted A is `enum-added`.
    pub(crate) fn enums(
        &self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) -> bool {
        let ctx = self.ctx;
        // Enumerations: a finite A is decided value by value.
        let finite: Option<Cow<'_, [Value]>> = match &na.enum_ {
            Some(e) => Some(Cow::Borrowed(&e.values)),
            // Booleans/null are enumerated too, unless B's disjunctions will judge them
            // (then `branch-*` names the change better than a per-value finding).
            None if na.types & !(NULL | BOOL) == 0 && nb.disj.is_empty() => {
                let mut v = Vec::new();
                if na.types & NULL != 0 {
                    v.push(Value::Null);
                }
                if na.types & BOOL != 0 {
                    v.extend([Value::Bool(false), Value::Bool(true)]);
                }
                Some(Cow::Owned(v))
            }
            None => None,
        };
        if let Some(vals) = finite {
            for v in vals.iter() {
                if ctx.accepts(a, &v) == Some(false) || nb.types & bits_of(&v) == 0 {
                    continue;
                }
                let al = na
                    .enum_
                    .as_ref()
                    .map(|e| e.loc.clone())
                    .unwrap_or(na.loc.clone());
                match ctx.accepts(b, &v) {
                    Some(true) => {}
                    r => {
                        let in_b_enum = nb.enum_.as_ref().map(|e| e.contains(&v));
                        let (rule, bl) = match &nb.enum_ {
                            Some(e)
                                if e.is_const
                                    && na.enum_.as_ref().is_some_and(|e| e.is_const)
                                    && in_b_enum == Some(false) =>
                            {
                                (rules::CONST, e.loc.clone())
                            }
                            Some(e) if in_b_enum == Some(false) => (
                                if na.enum_.is_some() {
                                    rules::ENUM_VALUE
                                } else {
                                    rules::ENUM_ADDED
                                },
                                e.loc.clone(),
                            ),
                            _ => (rules::ENUM_REJECTED, nb.loc.clone()),
                        };
                        let shown = short(&v);
                        if r.is_none() {
                            out.push(self.raw(rule, true, &al, &bl, format!("cannot evaluate whether {{B}} accepts value {shown} allowed by {{A}}"), vec![]));
                        } else {
                            let w = self.witnesses(a, b, vec![v.clone()], None);
                            out.push(self.raw(
                                rule,
                                false,
                                &al,
                                &bl,
                                format!("value {shown} is allowed by {{A}} but rejected by {{B}}"),
                                w,
                            ));
                        }
                    }
                }
            }
            return true;
        }
        if let Some(listed) = &nb.enum_ {
            let mut cands = self.all_candidates(a, na);
            cands.extend([
                Value::from("zz-not-listed"),
                Value::from(987654),
                Value::from(-3),
            ]);
            let w = self.witnesses(a, b, cands, Some(&|v: &Value| listed.contains(v)));
            out.push(self.raw(
                rules::ENUM_ADDED,
                false,
                &na.loc,
                &listed.loc,
                format!(
                    "{{B}} restricts the value to {} listed value(s); {{A}} does not",
                    listed.values.len()
                ),
                w,
            ));
        }
        false
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
