//! Strings: `minLength`, `maxLength`, `pattern`.
//!
//! Rules (A ⊆ B; the rule id names the change from old to new):
//! * Lengths count Unicode code points. B's bounds are checked by the one size check
//!   ([`bounds`](super::bounds)): B's `minLength` must not exceed A's (0 when absent), B's
//!   `maxLength` must be at least A's, and A must have one. Raising the minimum or lowering
//!   the maximum narrows (`min-length-increased`, `max-length-decreased`); the reverse widens.
//! * Every `pattern` of B must be implied by a `pattern` of A: the same text, or a regex
//!   whose language is contained in B's (structural inclusion, `pattern_covered`). Otherwise
//!   sample strings of A that B's regex rejects are the counterexamples (`pattern-changed`, or
//!   `pattern-added` when A had none). When no sample separates them, or B's regex cannot be
//!   evaluated, the finding is unknown: inclusion of regular languages is not decided.
//! * Removing a `pattern` only widens (`pattern-removed` seen from the other direction).

use super::super::checker::{Checker, Raw};
use super::super::eval::pattern_covered;
use super::super::norm::*;
use super::super::rules;
use super::super::CompatError;
use super::bounds::SizeBounds;
use serde_json::Value;

/// Collects this family's keywords of one schema object into `n`: `minLength`, `maxLength` (the tighter bound wins), `pattern` (all must hold).
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let obj = s.obj;
    if let Some(x) = s.count("minLength")? {
        if n.min_len.as_ref().is_none_or(|m| x > m.0) {
            n.min_len = Some((x, s.at("minLength")));
        }
    }
    if let Some(x) = s.count("maxLength")? {
        if n.max_len.as_ref().is_none_or(|m| x < m.0) {
            n.max_len = Some((x, s.at("maxLength")));
        }
    }
    if let Some(p) = obj.get("pattern") {
        n.patterns.push((
            p.as_str()
                .ok_or_else(|| s.bad("pattern", "must be a string"))?
                .to_string(),
            s.at("pattern"),
        ));
    }
    Ok(())
}

impl Checker<'_, '_> {
    /// `minLength`/`maxLength` (the shared size check) and `pattern`.
    pub(crate) fn strings(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
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
    }
}
