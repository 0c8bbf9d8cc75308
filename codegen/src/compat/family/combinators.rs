//! Combinators: `anyOf`, `oneOf`, `not` (`allOf` needs no rule: its members join the
//! conjunction in `norm.rs`).
//!
//! Rules (A ⊆ B):
//! * A disjunction of A is split before the families run (in `subset.rs`): A ⊆ B iff every
//!   branch of A (with A's other keywords) ⊆ B. A disjunction of B equal to one of A (the
//!   same branches: as sets for `anyOf`, as multisets for `oneOf`; [`disj_equal`]) holds.
//! * `anyOf` in B: A must be a subset of some branch (`branch-removed`). When exactly one
//!   branch can overlap A (a discriminated union), that branch's own findings are reported.
//! * `oneOf` in B: as `anyOf`, and A must be provably disjoint ([`disjoint`]) from every
//!   other branch; otherwise `oneof-overlap`, since documents matching two branches fail.
//! * `not S` in B holds when some `not T` of A has S ⊆ T, or A and S are disjoint;
//!   otherwise `not-changed`.
//!
//! Disjointness is proved from types, enums, and required properties whose schemas are
//! disjoint (three levels deep); failing a proof is never taken as overlap evidence on its
//! own: every `oneof-overlap` still needs a verified counterexample.
//!
//! [`disj_equal`]: Checker::disj_equal
//! [`disjoint`]: Checker::disjoint

use super::super::checker::{Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::CompatError;
use serde_json::Value;
use std::collections::HashSet;
use std::rc::Rc;

/// Collects this family's keywords of one schema object into `n`: `anyOf`/`oneOf` as disjunctions (unless already expanded: `skip`), `not`.
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm, skip: &[Loc]) -> Result<(), CompatError> {
    let (obj, doc, ptr) = (s.obj, s.doc, &s.ptr);
    for (kw, one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(b) = obj.get(kw) {
            let b = b.as_array().ok_or_else(|| s.bad(kw, "must be an array"))?;
            let loc = s.at(kw);
            if skip.contains(&loc) {
                n.elsewhere += 1;
                continue;
            }
            n.disj.push(Disj {
                one,
                branches: (0..b.len())
                    .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/{kw}/{i}"))))
                    .collect(),
                loc,
            });
        }
    }
    if obj.contains_key("not") {
        n.nots.push((s.sub("not"), s.at("not")));
    }
    Ok(())
}

