//! The one bound check for counted sizes: string length (`minLength`/`maxLength`), array
//! length (`minItems`/`maxItems`) and object size (`minProperties`/`maxProperties`).
//!
//! A's documents fit B's lower bound when A's own lower bound (0 when absent) reaches it, and
//! B's upper bound when A's own upper bound exists and stays under it. Otherwise the finding
//! carries candidates of the sizes that break B (`bmin - 1` and A's minimum; `bmax + 1`),
//! built by the family, and keeps those whose counted size B rejects.
//!
//! Collection is shared too ([`collect_sizes`]): of several bounds in one conjunction the
//! tighter wins.

use super::super::checker::{Checker, Raw};
use super::super::norm::{Conj, Count, Loc, SchemaObject, Sizes};
use super::super::rules::Rule;
use super::super::CompatError;
use serde_json::Value;

/// Reads the size keywords `(min, max)` of one schema object into `sizes`, keeping the
/// tighter bounds.
pub(crate) fn collect_sizes(
    s: &SchemaObject<'_>,
    sizes: &mut Sizes,
    (min, max): (&str, &str),
) -> Result<(), CompatError> {
    if let Some(n) = s.count(min)? {
        if sizes.min.as_ref().is_none_or(|m| n > m.n) {
            sizes.min = Some(Count { n, loc: s.at(min) });
        }
    }
    if let Some(n) = s.count(max)? {
        if sizes.max.as_ref().is_none_or(|m| n < m.n) {
            sizes.max = Some(Count { n, loc: s.at(max) });
        }
    }
    Ok(())
}

/// One family's pair of size keywords, as A and B state them.
pub(crate) struct SizeBounds<'x> {
    /// Keyword names, for messages (`minLength`, `maxLength`).
    pub keywords: (&'static str, &'static str),
    /// Rules for a raised lower bound and a lowered upper bound.
    pub rules: (Rule, Rule),
    pub a: &'x Sizes,
    pub b: &'x Sizes,
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
        let (amin, amax) = (s.a.lower(), s.a.upper());
        let a_at = |bound: &Option<Count>| {
            bound
                .as_ref()
                .map(|m| m.loc.clone())
                .unwrap_or(s.a_loc.clone())
        };
        if let Some(Count { n: bmin, loc: bl }) = &s.b.min {
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
                    &a_at(&s.a.min),
                    bl,
                    format!("{}: {{A}} {amin}, {{B}} {bmin}", s.keywords.0),
                    w,
                ));
            }
        }
        if let Some(Count { n: bmax, loc: bl }) = &s.b.max {
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
                    &a_at(&s.a.max),
                    bl,
                    format!("{}: {{A}} {shown}, {{B}} {bmax}", s.keywords.1),
                    w,
                ));
            }
        }
    }
}
