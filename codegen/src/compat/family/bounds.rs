//! The one bound check for counted sizes: string length (`minLength`/`maxLength`), array
//! length (`minItems`/`maxItems`) and object size (`minProperties`/`maxProperties`).
//!
//! A's documents fit B's lower bound when A's own lower bound (0 when absent) reaches it, and
//! B's upper bound when A's own upper bound exists and stays under it. Otherwise the finding
//! carries candidates of the sizes that break B (`bmin - 1` and A's minimum; `bmax + 1`),
//! built by the family, and keeps those whose counted size B rejects.

use super::super::checker::{Checker, Raw};
use super::super::norm::{Conj, Loc};
use super::super::rules::Rule;
use serde_json::Value;

/// One family's pair of size keywords, as A and B state them.
pub(crate) struct SizeBounds<'x> {
    /// Keyword names, for messages (`minLength`, `maxLength`).
    pub keywords: (&'static str, &'static str),
    /// Rules for a raised lower bound and a lowered upper bound.
    pub rules: (Rule, Rule),
    pub a_min: &'x Option<(u64, Loc)>,
    pub a_max: &'x Option<(u64, Loc)>,
    pub b_min: &'x Option<(u64, Loc)>,
    pub b_max: &'x Option<(u64, Loc)>,
    /// Where A is, when A states no bound.
    pub a_loc: &'x Loc,
    /// The size of a candidate (`None` when it is not of this family's type).
    pub size: &'x dyn Fn(&Value) -> Option<u64>,
}

impl Checker<'_, '_> {
    /// Reports B's size bounds that A's documents may break. `sized(n)` builds A's documents
    /// of about size `n`; `skip_max` says A's size is bounded by other means (see objects).
    pub(crate) fn size_bounds(
        &self,
        a: &Conj,
        b: &Conj,
        s: SizeBounds<'_>,
        sized: &dyn Fn(&[u64]) -> Vec<Value>,
        skip_max: bool,
        out: &mut Vec<Raw>,
    ) {
        let amin = s.a_min.as_ref().map(|m| m.0).unwrap_or(0);
        let amax = s.a_max.as_ref().map(|m| m.0);
        let a_at = |bound: &Option<(u64, Loc)>| {
            bound
                .as_ref()
                .map(|m| m.1.clone())
                .unwrap_or(s.a_loc.clone())
        };
        if let Some((bmin, bl)) = s.b_min {
            if *bmin > amin {
                let w = self.witnesses(
                    a,
                    b,
                    sized(&[bmin - 1, amin]),
                    Some(&|v: &Value| (s.size)(v).is_some_and(|n| n >= *bmin)),
                );
                out.push(self.raw(
                    s.rules.0,
                    false,
                    &a_at(s.a_min),
                    bl,
                    format!("{}: {{A}} {amin}, {{B}} {bmin}", s.keywords.0),
                    w,
                ));
            }
        }
        if let Some((bmax, bl)) = s.b_max {
            if amax.is_none_or(|m| m > *bmax) && !skip_max {
                let w = self.witnesses(
                    a,
                    b,
                    sized(&[bmax + 1]),
                    Some(&|v: &Value| (s.size)(v).is_some_and(|n| n <= *bmax)),
                );
                let shown = amax.map(|m| m.to_string()).unwrap_or("unbounded".into());
                out.push(self.raw(
                    s.rules.1,
                    false,
                    &a_at(s.a_max),
                    bl,
                    format!("{}: {{A}} {shown}, {{B}} {bmax}", s.keywords.1),
                    w,
                ));
            }
        }
    }
}