impl Checker<'_, '_> {
    /// B's `anyOf`/`oneOf` `d` (one not matched by an equal one of A): A must fit some
    /// branch and, for `oneOf`, be provably disjoint from every other.
    pub(crate) fn disjunction(
        &mut self,
        a: &Conj,
        na: &Norm,
        _b: &Conj,
        d: &Disj,
    ) -> Result<Vec<Raw>, CompatError> {
        let ctx = self.ctx;
        let side = _b.side;
        let kw = if d.one { "oneOf" } else { "anyOf" };
        let mut ok = Vec::new();
        let mut best: Option<(usize, Vec<Raw>)> = None;
        let mut per_branch = Vec::new();
        for (i, br) in d.branches.iter().enumerate() {
            let f = self.subset(a, &Conj::one(side, br.clone()))?;
            if f.is_empty() {
                ok.push(i);
            } else if best.as_ref().is_none_or(|(_, bf)| f.len() < bf.len()) {
                best = Some((i, f.clone()));
            }
            per_branch.push(f);
        }
        let bconj = Conj {
            side,
            refs: vec![],
            skip: vec![],
        };
        let whole_b = |v: &Value| -> Option<bool> {
            let mut trues = 0;
            let mut unknown = false;
            for br in &d.branches {
                match ctx.accepts(&Conj::one(side, br.clone()), v) {
                    Some(true) => trues += 1,
                    None => unknown = true,
                    _ => {}
                }
            }
            if d.one && trues > 1 {
                return Some(false);
            }
            if unknown {
                return None;
            }
            Some(if d.one { trues == 1 } else { trues >= 1 })
        };
        if let Some(&j) = ok.first() {
            if !d.one {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for (k, br) in d.branches.iter().enumerate() {
                if k == j {
                    continue;
                }
                let other = Conj::one(side, br.clone());
                if ok.contains(&k) || !self.disjoint(a, &other, 0) {
                    let cands = self.all_candidates(a, na);
                    let w = self.witnesses(
                        a,
                        &bconj,
                        cands,
                        Some(&|v: &Value| whole_b(v) != Some(false)),
                    );
                    out.push(self.raw(rules::ONEOF_OVERLAP, false, &na.loc, &d.loc, format!("documents {{A}} accepts may match both branch {j} and branch {k} of {{B}} oneOf"), w));
                }
            }
            return Ok(out);
        }
        // A discriminated union: when exactly one branch can overlap this part of A, the
        // difference is inside that branch; report it there (its witnesses are verified
        // against the whole of B like any other).
        let overlapping: Vec<usize> = (0..d.branches.len())
            .filter(|k| !self.disjoint(a, &Conj::one(side, d.branches[*k].clone()), 0))
            .collect();
        if let [only] = overlapping[..] {
            return Ok(per_branch[only].clone());
        }
        let leafs = self.all_candidates(a, na);
        let mut closest = String::new();
        let mut w = self.witnesses(
            a,
            &bconj,
            leafs,
            Some(&|v: &Value| whole_b(v) != Some(false)),
        );
        if let Some((i, f)) = &best {
            // Branch findings carry whole documents already; verification decides.
            for r in f {
                w.extend(r.witnesses.iter().cloned());
            }
            if let Some(first) = f.first() {
                closest = format!("; closest branch {i}: {}", first.msg);
            }
        }
        Ok(vec![self.raw(
            rules::BRANCH,
            false,
            &na.loc,
            &d.loc,
            format!(
                "no branch of {{B}} {kw} accepts everything this part of {{A}} accepts{closest}"
            ),
            w,
        )])
    }

    /// Provably no instance satisfies both (sides may differ).
    pub fn disjoint(&self, x: &Conj, y: &Conj, depth: usize) -> bool {
        let ctx = self.ctx;
        let (Ok(nx), Ok(ny)) = (ctx.norm(x), ctx.norm(y)) else {
            return false;
        };
        if nx.never.is_some() || ny.never.is_some() || nx.types & ny.types == 0 {
            return true;
        }
        if let Some(e) = &nx.enum_ {
            if e.values
                .iter()
                .all(|v| ctx.accepts(y, v) == Some(false) || ctx.accepts(x, v) == Some(false))
            {
                return true;
            }
        }
        if let Some(e) = &ny.enum_ {
            if e.values
                .iter()
                .all(|v| ctx.accepts(x, v) == Some(false) || ctx.accepts(y, v) == Some(false))
            {
                return true;
            }
        }
        if depth < 3 && nx.types & ny.types == OBJ {
            for (k, _) in nx.required.iter() {
                let ys = Conj {
                    side: y.side,
                    refs: ny.prop_schema(k, ctx),
                    skip: vec![],
                };
                if ny.required.contains_key(k) {
                    let xs = Conj {
                        side: x.side,
                        refs: nx.prop_schema(k, ctx),
                        skip: vec![],
                    };
                    if self.disjoint(&xs, &ys, depth + 1) {
                        return true;
                    }
                } else if ctx.norm(&ys).is_ok_and(|n| n.never.is_some()) {
                    return true;
                }
            }
            for (k, _) in ny.required.iter() {
                let xs = Conj {
                    side: x.side,
                    refs: nx.prop_schema(k, ctx),
                    skip: vec![],
                };
                if !nx.required.contains_key(k) && ctx.norm(&xs).is_ok_and(|n| n.never.is_some()) {
                    return true;
                }
            }
        }
        false
    }

    /// The two disjunctions have the same kind and the same branches: as sets for `anyOf`
    /// (each branch of either side equals some branch of the other), as multisets for `oneOf`
    /// (where a duplicated branch rejects what it accepts).
    pub(crate) fn disj_equal(&self, xs: usize, x: &Disj, ys: usize, y: &Disj) -> bool {
        let same = |fb: &SRef, tb: &SRef| match (fb, tb) {
            (SRef::At(fd, fp), SRef::At(td, tp)) => self.equal_at(
                xs,
                (*fd, fp.clone()),
                ys,
                (*td, tp.clone()),
                &mut HashSet::new(),
            ),
            _ => false,
        };
        if x.one != y.one {
            return false;
        }
        if x.one {
            // Structural equality is an equivalence, so greedy matching finds a bijection
            // whenever one exists.
            let mut used = vec![false; y.branches.len()];
            return x.branches.len() == y.branches.len()
                && x.branches.iter().all(|xb| {
                    let hit = (0..y.branches.len()).find(|&j| !used[j] && same(xb, &y.branches[j]));
                    hit.map(|j| used[j] = true).is_some()
                });
        }
        x.branches
            .iter()
            .all(|xb| y.branches.iter().any(|yb| same(xb, yb)))
            && y.branches
                .iter()
                .all(|yb| x.branches.iter().any(|xb| same(xb, yb)))
    }

    /// `not`: B's `not S` holds for A when A's own `not`s imply it (S ⊆ some excluded
    /// schema of A) or A and S are disjoint; otherwise `not-changed`.
    pub(crate) fn nots(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
        let ctx = self.ctx;
        for (s, l) in &nb.nots {
            let ns = Conj::one(b.side, s.clone());
            let implied = na.nots.iter().any(|(m, _)| {
                Checker::new(ctx, self.policy)
                    .subset(&ns, &Conj::one(a.side, m.clone()))
                    .is_ok_and(|f| f.is_empty())
            });
            if implied || self.disjoint(a, &ns, 0) {
                continue;
            }
            let mut cands = self.all_candidates(a, na);
            if let Ok(nn) = ctx.norm(&ns) {
                cands.extend(ctx.generate(&ns));
                if let Some(e) = &nn.enum_ {
                    cands.extend(e.values.iter().cloned());
                }
                for t in [OBJ, STR, INT, NUM, ARR, BOOL, NULL] {
                    if nn.types & t != 0 {
                        cands.extend(ctx.candidates(&ns, &nn, t, 0));
                    }
                }
            }
            let w = self.witnesses(
                a,
                b,
                cands,
                Some(&|v: &Value| ctx.accepts(&ns, v) != Some(true)),
            );
            out.push(self.raw(
                rules::NOT,
                false,
                &na.loc,
                l,
                "{B} `not` may exclude documents {A} accepts".into(),
                w,
            ));
        }
    }
}
