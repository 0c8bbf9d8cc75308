//! Structural equality of two subschemas after `$ref` resolution, ignoring annotations.
//!
//! Equal schemas accept the same documents, so equality is the checker's fast path (the
//! walk in `subset.rs` stops at equal pairs, and disjunctions, `contains` schemas and
//! unanalysed keywords are matched by it). It is sound, not complete: schemas that are
//! equal as sets of documents but written differently compare unequal, and the families then
//! decide them. `$ref`s are followed on both sides (a pair of targets met again counts as
//! equal: coinduction over recursive schemas); a chain of bare `$ref`s that loops without a
//! keyword in between constrains nothing and compares as `true`. Results that did not rest on
//! such an assumption are memoized in the context.

use super::checker::Checker;
use super::norm::*;
use serde_json::Value;
use std::collections::HashSet;
use std::rc::Rc;

/// Keywords that never constrain an instance (ignored by structural equality).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "$id",
    "$schema",
    "$anchor",
    "$defs",
    "definitions",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "$vocabulary",
    "$dynamicAnchor",
];

fn is_annotation(k: &str) -> bool {
    ANNOTATIONS.contains(&k) || k.starts_with("x-")
}

impl Checker<'_, '_> {
    /// Structural equality of two subschemas after `$ref` resolution, ignoring annotations.
    pub(crate) fn equal_at(
        &self,
        xs: usize,
        x: Loc,
        ys: usize,
        y: Loc,
        seen: &mut HashSet<(usize, Loc, usize, Loc)>,
    ) -> bool {
        let sx = self.ctx.stores[xs];
        let sy = self.ctx.stores[ys];
        let (Some(xv), Some(yv)) = (
            sx.doc(x.0).value.pointer(&x.1),
            sy.doc(y.0).value.pointer(&y.1),
        ) else {
            return false;
        };
        self.equal_v(xs, &x, xv, ys, &y, yv, seen)
    }

