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
//!
//! Pattern analysis lives here too: samples of a regex ([`pattern_samples`], also used for
//! `patternProperties` keys) and structural inclusion of two regexes ([`pattern_covered`]).

use super::super::checker::{Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::CompatError;
use super::bounds::{collect_sizes, SizeBounds};
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::Value;

/// Collects this family's keywords of one schema object into `n`: `minLength`, `maxLength` (the tighter bound wins), `pattern` (all must hold).
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let obj = s.obj;
    collect_sizes(s, &mut n.str_len, ("minLength", "maxLength"))?;
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
        let amin = na.str_len.lower();
        let amax = na.str_len.upper();
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
                a: &na.str_len,
                b: &nb.str_len,
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

// Pattern analysis: samples and structural inclusion.

/// Strings matching `pattern`, stretched towards `len` characters where repetition allows.
pub(crate) fn pattern_samples(pattern: &str, len: usize) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for alt in 0..3 {
        let mut base = String::new();
        let mut budget = 0;
        if !gen_hir(&hir, &mut budget, alt, &mut base) {
            continue;
        }
        let have = base.chars().count();
        let mut s = base.clone();
        if len > have {
            let mut budget = len - have;
            s.clear();
            gen_hir(&hir, &mut budget, alt, &mut s);
        }
        out.push(base);
        out.push(s);
    }
    out.dedup();
    out
}

fn gen_hir(h: &Hir, budget: &mut usize, alt: usize, out: &mut String) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(Class::Unicode(c)) => {
            let ranges = c.ranges();
            let pick = ['a', 'A', '0']
                .into_iter()
                .find(|ch| ranges.iter().any(|r| r.start() <= *ch && *ch <= r.end()))
                .or_else(|| ranges.first().map(|r| r.start()));
            match pick {
                Some(ch) => {
                    out.push(ch);
                    true
                }
                None => false,
            }
        }
        HirKind::Class(Class::Bytes(c)) => match c.ranges().first() {
            Some(r) if r.start().is_ascii() => {
                out.push(r.start() as char);
                true
            }
            _ => false,
        },
        HirKind::Repetition(r) => {
            let min = r.min as usize;
            let room = r.max.map(|m| m as usize - min).unwrap_or(usize::MAX);
            let extra = (*budget).min(room);
            *budget -= extra;
            for _ in 0..(min + extra).min(10_000) {
                if !gen_hir(&r.sub, budget, alt, out) {
                    return false;
                }
            }
            true
        }
        HirKind::Capture(c) => gen_hir(&c.sub, budget, alt, out),
        HirKind::Concat(parts) => parts.iter().all(|p| gen_hir(p, budget, alt, out)),
        HirKind::Alternation(alts) => gen_hir(&alts[alt % alts.len()], budget, alt, out),
    }
}

/// Whether the `regex` crate reads `p` as ECMA-262 does: no `.`, no class escapes (`\\d`,
/// `\\w`, `\\s`, `\\b`, `\\p`...: Unicode-aware here, ASCII or different there), no inline flags.
/// Escaped punctuation is fine.
fn same_in_ecma(p: &str) -> bool {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => return false,
            '(' if p.contains("(?") => return false,
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => {}
                _ => return false,
            },
            _ => {}
        }
    }
    true
}

/// Structural regex inclusion: every string `a` matches (at some position), `b` matches at the
/// same position. Sound but incomplete: only same-shaped patterns whose classes and repetition
/// ranges nest are recognised (e.g. `^[a-z]{1,3}$` ⊆ `^[a-z0-9]+$`).
pub(crate) fn pattern_covered(a: &str, b: &str) -> bool {
    if !same_in_ecma(a) || !same_in_ecma(b) {
        return false;
    }
    let parse = |p: &str| regex_syntax::ParserBuilder::new().build().parse(p).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => hir_covered(&x, &y),
        _ => false,
    }
}

fn class_ranges(h: &Hir) -> Option<Vec<(char, char)>> {
    match h.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            Some(c.ranges().iter().map(|r| (r.start(), r.end())).collect())
        }
        HirKind::Literal(l) => {
            let s = std::str::from_utf8(&l.0).ok()?;
            let mut it = s.chars();
            let c = it.next()?;
            if it.next().is_some() {
                return None;
            }
            Some(vec![(c, c)])
        }
        _ => None,
    }
}

fn hir_covered(a: &Hir, b: &Hir) -> bool {
    if a == b {
        return true;
    }
    match (a.kind(), b.kind()) {
        (HirKind::Capture(x), _) => hir_covered(&x.sub, b),
        (_, HirKind::Capture(y)) => hir_covered(a, &y.sub),
        (HirKind::Alternation(xs), _) => xs.iter().all(|x| hir_covered(x, b)),
        (_, HirKind::Alternation(ys)) => ys.iter().any(|y| hir_covered(a, y)),
        (HirKind::Concat(xs), HirKind::Concat(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| hir_covered(x, y))
        }
        (HirKind::Repetition(x), HirKind::Repetition(y)) => {
            x.min >= y.min
                && y.max.is_none_or(|ym| x.max.is_some_and(|xm| xm <= ym))
                && hir_covered(&x.sub, &y.sub)
        }
        (_, HirKind::Repetition(y)) if y.min <= 1 && y.max.is_none_or(|m| m >= 1) => {
            hir_covered(a, &y.sub)
        }
        _ => match (class_ranges(a), class_ranges(b)) {
            (Some(xr), Some(yr)) => xr.iter().all(|(lo, hi)| {
                // Every char of [lo, hi] lies in some range of b (ranges are sorted, merged).
                let mut c = *lo;
                loop {
                    match yr.iter().find(|(s, e)| *s <= c && c <= *e) {
                        Some((_, e)) if *e >= *hi => return true,
                        Some((_, e)) => match char::from_u32(*e as u32 + 1) {
                            Some(n) => c = n,
                            None => return false,
                        },
                        None => return false,
                    }
                }
            }),
            _ => false,
        },
    }
}
