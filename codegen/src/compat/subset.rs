//! The subset check: does every instance of conjunction A validate against conjunction B?
//!
//! Structure (see the module docs of `compat` for the rule table):
//! 1. Fast path: A and B are the same schema after `$ref` resolution → nothing to report.
//! 2. A `false`/contradictory → nothing; B `false` → `schema-false-*`.
//! 3. `anyOf`/`oneOf` in B that equal (as branch sets) one in A are satisfied.
//! 4. `anyOf`/`oneOf` in A are expanded: A ⊆ B iff every branch (with A's own keywords) ⊆ B.
//! 5. If B still has disjunctions, A is split by JSON type first (so `[string, integer]` ⊆
//!    `anyOf[string, integer]` is decided per type).
//! 6. Keyword families are compared, each by its own file under `family/` (the table in
//!    `family/mod.rs` says which keywords each owns, and each file states its rules); a
//!    failure becomes a [`Raw`] finding carrying candidate counterexamples (full documents
//!    built from the instance path).
//! 7. Remaining disjunctions in B: A must fit some branch (`oneOf`: and be provably disjoint
//!    from the others).
//!
//! Recursive schemas are safe: a pair already under comparison is assumed to hold
//! (coinduction), which is sound for the greatest-fixed-point reading of recursive schemas.
//!
//! This file is the walk only; it knows no keyword. Adding a keyword touches its family file
//! (its `collect` slice, its subset check, its candidates), its field in `Norm` (`norm.rs`),
//! the local evaluator's `accepts` (`eval.rs`), and, for a new finding, `rules.rs`.

use super::checker::{dedup, Checker, Raw};
use super::norm::*;
use super::rules;
use super::CompatError;
use std::collections::HashSet;

impl Checker<'_, '_> {
    /// Every finding that may make "every instance of `a` is valid under `b`" false.
    pub fn subset(&mut self, a: &Conj, b: &Conj) -> Result<Vec<Raw>, CompatError> {
        let na = self.ctx.norm(a)?;
        if self.depth > 40 {
            return Ok(vec![self.raw(
                rules::TOO_DEEP,
                true,
                &na.loc,
                &na.loc,
                "nesting exceeds the checker's depth limit".into(),
                vec![],
            )]);
        }
        let key = (a.key(), b.key());
        if !self.in_progress.insert(key.clone()) {
            return Ok(Vec::new());
        }
        self.depth += 1;
        let r = self.subset_inner(a, b);
        self.depth -= 1;
        self.in_progress.remove(&key);
        r.map(dedup)
    }

    fn subset_inner(&mut self, a: &Conj, b: &Conj) -> Result<Vec<Raw>, CompatError> {
        let ctx = self.ctx;
        let na = ctx.norm(a)?;
        if na.never.is_some() {
            return Ok(Vec::new());
        }
        let nb = ctx.norm(b)?;
        if a.skip.is_empty() && b.skip.is_empty() && a.refs.len() == 1 && b.refs.len() == 1 {
            if let (SRef::At(ad, ap), SRef::At(bd, bp)) = (&a.refs[0], &b.refs[0]) {
                if self.equal_at(
                    a.side,
                    (*ad, ap.clone()),
                    b.side,
                    (*bd, bp.clone()),
                    &mut HashSet::new(),
                ) {
                    return Ok(Vec::new());
                }
            }
        }
        if let Some(l) = &nb.never {
            let w = self.witnesses(a, b, self.all_candidates(a, &na), None);
            return Ok(vec![self.raw(
                rules::SCHEMA_FALSE,
                false,
                &na.loc,
                l,
                "{B} schema is `false`: it rejects everything {A} accepts here".into(),
                w,
            )]);
        }
        let mut b = b.clone();
        let mut dropped = false;
        for d in &nb.disj {
            if na
                .disj
                .iter()
                .any(|x| self.disj_equal(a.side, x, b.side, d))
            {
                b.skip.push(d.loc.clone());
                dropped = true;
            }
        }
        let nb = if dropped { ctx.norm(&b)? } else { nb };
        if let Some(d) = na.disj.first() {
            let mut out = Vec::new();
            for br in &d.branches {
                let mut a2 = a.with(br.clone());
                a2.skip.push(d.loc.clone());
                out.extend(self.subset(&a2, &b)?);
            }
            return Ok(out);
        }
        if !nb.disj.is_empty() {
            let groups: Vec<u8> = [NULL, BOOL, INT | NUM, STR, ARR, OBJ]
                .into_iter()
                .filter(|g| na.types & g != 0)
                .collect();
            if groups.len() > 1 {
                let mut out = Vec::new();
                for g in groups {
                    out.extend(self.subset(&a.with(SRef::Type(g)), &b)?);
                }
                return Ok(out);
            }
        }
        let (mut out, decided) = self.keywords(a, &na, &b, &nb)?;
        if decided {
            // A finite A was checked value by value against the whole of B, disjunctions included.
            return Ok(out);
        }
        for d in &nb.disj {
            out.extend(self.disjunction(a, &na, &b, d)?);
        }
        Ok(out)
    }

    /// Compares the keyword families of A and B. Returns the findings and whether A was
    /// decided value by value (finite A), in which case B's disjunctions were judged already.
    fn keywords(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
    ) -> Result<(Vec<Raw>, bool), CompatError> {
        let mut out = Vec::new();
        self.types(a, na, b, nb, &mut out);
        let common = na.types & nb.types;
        if common == 0 || self.enums(a, na, b, nb, &mut out) {
            return Ok((out, true));
        }
        if common & STR != 0 {
            self.strings(a, na, b, nb, &mut out);
            self.formats(a, na, b, nb, &mut out);
        }
        if common & (INT | NUM) != 0 {
            self.numbers(a, na, b, nb, common, &mut out);
        }
        if common & ARR != 0 {
            self.arrays(a, na, b, nb, &mut out)?;
        }
        if common & OBJ != 0 {
            self.objects(a, na, b, nb, &mut out)?;
            self.dependencies(a, na, b, nb, &mut out)?;
        }
        self.nots(a, na, b, nb, &mut out);
        self.unanalysed(a, na, b, nb, &mut out);
        Ok((out, false))
    }
}