    /// Follows a `$ref` (cycle-safe: a pair of targets already being compared counts as equal).
    fn equal_follow(
        &self,
        xs: usize,
        x: Loc,
        ys: usize,
        y: Loc,
        seen: &mut HashSet<(usize, Loc, usize, Loc)>,
    ) -> bool {
        let key = (xs, x.clone(), ys, y.clone());
        if seen.contains(&key) {
            self.ctx.eq_assumed.set(self.ctx.eq_assumed.get() + 1);
            return true;
        }
        seen.insert(key.clone());
        let r = self.equal_at(xs, x, ys, y, seen);
        seen.remove(&key);
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn equal_v(
        &self,
        xs: usize,
        x: &Loc,
        xv: &Value,
        ys: usize,
        y: &Loc,
        yv: &Value,
        seen: &mut HashSet<(usize, Loc, usize, Loc)>,
    ) -> bool {
        // Identical text without references is equal wherever it lives: no allocation needed.
        if same_without_refs(xv, yv) {
            return true;
        }
        // Results that did not rest on a coinductive assumption are exact: memoize them, so
        // the per-property fast paths below a changed root do not re-walk the same subtrees.
        let key = (xs, x.clone(), ys, y.clone());
        if let Some(r) = self.ctx.eq_cache.borrow().get(&key) {
            return *r;
        }
        let assumed = self.ctx.eq_assumed.get();
        let r = self.equal_v_inner(xs, x, xv, ys, y, yv, seen);
        if self.ctx.eq_assumed.get() == assumed {
            self.ctx.eq_cache.borrow_mut().insert(key, r);
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn equal_v_inner(
        &self,
        xs: usize,
        x: &Loc,
        xv: &Value,
        ys: usize,
        y: &Loc,
        yv: &Value,
        seen: &mut HashSet<(usize, Loc, usize, Loc)>,
    ) -> bool {
        let sx = self.ctx.stores[xs];
        let sy = self.ctx.stores[ys];
        let lone_ref = |store: &super::store::DocStore, loc: &Loc, v: &Value| -> Option<Loc> {
            let o = v.as_object()?;
            let r = o.get("$ref")?.as_str()?;
            let draft7 = store.doc(loc.0).dialect == super::store::Dialect::Draft7;
            if !draft7 && o.keys().any(|k| k != "$ref" && !is_annotation(k)) {
                return None;
            }
            let (d, p) = store.resolve(loc.0, &loc.1, r).ok()?;
            Some((d, Rc::from(p)))
        };
        // A chain of bare `$ref`s that loops without any keyword in between constrains
        // nothing: compare it as `true` (assuming equality there would be unsound).
        let chase =
            |store: &super::store::DocStore, start: &Loc, v: &Value| -> Option<Option<Loc>> {
                let mut cur = lone_ref(store, start, v)?;
                let mut visited = vec![start.clone()];
                loop {
                    if visited.contains(&cur) {
                        return Some(None);
                    }
                    visited.push(cur.clone());
                    let next_v = store.doc(cur.0).value.pointer(&cur.1)?;
                    match lone_ref(store, &cur, next_v) {
                        Some(n) => cur = n,
                        None => return Some(Some(cur)),
                    }
                }
            };
        const TRUE: Value = Value::Bool(true);
        match chase(sx, x, xv) {
            Some(Some(t)) => return self.equal_follow(xs, t, ys, y.clone(), seen),
            Some(None) => return self.equal_v_inner(xs, x, &TRUE, ys, y, yv, seen),
            None => {}
        }
        match chase(sy, y, yv) {
            Some(Some(t)) => return self.equal_follow(xs, x.clone(), ys, t, seen),
            Some(None) => return self.equal_v_inner(xs, x, xv, ys, y, &TRUE, seen),
            None => {}
        }
        match (xv, yv) {
            (Value::Object(xo), Value::Object(yo)) => {
                if xo.keys().filter(|k| !is_annotation(k)).count()
                    != yo.keys().filter(|k| !is_annotation(k)).count()
                {
                    return false;
                }
                for (k, a) in xo {
                    if is_annotation(k) {
                        continue;
                    }
                    let Some(b) = yo.get(k) else { return false };
                    let kk = super::source_map::escape(k);
                    let px = |s: &str| -> Loc { (x.0, Rc::from(format!("{}/{}", x.1, s))) };
                    let py = |s: &str| -> Loc { (y.0, Rc::from(format!("{}/{}", y.1, s))) };
                    let same = match k.as_str() {
                        "$ref" => match (a.as_str(), b.as_str()) {
                            (Some(ra), Some(rb)) => {
                                match (sx.resolve(x.0, &x.1, ra), sy.resolve(y.0, &y.1, rb)) {
                                    (Ok((d1, p1)), Ok((d2, p2))) => self.equal_follow(
                                        xs,
                                        (d1, Rc::from(p1)),
                                        ys,
                                        (d2, Rc::from(p2)),
                                        seen,
                                    ),
                                    _ => false,
                                }
                            }
                            _ => false,
                        },
                        "properties" | "patternProperties" | "dependentSchemas"
                        | "dependencies" => match (a, b) {
                            (Value::Object(ma), Value::Object(mb)) => {
                                ma.len() == mb.len()
                                    && ma.iter().all(|(name, va)| match mb.get(name) {
                                        Some(vb) if va.is_array() || vb.is_array() => {
                                            json_eq(va, vb)
                                        }
                                        Some(vb) => {
                                            let n = super::source_map::escape(name);
                                            let sub = format!("{kk}/{n}");
                                            self.equal_v(xs, &px(&sub), va, ys, &py(&sub), vb, seen)
                                        }
                                        None => false,
                                    })
                            }
                            _ => false,
                        },
                        "allOf" | "anyOf" | "oneOf" | "prefixItems" | "items" => match (a, b) {
                            (Value::Array(la), Value::Array(lb)) => {
                                la.len() == lb.len()
                                    && la.iter().zip(lb).enumerate().all(|(i, (va, vb))| {
                                        let sub = format!("{kk}/{i}");
                                        self.equal_v(xs, &px(&sub), va, ys, &py(&sub), vb, seen)
                                    })
                            }
                            (Value::Array(_), _) | (_, Value::Array(_)) => false,
                            _ => self.equal_v(xs, &px(&kk), a, ys, &py(&kk), b, seen),
                        },
                        "additionalProperties"
                        | "unevaluatedProperties"
                        | "additionalItems"
                        | "not"
                        | "if"
                        | "then"
                        | "else"
                        | "contains"
                        | "propertyNames"
                        | "unevaluatedItems" => {
                            self.equal_v(xs, &px(&kk), a, ys, &py(&kk), b, seen)
                        }
                        _ => json_eq(a, b),
                    };
                    if !same {
                        return false;
                    }
                }
                true
            }
            (Value::Object(o), Value::Bool(true)) | (Value::Bool(true), Value::Object(o)) => {
                o.keys().all(|k| is_annotation(k))
            }
            _ => json_eq(xv, yv),
        }
    }
}

/// Byte-for-byte equal JSON containing no `$ref` (whose meaning depends on the document).
fn same_without_refs(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && !x.contains_key("$ref")
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_without_refs(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_without_refs(v, w))
        }
        _ => a == b,
    }
}
