//! The subset check: does every instance of conjunction A validate against conjunction B?
//!
//! Structure (see the module docs of `compat` for the rule table):
//! 1. Fast path: A and B are the same schema after `$ref` resolution → nothing to report.
//! 2. A `false`/contradictory → nothing; B `false` → `schema-false-*`.
//! 3. `anyOf`/`oneOf` in B that equal (as branch sets) one in A are satisfied.
//! 4. `anyOf`/`oneOf` in A are expanded: A ⊆ B iff every branch (with A's own keywords) ⊆ B.
//! 5. If B still has disjunctions, A is split by JSON type first (so `[string, integer]` ⊆
//!    `anyOf[string, integer]` is decided per type).
//! 6. Keyword families are compared; each failure becomes a [`Raw`] finding carrying
//!    candidate counterexamples (full documents built from the instance path).
//! 7. Remaining disjunctions in B: A must fit some branch (`oneOf`: and be provably disjoint
//!    from the others).
//!
//! Recursive schemas are safe: a pair already under comparison is assumed to hold
//! (coinduction), which is sound for the greatest-fixed-point reading of recursive schemas.

use super::eval::{pattern_covered, pattern_samples};
use super::family::bounds::SizeBounds;
use super::norm::*;
use super::rules::{self, Rule};
use super::{CompatError, Policy};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

/// A finding before counterexample verification and location mapping.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub rule: Rule,
    pub unknown: bool,
    pub a: Loc,
    pub b: Loc,
    /// Message with `{A}`/`{B}` placeholders for the two schemas.
    pub msg: String,
    /// Candidate counterexamples (whole documents), best first.
    pub witnesses: Vec<Value>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

type PairKey = (ConjKey, ConjKey);

pub(crate) struct Checker<'c, 's> {
    pub(crate) ctx: &'c Ctx<'s>,
    pub(crate) policy: Policy,
    in_progress: HashSet<PairKey>,
    stack: Vec<(Conj, Step)>,
    depth: usize,
}

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

impl<'c, 's> Checker<'c, 's> {
    pub fn new(ctx: &'c Ctx<'s>, policy: Policy) -> Self {
        Checker {
            ctx,
            policy,
            in_progress: HashSet::new(),
            stack: Vec::new(),
            depth: 0,
        }
    }

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

    pub(crate) fn raw(
        &self,
        rule: Rule,
        unknown: bool,
        a: &Loc,
        b: &Loc,
        msg: String,
        witnesses: Vec<Value>,
    ) -> Raw {
        Raw {
            rule,
            unknown,
            a: a.clone(),
            b: b.clone(),
            msg,
            witnesses,
        }
    }

    /// Keeps leaf values A accepts and B rejects (definite answers first), wrapped into
    /// whole documents along the current instance path.
    pub(crate) fn witnesses(
        &self,
        a: &Conj,
        b: &Conj,
        cands: Vec<Value>,
        extra_b: Option<&dyn Fn(&Value) -> bool>,
    ) -> Vec<Value> {
        let mut sure = Vec::new();
        let mut maybe = Vec::new();
        for v in cands {
            let ra = self.ctx.accepts(a, &v);
            if ra == Some(false) {
                continue;
            }
            let rb = match extra_b {
                Some(f) => Some(f(&v)),
                None => self.ctx.accepts(b, &v),
            };
            if rb == Some(true) {
                continue;
            }
            if sure
                .iter()
                .chain(maybe.iter())
                .any(|x: &Value| json_eq(x, &v))
            {
                continue;
            }
            if ra == Some(true) && rb == Some(false) {
                sure.push(v);
            } else {
                maybe.push(v);
            }
            if sure.len() >= 3 {
                break;
            }
        }
        sure.extend(maybe.into_iter().take(2));
        sure.into_iter()
            .filter_map(|leaf| self.wrap(leaf))
            .collect()
    }

    fn wrap(&self, leaf: Value) -> Option<Value> {
        let mut child = leaf;
        for (conj, step) in self.stack.iter().rev() {
            let n = self.ctx.norm(conj).ok()?;
            child = match step {
                Step::Key(k) => self.ctx.object_with(conj, &n, Some((k, &child)), 0)?,
                Step::Index(i) => {
                    let len = (*i + 1).max(n.min_items.as_ref().map(|m| m.0 as usize).unwrap_or(0));
                    let Value::Array(mut items) = self.ctx.array_of_len(conj, &n, len, 0, false)?
                    else {
                        return None;
                    };
                    items[*i] = child;
                    Value::Array(items)
                }
            };
        }
        Some(child)
    }

