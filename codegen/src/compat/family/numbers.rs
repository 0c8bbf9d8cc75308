//! Numbers: `minimum`/`maximum` (inclusive and exclusive) and `multipleOf`, compared as exact
//! decimals ([`Dec`]). For integer-only instances a bound is first tightened to the integer it
//! admits (`> 2.5` is `>= 3`), so `exclusiveMinimum: 2` and `minimum: 3` compare equal there.
//!
//! Rules (A ⊆ B):
//! * B's lower bound must not exceed A's (an exclusive bound is above an inclusive one of the
//!   same value); a bound B adds or raises narrows (`minimum-increased`). Upper bounds
//!   mirror this (`maximum-decreased`).
//! * Each `multipleOf` of B must divide some `multipleOf` of A exactly (for integers, B's
//!   `multipleOf` dividing 1 holds too); otherwise `multiple-of-changed`.
//! * Candidates ([`number_candidates`]) are numbers next to either side's bounds and
//!   multiples, integers or not as the common type allows.

use super::super::checker::{Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::CompatError;
use serde_json::{Number, Value};

/// Collects this family's keywords of one schema object into `n`: `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum` (draft-04 boolean form too; the tighter bound wins), `multipleOf` (all must hold; must be > 0).
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let obj = s.obj;
    let lower = |v: Dec, excl: bool, loc: Loc, n: &mut Norm| {
        let tighter = match &n.lower {
            None => true,
            Some(b) => v > b.v || (v == b.v && excl && !b.excl),
        };
        if tighter {
            n.lower = Some(Bound { v, excl, loc });
        }
    };
    if let Some(x) = s.num("minimum")? {
        lower(x, false, s.at("minimum"), n);
    }
    match obj.get("exclusiveMinimum") {
        Some(Value::Bool(true)) => {
            if let Some(x) = s.num("minimum")? {
                lower(x, true, s.at("exclusiveMinimum"), n);
            }
        }
        Some(Value::Number(x)) => lower(Dec::of(x), true, s.at("exclusiveMinimum"), n),
        _ => {}
    }
    let upper = |v: Dec, excl: bool, loc: Loc, n: &mut Norm| {
        let tighter = match &n.upper {
            None => true,
            Some(b) => v < b.v || (v == b.v && excl && !b.excl),
        };
        if tighter {
            n.upper = Some(Bound { v, excl, loc });
        }
    };
    if let Some(x) = s.num("maximum")? {
        upper(x, false, s.at("maximum"), n);
    }
    match obj.get("exclusiveMaximum") {
        Some(Value::Bool(true)) => {
            if let Some(x) = s.num("maximum")? {
                upper(x, true, s.at("exclusiveMaximum"), n);
            }
        }
        Some(Value::Number(x)) => upper(Dec::of(x), true, s.at("exclusiveMaximum"), n),
        _ => {}
    }
    if let Some(x) = s.num("multipleOf")? {
        if x.is_zero() || x.is_negative() {
            return Err(s.bad("multipleOf", "must be greater than 0"));
        }
        n.multiple_of.push((x, s.at("multipleOf")));
    }
    Ok(())
}

