//! Arrays: `minItems`, `maxItems`, `uniqueItems`, `contains` with `minContains`/`maxContains`,
//! and the item positions (`prefixItems`, `items`, draft-07 `items` arrays, `additionalItems`;
//! `unevaluatedItems` when it can be resolved locally).
//!
//! Rules (A ⊆ B):
//! * Sizes go through the one size check ([`bounds`](super::bounds)): B's `minItems` ≤ A's,
//!   B's `maxItems` ≥ A's (A must have one).
//! * `uniqueItems: true` in B needs it in A too, unless A allows at most one item; the
//!   counterexample is an array of A with two equal items.
//! * `contains`: decided when A has the same `contains` schema (structurally): its counts
//!   are then bounds (B's `minContains` ≤ A's, B's `maxContains` ≥ A's), and counterexamples
//!   are arrays of k items matching it. A changed `contains` schema is unknown.
//! * Positions: for every index up to the longest tuple of either side (and once for the
//!   items after it), A's item schema there must be a subset of B's. A position B forbids
//!   (`false`, a shorter tuple) while A allows it is `tuple-length-reduced`; otherwise the
//!   item schemas are compared recursively one step down the instance path. A position A
//!   forbids ends the walk: A has no longer arrays.

use super::super::checker::{Checker, Raw, Step};
use super::super::norm::*;
use super::super::rules;
use super::super::store::Dialect;
use super::super::CompatError;
use super::bounds::{collect_sizes, SizeBounds};
use serde_json::Value;
use std::collections::HashSet;
use std::rc::Rc;

/// Collects this family's keywords of one schema object into `n`: `prefixItems`/`items` (draft-07: `items` arrays and `additionalItems`) as one content model per schema object; `minItems`/`maxItems`, `uniqueItems`, `contains` with its counts.
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let (obj, doc, ptr, dialect) = (s.obj, s.doc, &s.ptr, s.dialect);
    // Arrays.
    let mut arr = ArrModel {
        prefix: Vec::new(),
        rest: None,
        loc: (doc, ptr.clone()),
    };
    let mut has_arr = false;
    let legacy_items = dialect != Dialect::Draft2020;
    if let Some(p) = obj.get("prefixItems").filter(|_| !legacy_items) {
        let len = p
            .as_array()
            .ok_or_else(|| s.bad("prefixItems", "must be an array"))?
            .len();
        arr.prefix = (0..len)
            .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/prefixItems/{i}"))))
            .collect();
        has_arr = true;
    }
    match obj.get("items") {
        Some(Value::Array(items)) if legacy_items => {
            arr.prefix = (0..items.len())
                .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/items/{i}"))))
                .collect();
            if obj.contains_key("additionalItems") {
                arr.rest = Some(s.sub("additionalItems"));
            }
            has_arr = true;
        }
        Some(Value::Array(_)) => {
            return Err(s.bad(
                "items",
                "array form of items is draft-07/2019-09 only; use prefixItems",
            ))
        }
        Some(_) => {
            arr.rest = Some(s.sub("items"));
            has_arr = true;
        }
        None => {}
    }
    if has_arr {
        n.arr_models.push(arr);
    }
    collect_sizes(s, &mut n.items, ("minItems", "maxItems"))?;
    if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
        n.unique.get_or_insert(s.at("uniqueItems"));
    }
    if obj.contains_key("contains") {
        // `minContains`/`maxContains` are 2019-09 keywords, and mean nothing without `contains`.
        let (min, max) = if dialect == Dialect::Draft7 {
            (1, None)
        } else {
            (
                s.count("minContains")?.unwrap_or(1),
                s.count("maxContains")?,
            )
        };
        n.contains.push(ContainsFacet {
            schema: s.sub("contains"),
            min,
            max,
            loc: s.at("contains"),
        });
    }
    Ok(())
}

impl Checker<'_, '_> {
    /// `minItems`/`maxItems`, `uniqueItems`, `contains`, then every array position either
    /// side constrains (`prefixItems`/`items`, draft-07 `items` arrays/`additionalItems`).
    pub(crate) fn arrays(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) -> Result<(), CompatError> {
        let ctx = self.ctx;
        let aa = a.with(SRef::Type(ARR));
        let amin = na.items.lower();
        let amax = na.items.upper();
        let arr = |len: u64, dup: bool| ctx.array_of_len(&aa, na, len as usize, 0, dup);
        let arrays_of = |lens: &[u64]| -> Vec<Value> {
            lens.iter().filter_map(|len| arr(*len, false)).collect()
        };
        self.size_bounds(
            &aa,
            b,
            SizeBounds {
                keywords: ("minItems", "maxItems"),
                rules: (rules::MIN_ITEMS, rules::MAX_ITEMS),
                a: &na.items,
                b: &nb.items,
                a_loc: &na.loc,
                size: &|v: &Value| v.as_array().map(|x| x.len() as u64),
            },
            &arrays_of,
            false,
            out,
        );
        if let Some(bl) = &nb.unique {
            if na.unique.is_none() && amax.is_none_or(|m| m >= 2) {
                let cands = [arr(amin.max(2), true)].into_iter().flatten().collect();
                let w = self.witnesses(
                    &aa,
                    b,
                    cands,
                    Some(&|v: &Value| {
                        v.as_array().is_some_and(|x| {
                            x.iter()
                                .enumerate()
                                .all(|(i, y)| !x[..i].iter().any(|z| json_eq(y, z)))
                        })
                    }),
                );
                out.push(self.raw(
                    rules::UNIQUE_ITEMS,
                    false,
                    &na.loc,
                    bl,
                    "{B} requires unique items; {A} allows duplicates".into(),
                    w,
                ));
            }
        }
        self.contains(a, &aa, na, b, nb, out);
        let last = na.max_prefix().max(nb.max_prefix());
        for i in 0..=last {
            if amax.is_some_and(|m| i as u64 >= m) {
                break;
            }
            let bi = nb.item_schema(i);
            if bi.is_empty() {
                continue;
            }
            let ai = Conj {
                side: a.side,
                refs: na.item_schema(i),
                skip: Vec::new(),
            };
            if ctx.norm(&ai)?.never.is_some() {
                break;
            }
            let bi = Conj {
                side: b.side,
                refs: bi,
                skip: Vec::new(),
            };
            let nbi = ctx.norm(&bi)?;
            if let Some(bl) = &nbi.never {
                let cands = [arr((i as u64 + 1).max(amin), false)]
                    .into_iter()
                    .flatten()
                    .collect();
                let w = self.witnesses(
                    &aa,
                    b,
                    cands,
                    Some(&|v: &Value| v.as_array().is_some_and(|x| x.len() <= i)),
                );
                let al = na
                    .arr_models
                    .first()
                    .map(|m| m.loc.clone())
                    .unwrap_or(na.loc.clone());
                out.push(self.raw(
                    rules::TUPLE,
                    false,
                    &al,
                    bl,
                    format!("{{B}} allows at most {i} item(s) where {{A}} allows more"),
                    w,
                ));
                break;
            }
            out.extend(self.subset_below(&aa, Step::Index(i), &ai, &bi)?);
        }
        Ok(())
    }

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