    fn all_candidates(&self, a: &Conj, na: &Norm) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(v) = self.ctx.generate(a) {
            out.push(v);
        }
        for t in [OBJ, STR, INT, NUM, ARR, BOOL, NULL] {
            if na.types & t != 0 {
                out.extend(self.ctx.candidates(a, na, t, 0));
            }
        }
        out
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

    fn keywords(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
    ) -> Result<(Vec<Raw>, bool), CompatError> {
        let ctx = self.ctx;
        let mut out = Vec::new();
        // Type.
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
        let common = na.types & nb.types;
        if common == 0 {
            return Ok((out, true));
        }
        // Enumerations: a finite A is decided value by value.
        let finite: Option<Vec<Value>> = match &na.enum_ {
            Some(e) => Some(e.values.clone()),
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
                Some(v)
            }
            None => None,
        };
        if let Some(vals) = finite {
            for v in vals {
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
                            let w = self.witnesses(a, b, vec![v], None);
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
            return Ok((out, true));
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
        if common & STR != 0 {
            self.strings(a, na, b, nb, &mut out);
        }
        if common & (INT | NUM) != 0 {
            self.numbers(a, na, b, nb, common, &mut out);
        }
        if common & ARR != 0 {
            self.arrays(a, na, b, nb, &mut out)?;
        }
        if common & OBJ != 0 {
            self.objects(a, na, b, nb, &mut out)?;
        }
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
        for (kw, l) in &nb.other {
            // `unevaluated*` here could not be modelled: its meaning depends on evaluations
            // elsewhere, so equal keyword text proves nothing.
            let contextual = kw.starts_with("unevaluated");
            let same = !contextual
                && na.other.iter().any(|(k2, l2)| {
                    k2 == kw
                        && self.equal_at(a.side, l2.clone(), b.side, l.clone(), &mut HashSet::new())
                });
            if !same {
                out.push(self.raw(
                    rules::UNSUPPORTED,
                    true,
                    &na.loc,
                    l,
                    format!("keyword `{kw}` in {{B}} differs from {{A}} and is not analysed"),
                    vec![],
                ));
            }
        }
        Ok((out, false))
    }

    fn strings(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
        let ctx = self.ctx;
        let sa = a.with(SRef::Type(STR));
        let amin = na.min_len.as_ref().map(|m| m.0).unwrap_or(0);
        let amax = na.max_len.as_ref().map(|m| m.0);
        let strings_of = |lens: &[u64]| -> Vec<Value> {
            let lens: Vec<usize> = lens.iter().map(|l| *l as usize).collect();
            ctx.string_candidates(na, &lens)
                .into_iter()
                .map(Value::String)
                .collect()
        };
        self.size_bounds(
            &sa,
            b,
            SizeBounds {
                keywords: ("minLength", "maxLength"),
                rules: (rules::MIN_LENGTH, rules::MAX_LENGTH),
                a_min: &na.min_len,
                a_max: &na.max_len,
                b_min: &nb.min_len,
                b_max: &nb.max_len,
                a_loc: &na.loc,
                size: &|v: &Value| v.as_str().map(|s| s.chars().count() as u64),
            },
            &strings_of,
            false,
            out,
        );
        for (p, bl) in &nb.patterns {
            if na
                .patterns
                .iter()
                .any(|(q, _)| q == p || pattern_covered(q, p))
            {
                continue;
            }
            let mut lens = vec![amin as usize, amin as usize + 1, 1, 3, 8];
            if let Some(m) = amax {
                lens.push(m as usize);
            }
            let mut cands: Vec<Value> = ctx
                .string_candidates(na, &lens)
                .into_iter()
                .map(Value::String)
                .collect();
            cands.extend(["", "a", "A", "0", "-", " ", "a b", "é", "_", "aA0-"].map(Value::from));
            let w = self.witnesses(
                &sa,
                b,
                cands,
                Some(&|v: &Value| {
                    v.as_str()
                        .is_some_and(|s| ctx.regex_match(p, s) != Some(false))
                }),
            );
            let (rule, al) = match na.patterns.first() {
                Some((_, l)) => (rules::PATTERN, l.clone()),
                None => (rules::PATTERN_ADDED, na.loc.clone()),
            };
            if w.is_empty() {
                let why = if !ctx.oracle.valid(p) {
                    "uses regex syntax the checker cannot evaluate"
                } else {
                    "may reject strings {A} accepts; the checker found no counterexample and cannot prove inclusion"
                };
                out.push(self.raw(rule, true, &al, bl, format!("{{B}} pattern {why}"), vec![]));
            } else {
                out.push(self.raw(
                    rule,
                    false,
                    &al,
                    bl,
                    "{B} pattern rejects strings {A} accepts".into(),
                    w,
                ));
            }
        }
        for (f, bl) in &nb.formats {
            if na.formats.iter().any(|(g, _)| g == f) {
                continue;
            }
            let mut cands: Vec<Value> = ctx
                .string_candidates(na, &[amin as usize, amin as usize + 1, 3])
                .into_iter()
                .map(Value::String)
                .collect();
            cands.extend(
                [
                    "",
                    "a",
                    "not a value of this format",
                    "2024-01-02",
                    "2024-01-02T03:04:05Z",
                ]
                .map(Value::from),
            );
            let w = self.witnesses(
                &sa,
                b,
                cands,
                Some(&|v: &Value| {
                    v.as_str()
                        .is_some_and(|s| ctx.oracle.format_ok(f, s) == Some(true))
                }),
            );
            let (rule, al) = match na.formats.first() {
                Some((_, l)) => (rules::FORMAT, l.clone()),
                None => (rules::FORMAT_ADDED, na.loc.clone()),
            };
            let from = na
                .formats
                .first()
                .map(|x| format!("`{}`", x.0))
                .unwrap_or("no format".into());
            out.push(self.raw(
                rule,
                false,
                &al,
                bl,
                format!("format: {{A}} {from}, {{B}} `{f}`"),
                w,
            ));
        }
    }

    fn arrays(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) -> Result<(), CompatError> {
        let ctx = self.ctx;
        let aa = a.with(SRef::Type(ARR));
        let amin = na.min_items.as_ref().map(|m| m.0).unwrap_or(0);
        let amax = na.max_items.as_ref().map(|m| m.0);
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
                a_min: &na.min_items,
                a_max: &na.max_items,
                b_min: &nb.min_items,
                b_max: &nb.max_items,
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
            self.stack.push((aa.clone(), Step::Index(i)));
            let r = self.subset(&ai, &bi);
            self.stack.pop();
            out.extend(r?);
        }
        Ok(())
    }

