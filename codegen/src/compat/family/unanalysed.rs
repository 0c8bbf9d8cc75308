//! Keywords the checker does not analyse: `if`/`then`/`else`, `propertyNames`,
//! `$dynamicRef`, and `unevaluatedProperties`/`unevaluatedItems` beside evaluations it cannot
//! see (`norm.rs` resolves the local cases into content models).
//!
//! Rule (A ⊆ B): such a keyword of B holds when A has the same keyword with a structurally
//! equal value (see `equality.rs`); otherwise the finding is `keyword-unsupported`, verdict
//! **unknown**, never compatible. `unevaluated*` is always unknown here: its meaning depends
//! on evaluations elsewhere in the schema, so equal text proves nothing.

use super::super::checker::{Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use std::collections::HashSet;

impl Checker<'_, '_> {
    /// Keywords the checker does not model: B's must equal (structurally) one of A's of the
    /// same name, else `keyword-unsupported` (unknown).
    pub(crate) fn unanalysed(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
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
    }
}