impl Checker<'_, '_> {
    pub(crate) fn numbers(
        &self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        common: u8,
        out: &mut Vec<Raw>,
    ) {
        let int_only = common & NUM == 0;
        let eff = |bd: &Bound, lower: bool| -> (Dec, bool) {
            if int_only {
                (integer_bound(bd, lower), false)
            } else {
                (bd.v.clone(), bd.excl)
            }
        };
        let na_num = a.with(SRef::Type(common & (INT | NUM)));
        let cands_for = |extra: &[Dec]| -> Vec<Value> {
            let mut v = Vec::new();
            if common & INT != 0 {
                v.extend(number_candidates(na, true, extra));
            }
            if common & NUM != 0 {
                v.extend(number_candidates(na, false, extra));
            }
            v
        };
        let show = |b: &Option<Bound>, lower: bool| match b {
            None => "unbounded".to_string(),
            Some(b) => format!(
                "{}{}",
                if lower {
                    if b.excl {
                        ">"
                    } else {
                        ">="
                    }
                } else if b.excl {
                    "<"
                } else {
                    "<="
                },
                b.v
            ),
        };
        if let Some(bl) = &nb.lower {
            let (bv, bx) = eff(bl, true);
            let narrower = match &na.lower {
                None => true,
                Some(al) => {
                    let (av, ax) = eff(al, true);
                    bv > av || (bv == av && bx && !ax)
                }
            };
            if narrower {
                let cands = cands_for(&[
                    bl.v.clone(),
                    bl.v.plus(-1),
                    bv.plus(-1),
                    bl.v.floor().plus(-1),
                ]);
                let w = self.witnesses(
                    &na_num,
                    b,
                    cands,
                    Some(&|v: &Value| {
                        Dec::of_value(v).is_some_and(|f| if bl.excl { f > bl.v } else { f >= bl.v })
                    }),
                );
                let al = na
                    .lower
                    .as_ref()
                    .map(|x| x.loc.clone())
                    .unwrap_or(na.loc.clone());
                out.push(self.raw(
                    rules::MINIMUM,
                    false,
                    &al,
                    &bl.loc,
                    format!(
                        "lower bound: {{A}} {}, {{B}} {}",
                        show(&na.lower, true),
                        show(&nb.lower, true)
                    ),
                    w,
                ));
            }
        }
        if let Some(bu) = &nb.upper {
            let (bv, bx) = eff(bu, false);
            let narrower = match &na.upper {
                None => true,
                Some(au) => {
                    let (av, ax) = eff(au, false);
                    bv < av || (bv == av && bx && !ax)
                }
            };
            if narrower {
                let cands =
                    cands_for(&[bu.v.clone(), bu.v.plus(1), bv.plus(1), bu.v.ceil().plus(1)]);
                let w = self.witnesses(
                    &na_num,
                    b,
                    cands,
                    Some(&|v: &Value| {
                        Dec::of_value(v).is_some_and(|f| if bu.excl { f < bu.v } else { f <= bu.v })
                    }),
                );
                let al = na
                    .upper
                    .as_ref()
                    .map(|x| x.loc.clone())
                    .unwrap_or(na.loc.clone());
                out.push(self.raw(
                    rules::MAXIMUM,
                    false,
                    &al,
                    &bu.loc,
                    format!(
                        "upper bound: {{A}} {}, {{B}} {}",
                        show(&na.upper, false),
                        show(&nb.upper, false)
                    ),
                    w,
                ));
            }
        }
        for (m, bl) in &nb.multiple_of {
            let implied = na
                .multiple_of
                .iter()
                .any(|(am, _)| am.is_multiple_of(m) == Some(true))
                || (int_only && Dec::from_i128(1).is_multiple_of(m) == Some(true));
            if implied {
                continue;
            }
            let base: Vec<Dec> = match na.multiple_of.first() {
                Some((am, _)) => {
                    let mut acc = Dec::zero();
                    (1..8)
                        .map(|_| {
                            acc = acc.add(am);
                            acc.clone()
                        })
                        .collect()
                }
                None => ["1", "2", "3", "5", "7", "0.5", "0.1"]
                    .into_iter()
                    .filter_map(Dec::parse)
                    .collect(),
            };
            let w = self.witnesses(
                &na_num,
                b,
                cands_for(&base),
                Some(&|v: &Value| {
                    Dec::of_value(v).is_some_and(|f| f.is_multiple_of(m) == Some(true))
                }),
            );
            let al = na
                .multiple_of
                .first()
                .map(|x| x.1.clone())
                .unwrap_or(na.loc.clone());
            let from = na
                .multiple_of
                .first()
                .map(|x| x.0.to_string())
                .unwrap_or(if int_only {
                    "1 (integer)".into()
                } else {
                    "none".into()
                });
            out.push(self.raw(
                rules::MULTIPLE_OF,
                false,
                &al,
                bl,
                format!("multipleOf: {{A}} {from} is not a multiple of {{B}} {m}"),
                w,
            ));
        }
    }
}

// Candidates.

/// The smallest integer a bound admits (`lower`) or the largest (`!lower`).
pub(crate) fn integer_bound(b: &Bound, lower: bool) -> Dec {
    match (lower, b.excl) {
        (true, true) => b.v.floor().plus(1),
        (true, false) => b.v.ceil(),
        (false, true) => b.v.ceil().plus(-1),
        (false, false) => b.v.floor(),
    }
}

/// Numbers near the norm's bounds and multiples; `extra` adds rule-specific targets.
pub(crate) fn number_candidates(n: &Norm, integer: bool, extra: &[Dec]) -> Vec<Value> {
    let mut xs: Vec<Dec> = extra.to_vec();
    let bound = |b: &Option<Bound>, lower: bool| {
        b.as_ref().map(|b| {
            if integer {
                integer_bound(b, lower)
            } else {
                b.v.clone()
            }
        })
    };
    let lo = bound(&n.lower, true);
    let hi = bound(&n.upper, false);
    xs.extend([Dec::zero(), Dec::from_i128(1), Dec::from_i128(-1)]);
    if let Some(l) = &lo {
        xs.extend([l.clone(), l.plus(1)]);
    }
    if let Some(h) = &hi {
        xs.extend([h.clone(), h.plus(-1)]);
    }
    for (m, _) in &n.multiple_of {
        // Multiples near the lower bound: steered by floats, checked exactly.
        let m_f = m.to_f64();
        let start = lo.as_ref().map(Dec::to_f64).unwrap_or(0.0);
        let k = (start / m_f).ceil();
        for f in [k * m_f, (k + 1.0) * m_f] {
            if let Some(d) = Number::from_f64(f).map(|x| Dec::of(&x)) {
                xs.push(d);
            }
        }
        xs.push(m.clone());
    }
    let (half, quarter) = (Dec::parse("0.5"), Dec::parse("0.25"));
    let mut out = Vec::new();
    for x in xs {
        if integer {
            if x.is_integer() {
                out.extend(x.to_value());
            }
        } else {
            let mut ys = vec![x.clone()];
            if let (Some(h), Some(q)) = (&half, &quarter) {
                ys = vec![x.add(h), x.add(&h.add(&Dec::from_i128(-1))), x.add(q), x];
            }
            for y in ys {
                if !y.is_integer() {
                    out.extend(y.to_value());
                }
            }
        }
    }
    out
}