    /// Undeclared keys fall into classes by which patterns (of either side) match them, and
    /// one key per class must be compared. For every two patterns, adds a key matching both
    /// and one matching each alone; `false` when some class could be neither sampled nor
    /// shown empty (disjoint literal prefixes, structural inclusion).
    fn sample_pattern_classes(
        &self,
        na: &Norm,
        nb: &Norm,
        declared: &BTreeSet<String>,
        reps: &mut Vec<(String, Kind)>,
    ) -> bool {
        let ctx = self.ctx;
        let pats: BTreeSet<&str> = [na, nb]
            .iter()
            .flat_map(|n| n.obj_models.iter())
            .flat_map(|m| m.patterns.iter().map(|(p, _)| p.as_str()))
            .collect();
        let pats: Vec<&str> = pats.into_iter().collect();
        let mut complete = true;
        for (i, p) in pats.iter().enumerate() {
            for q in &pats[i + 1..] {
                let samples: Vec<String> = [1, 3, 8]
                    .iter()
                    .flat_map(|l| {
                        pattern_samples(p, *l)
                            .into_iter()
                            .chain(pattern_samples(q, *l))
                    })
                    .filter(|s| !declared.contains(s))
                    .collect();
                let hit = |s: &String, pat: &str| ctx.regex_match(pat, s) == Some(true);
                for (in_p, in_q) in [(true, true), (true, false), (false, true)] {
                    match samples
                        .iter()
                        .find(|s| hit(s, p) == in_p && hit(s, q) == in_q)
                    {
                        Some(s) => {
                            if !reps.iter().any(|r| &r.0 == s) {
                                reps.push((s.clone(), Kind::Pattern));
                            }
                        }
                        None => {
                            let empty = match (in_p, in_q) {
                                (true, true) => literal_prefixes_disjoint(p, q),
                                (true, false) => pattern_covered(p, q),
                                _ => pattern_covered(q, p),
                            };
                            complete &= empty;
                        }
                    }
                }
            }
        }
        complete
    }

