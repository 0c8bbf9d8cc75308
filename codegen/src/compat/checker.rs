//! The checker's state and the services every keyword family uses.
//!
//! A [`Checker`] answers "does every instance of conjunction A validate against conjunction
//! B?" (the walk is in `subset.rs`, the per-keyword rules in `family/`). Each family reports a
//! failure as a [`Raw`] finding: a rule, the two locations, a message with `{A}`/`{B}`
//! placeholders, and candidate counterexamples. A candidate is a *leaf* value at the current
//! instance position; [`Checker::witnesses`] keeps those A accepts and B rejects (by the local
//! evaluator, which only steers: `compat::compare` re-validates each with `jsonschema`) and
//! wraps them into whole documents along the instance path ([`Step`]s pushed by
//! [`Checker::subset_below`]).

use super::norm::*;
use super::rules::Rule;
use super::{CompatError, Policy};
use serde_json::Value;
use std::collections::HashSet;

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

/// One step down the instance path: into a property or an array item.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

type PairKey = (ConjKey, ConjKey);

/// One direction of one comparison (A ⊆ B) under one policy.
pub(crate) struct Checker<'c, 's> {
    pub(crate) ctx: &'c Ctx<'s>,
    pub(crate) policy: Policy,
    /// Pairs under comparison (assumed to hold when met again: coinduction).
    pub(super) in_progress: HashSet<PairKey>,
    /// The instance path from the root to the position being compared.
    stack: Vec<(Conj, Step)>,
    pub(super) depth: usize,
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
                    let len = (*i + 1).max(n.items.lower() as usize);
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

    /// Compares `a ⊆ b` one step below `parent` on the instance path (a property or an
    /// item), so the witnesses found there become whole documents.
    pub(crate) fn subset_below(
        &mut self,
        parent: &Conj,
        step: Step,
        a: &Conj,
        b: &Conj,
    ) -> Result<Vec<Raw>, CompatError> {
        self.stack.push((parent.clone(), step));
        let r = self.subset(a, b);
        self.stack.pop();
        r
    }

    /// Candidates of every type A allows: a generated instance, then each type's samples.
    pub(crate) fn all_candidates(&self, a: &Conj, na: &Norm) -> Vec<Value> {
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
}

/// Schema values (enum members, property names) shown in messages, truncated.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Drops repeated findings (same rule, locations and certainty).
pub(crate) fn dedup(v: Vec<Raw>) -> Vec<Raw> {
    let mut seen = HashSet::new();
    v.into_iter()
        .filter(|r| seen.insert((r.rule.narrowing, r.a.clone(), r.b.clone(), r.unknown)))
        .collect()
}
