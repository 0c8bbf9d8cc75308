//! Arrays: `contains` with `minContains`/`maxContains`.
//!
//! Decided when both sides hold the same `contains` schema: the counts are then bounds, and
//! counterexamples are arrays of k items matching it. A changed `contains` schema is unknown.

use super::super::norm::*;
use super::super::rules;
use super::super::subset::{Checker, Raw};
use serde_json::Value;
use std::collections::HashSet;

impl Checker<'_, '_> {
    /// `contains` with `minContains`/`maxContains`: decided when A has the same `contains`
    /// schema (the counts are then bounds like `minItems`), unknown when the schema changed.
    pub(crate) fn contains(
        &self,
        a: &Conj,
        aa: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) {
        let ctx = self.ctx;
        for fb in &nb.contains {
            let same = na
                .contains
                .iter()
                .find(|fa| match (&fa.schema, &fb.schema) {
                    (SRef::At(d1, p1), SRef::At(d2, p2)) => self.equal_at(
                        a.side,
                        (*d1, p1.clone()),
                        b.side,
                        (*d2, p2.clone()),
                        &mut HashSet::new(),
                    ),
                    _ => false,
                });
            let Some(fa) = same else {
                if fb.min > 0 || fb.max.is_some() {
                    out.push(self.raw(
                        rules::UNSUPPORTED,
                        true,
                        &na.loc,
                        &fb.loc,
                        "keyword `contains` in {B} differs from {A} and is not analysed".into(),
                        vec![],
                    ));
                }
                continue;
            };
            // Arrays of k items matching the `contains` schema (and A's item schemas).
            let mut refs = vec![fa.schema.clone()];
            refs.extend(na.item_schema(usize::MAX));
            let item = ctx.generate(&Conj {
                side: a.side,
                refs,
                skip: Vec::new(),
            });
            let arrays = |ks: &[u64]| -> Vec<Value> {
                let Some(item) = &item else { return Vec::new() };
                ks.iter()
                    .map(|k| Value::Array(vec![item.clone(); (*k).min(10_000) as usize]))
                    .collect()
            };
            let count = |v: &Value| -> Option<u64> {
                let sb = Conj::one(b.side, fb.schema.clone());
                let mut m = 0;
                for x in v.as_array()? {
                    if ctx.accepts(&sb, x)? {
                        m += 1;
                    }
                }
                Some(m)
            };
            if fb.min > fa.min {
                let w = self.witnesses(
                    aa,
                    b,
                    arrays(&[fa.min, fb.min - 1]),
                    Some(&|v: &Value| count(v).is_none_or(|m| m >= fb.min)),
                );
                out.push(self.raw(
                    rules::MIN_CONTAINS,
                    false,
                    &fa.loc,
                    &fb.loc,
                    format!("minContains: {{A}} {}, {{B}} {}", fa.min, fb.min),
                    w,
                ));
            }
            if let Some(bmax) = fb.max {
                if fa.max.is_none_or(|m| m > bmax) {
                    let w = self.witnesses(
                        aa,
                        b,
                        arrays(&[bmax + 1]),
                        Some(&|v: &Value| count(v).is_none_or(|m| m <= bmax)),
                    );
                    let shown = fa.max.map(|m| m.to_string()).unwrap_or("unbounded".into());
                    out.push(self.raw(
                        rules::MAX_CONTAINS,
                        false,
                        &fa.loc,
                        &fb.loc,
                        format!("maxContains: {{A}} {shown}, {{B}} {bmax}"),
                        w,
                    ));
                }
            }
        }
    }
}