    fn objects(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) -> Result<(), CompatError> {
        let ctx = self.ctx;
        let oa = a.with(SRef::Type(OBJ));
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for n in [na, nb] {
            for m in &n.obj_models {
                keys.extend(m.props.keys().cloned());
            }
            keys.extend(n.required.keys().cloned());
            keys.extend(n.dep_required.keys().cloned());
        }
        let mut reps: Vec<(String, Kind)> =
            keys.iter().map(|k| (k.clone(), Kind::Declared)).collect();
        for n in [na, nb] {
            for m in &n.obj_models {
                for (p, _) in &m.patterns {
                    if let Some(s) = pattern_samples(p, 3)
                        .into_iter()
                        .find(|s| !keys.contains(s))
                    {
                        if !reps.iter().any(|r| r.0 == s) {
                            reps.push((s, Kind::Pattern));
                        }
                    }
                }
            }
        }
        if !self.sample_pattern_classes(na, nb, &keys, &mut reps) {
            out.push(
                self.raw(
                    rules::PATTERN_PROPERTY,
                    true,
                    &na.loc,
                    &nb.loc,
                    "keys matched by several patternProperties patterns could not all be sampled"
                        .into(),
                    vec![],
                ),
            );
        }
        let any_pattern = |k: &str| na.pattern_matches(k, ctx) || nb.pattern_matches(k, ctx);
        if let Some(fresh) = ["zz_undeclared", "zz-undeclared-9", "ZZ9"]
            .into_iter()
            .find(|k| !keys.contains(*k) && !any_pattern(k))
        {
            reps.push((fresh.to_string(), Kind::Other));
        }
        let explicit_map = na.explicit_map(ctx, a.side);
        for (k, kind) in reps {
            let ak = Conj {
                side: a.side,
                refs: na.prop_schema(&k, ctx),
                skip: Vec::new(),
            };
            let nak = ctx.norm(&ak)?;
            if nak.never.is_some() {
                continue;
            }
            let a_declares = na.declares(&k);
            let a_pattern = na.pattern_matches(&k, ctx);
            if self.policy == Policy::Lenient && !a_declares && !a_pattern && !explicit_map {
                continue;
            }
            let bk = Conj {
                side: b.side,
                refs: nb.prop_schema(&k, ctx),
                skip: Vec::new(),
            };
            let nbk = ctx.norm(&bk)?;
            let a_trivial = is_trivial(&nak);
            if is_trivial(&nbk) {
                continue;
            }
            let shown = short(&Value::from(k.as_str()));
            let al = prop_loc(na, &k, ctx);
            let bl = prop_loc(nb, &k, ctx);
            let leaf_ok = |forbid: bool| -> Vec<Value> {
                let mut vals: Vec<Value> = Vec::new();
                if let Some(v) = ctx.generate(&ak) {
                    vals.push(v);
                }
                vals.extend([
                    Value::Null,
                    Value::Bool(true),
                    Value::from(0),
                    Value::from(0.5),
                    Value::from(""),
                    Value::from("a"),
                    Value::Array(vec![]),
                    Value::Object(Default::default()),
                ]);
                let mut objs = Vec::new();
                for v in vals {
                    if ctx.accepts(&ak, &v) == Some(false) {
                        continue;
                    }
                    if !forbid && ctx.accepts(&bk, &v) == Some(true) {
                        continue;
                    }
                    if let Some(o) = ctx.object_with(&oa, na, Some((&k, &v)), 0) {
                        objs.push(o);
                    }
                }
                objs
            };
            if let Some(bnever) = &nbk.never {
                let cands = leaf_ok(true);
                let w = self.witnesses(&oa, b, cands, None);
                let (rule, msg) = if a_declares {
                    (rules::PROPERTY_CLOSED, format!("property {shown} is allowed by {{A}} but forbidden by {{B}}'s closed content model"))
                } else if kind == Kind::Pattern || a_pattern {
                    (rules::PATTERN_PROPERTY, format!("keys like {shown} match a patternProperties pattern in {{A}} but are forbidden by {{B}}"))
                } else {
                    (
                        rules::CONTENT_MODEL,
                        "{A} accepts undeclared properties; {B} forbids them".to_string(),
                    )
                };
                let bl = if a_declares || kind != Kind::Declared {
                    bnever.clone()
                } else {
                    bl
                };
                out.push(self.raw(rule, false, &al, &bl, msg, w));
                continue;
            }
            if a_trivial && !a_declares {
                let cands = leaf_ok(false);
                let w = self.witnesses(&oa, b, cands, None);
                let (rule, msg) = if nb.declares(&k) {
                    (rules::PROPERTY_OPEN, format!("property {shown} is declared by {{B}} but {{A}} is an open object where it may carry any value (strict policy)"))
                } else if kind == Kind::Pattern || nb.pattern_matches(&k, ctx) {
                    (rules::PATTERN_PROPERTY, format!("keys like {shown} are unconstrained in {{A}} but constrained by a {{B}} patternProperties schema"))
                } else {
                    (
                        rules::CONTENT_MODEL,
                        "{A} accepts undeclared properties of any value; {B} constrains them"
                            .to_string(),
                    )
                };
                out.push(self.raw(rule, false, &al, &bl, msg, w));
                continue;
            }
            self.stack.push((oa.clone(), Step::Key(k.clone())));
            let r = self.subset(&ak, &bk);
            self.stack.pop();
            out.extend(r?);
        }
        for (k, bl) in &nb.required {
            if na.required.contains_key(k) {
                continue;
            }
            let has_default = nb.prop_schema(k, ctx).iter().any(|r| {
                ctx.value(b.side, r)
                    .is_some_and(|v| v.get("default").is_some())
            });
            let rule = if has_default {
                rules::REQUIRED_DEFAULT
            } else {
                rules::REQUIRED
            };
            let cands = self.all_candidates(&oa, na);
            let w = self.witnesses(
                &oa,
                b,
                cands,
                Some(&|v: &Value| v.get(k.as_str()).is_some()),
            );
            let shown = short(&Value::from(k.as_str()));
            let extra = if has_default {
                " (a `default` does not help: validators do not insert defaults)"
            } else {
                ""
            };
            out.push(self.raw(
                rule,
                false,
                &na.loc,
                bl,
                format!("property {shown} is required by {{B}} but optional in {{A}}{extra}"),
                w,
            ));
        }
        // Under the lenient policy an open object carries only what it declares.
        let undeclared_ok = self.policy == Policy::Strict || explicit_map;
        let declared = na
            .obj_models
            .iter()
            .flat_map(|m| m.props.keys())
            .collect::<BTreeSet<_>>()
            .len() as u64;
        let bounded_by_declared = !undeclared_ok
            && !na.obj_models.iter().any(|m| !m.patterns.is_empty())
            && nb.max_props.as_ref().is_some_and(|m| declared <= m.0);
        let objects_of = |sizes: &[u64]| -> Vec<Value> {
            let mut v = self.all_candidates(&oa, na);
            v.extend(
                sizes
                    .iter()
                    .filter_map(|n| self.object_of_size(&oa, na, *n, undeclared_ok)),
            );
            v
        };
        self.size_bounds(
            &oa,
            b,
            SizeBounds {
                keywords: ("minProperties", "maxProperties"),
                rules: (rules::MIN_PROPERTIES, rules::MAX_PROPERTIES),
                a_min: &na.min_props,
                a_max: &na.max_props,
                b_min: &nb.min_props,
                b_max: &nb.max_props,
                a_loc: &na.loc,
                size: &|v: &Value| v.as_object().map(|o| o.len() as u64),
            },
            &objects_of,
            bounded_by_declared,
            out,
        );
        for (k, deps) in &nb.dep_required {
            let ak = Conj {
                side: a.side,
                refs: na.prop_schema(k, ctx),
                skip: Vec::new(),
            };
            if ctx.norm(&ak)?.never.is_some() {
                continue;
            }
            if self.policy == Policy::Lenient
                && !na.declares(k)
                && !na.pattern_matches(k, ctx)
                && !explicit_map
            {
                continue;
            }
            for (d, bl) in deps {
                let implied = na.required.contains_key(d)
                    || na
                        .dep_required
                        .get(k)
                        .is_some_and(|x| x.iter().any(|y| &y.0 == d));
                if implied {
                    continue;
                }
                let mut cands = Vec::new();
                if let Some(v) = ctx.generate(&ak) {
                    if let Some(o) = ctx.object_with(&oa, na, Some((k, &v)), 0) {
                        cands.push(o);
                    }
                }
                let w = self.witnesses(
                    &oa,
                    b,
                    cands,
                    Some(&|v: &Value| v.get(k.as_str()).is_none() || v.get(d.as_str()).is_some()),
                );
                out.push(self.raw(
                    rules::DEPENDENT_REQUIRED,
                    false,
                    &na.loc,
                    bl,
                    format!(
                        "{{B}} requires {} whenever {} is present; {{A}} does not",
                        short(&Value::from(d.as_str())),
                        short(&Value::from(k.as_str()))
                    ),
                    w,
                ));
            }
        }
        for (k, s, _) in &nb.dep_schemas {
            let mut a2 = oa.with(SRef::Required(Rc::from(k.as_str())));
            for (ka, sa, _) in &na.dep_schemas {
                if ka == k {
                    a2 = a2.with(sa.clone());
                }
            }
            if ctx.norm(&a2)?.never.is_some() {
                continue;
            }
            out.extend(self.subset(&a2, &Conj::one(b.side, s.clone()))?);
        }
        Ok(())
    }

