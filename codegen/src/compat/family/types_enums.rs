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
//! Enum membership is exact JSON Schema equality (`EnumFacet`, in `values.rs`).

use super::super::checker::{short, Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::values::EnumFacet;
use super::super::CompatError;
use serde_json::Value;
use std::borrow::Cow;

/// Collects this family's keywords of one schema object into `n`: `type`, `const`, `enum`: types intersect, enum values intersect.
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let obj = s.obj;
    if let Some(t) = obj.get("type") {
        let bits = match t {
            Value::String(s) => type_bits(s),
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(type_bits)
                .fold(0, |x, y| x | y),
            _ => return Err(s.bad("type", "must be a string or an array of strings")),
        };
        n.types &= bits;
        n.types_loc.get_or_insert(s.at("type"));
    }
    let mut enum_vals: Option<EnumFacet> = None;
    if let Some(c) = obj.get("const") {
        enum_vals = Some(EnumFacet::new(vec![c.clone()], s.at("const"), true));
    }
    if let Some(e) = obj.get("enum") {
        let vals = e
            .as_array()
            .ok_or_else(|| s.bad("enum", "must be an array"))?
            .clone();
        let listed = EnumFacet::new(vals, s.at("enum"), false);
        enum_vals = Some(match enum_vals {
            Some(c) => c.intersect(&listed, true),
            None => listed,
        });
    }
    if let Some(facet) = enum_vals {
        let is_const = facet.is_const;
        n.enum_ = Some(match n.enum_.take() {
            Some(prev) => prev.intersect(&facet, is_const),
            None => facet,
        });
    }
    Ok(())
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
                if ctx.accepts(a, v) == Some(false) || nb.types & bits_of(v) == 0 {
                    continue;
                }
                let al = na
                    .enum_
                    .as_ref()
                    .map(|e| e.loc.clone())
                    .unwrap_or(na.loc.clone());
                match ctx.accepts(b, v) {
                    Some(true) => {}
                    r => {
                        let in_b_enum = nb.enum_.as_ref().map(|e| e.contains(v));
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
                        let shown = short(v);
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
