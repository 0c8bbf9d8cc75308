//! Strings: `format`, read as an assertion (as `jsonschema` validates it for the project).
//!
//! Rules (A ⊆ B):
//! * B's `format` holds for A when A states the same format name. A different format, or a
//!   format added to a string A leaves free, narrows: candidates are strings of A (and a few
//!   typical date/time texts) that B's format rejects, checked by the validator's own format
//!   check (`format-changed`, `format-added`).
//! * Removing a `format` only widens (`format-removed` from the other direction). Formats are
//!   compared by name: `date-time` is not treated as a subset of `string` patterns or vice
//!   versa.

use super::super::checker::{Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::CompatError;
use serde_json::Value;

/// Collects this family's keywords of one schema object into `n`: `format` (all must hold).
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let obj = s.obj;
    if let Some(f) = obj.get("format").and_then(Value::as_str) {
        n.formats.push((f.to_string(), s.at("format")));
    }
    Ok(())
}

impl Checker<'_, '_> {
    /// B's `format`s that A does not state.
    pub(crate) fn formats(&self, a: &Conj, na: &Norm, b: &Conj, nb: &Norm, out: &mut Vec<Raw>) {
        let ctx = self.ctx;
        let sa = a.with(SRef::Type(STR));
        let amin = na.min_len.as_ref().map(|m| m.0).unwrap_or(0);
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
}