    /// An object of A with about `size` properties (at least the required ones): required
    /// first, then declared ones, then (when undeclared properties are allowed) `zz_extra_N`.
    /// A candidate only: the witness filter checks what it holds.
    fn object_of_size(&self, oa: &Conj, na: &Norm, size: u64, undeclared: bool) -> Option<Value> {
        let ctx = self.ctx;
        let Some(Value::Object(mut o)) = ctx.object_with(oa, na, None, 0) else {
            return None;
        };
        let mut names: Vec<String> = na
            .obj_models
            .iter()
            .flat_map(|m| m.props.keys().cloned())
            .collect();
        if undeclared {
            names.extend((0..(size as usize + 2).min(64)).map(|i| format!("zz_extra_{i}")));
        }
        for name in names {
            if o.len() as u64 >= size {
                break;
            }
            if o.contains_key(&name) {
                continue;
            }
            let c = Conj {
                side: oa.side,
                refs: na.prop_schema(&name, ctx),
                skip: Vec::new(),
            };
            if let Some(v) = ctx.generate(&c) {
                o.insert(name, v);
            }
        }
        Some(Value::Object(o))
    }

    fn disjunction(
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
    fn disj_equal(&self, xs: usize, x: &Disj, ys: usize, y: &Disj) -> bool {
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

fn is_trivial(n: &Norm) -> bool {
    n.never.is_none()
        && n.types == ALL
        && n.enum_.is_none()
        && n.min_len.is_none()
        && n.max_len.is_none()
        && n.patterns.is_empty()
        && n.formats.is_empty()
        && n.lower.is_none()
        && n.upper.is_none()
        && n.multiple_of.is_empty()
        && n.arr_models.is_empty()
        && n.min_items.is_none()
        && n.max_items.is_none()
        && n.unique.is_none()
        && n.contains.is_empty()
        && n.obj_models.is_empty()
        && n.required.is_empty()
        && n.min_props.is_none()
        && n.max_props.is_none()
        && n.dep_required.is_empty()
        && n.dep_schemas.is_empty()
        && n.disj.is_empty()
        && n.nots.is_empty()
        && n.other.is_empty()
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Declared,
    Pattern,
    Other,
}

/// Both patterns are anchored (`^`) with literal prefixes neither of which starts the other,
/// so no key matches both.
fn literal_prefixes_disjoint(p: &str, q: &str) -> bool {
    fn prefix(p: &str) -> Option<String> {
        let rest = p.strip_prefix('^')?;
        let mut out = String::new();
        for c in rest.chars() {
            if "\\.^$*+?()[]{}|".contains(c) {
                // A quantifier makes the last literal optional.
                if "*?{".contains(c) {
                    out.pop();
                }
                break;
            }
            out.push(c);
        }
        Some(out)
    }
    match (prefix(p), prefix(q)) {
        (Some(a), Some(b)) => !a.starts_with(&b) && !b.starts_with(&a),
        _ => false,
    }
}

/// Location of a property's schema (or of the object when undeclared).
fn prop_loc(n: &Norm, k: &str, ctx: &Ctx<'_>) -> Loc {
    for m in &n.obj_models {
        if let Some(SRef::At(d, p)) = m.props.get(k) {
            return (*d, p.clone());
        }
    }
    for m in &n.obj_models {
        for (p, s) in &m.patterns {
            if ctx.regex_match(p, k) == Some(true) {
                if let SRef::At(d, ptr) = s {
                    return (*d, ptr.clone());
                }
            }
        }
        if let Some(SRef::At(d, p)) = &m.additional {
            return (*d, p.clone());
        }
    }
    n.loc.clone()
}

/// Schema values (enum members, property names) shown in messages, truncated.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

fn dedup(v: Vec<Raw>) -> Vec<Raw> {
    let mut seen = HashSet::new();
    v.into_iter()
        .filter(|r| seen.insert((r.rule.narrowing, r.a.clone(), r.b.clone(), r.unknown)))
        .collect()
}
