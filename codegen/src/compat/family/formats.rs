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
//!
//! Candidates: a typical value per format ([`format_sample`]) and long valid emails
//! ([`long_email`]) for length bounds on formatted strings.

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
        let amin = na.str_len.lower();
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

// Candidates.

/// An email address of about `len` characters that stays within RFC 5321 limits (local part
/// ≤ 64, labels ≤ 63): the padding goes into extra domain labels.
pub(crate) fn long_email(len: usize) -> String {
    let mut extra = len.saturating_sub("a@example.com".len());
    let mut labels = Vec::new();
    while extra >= 2 {
        let n = (extra - 1).min(60);
        labels.push("a".repeat(n));
        extra -= n + 1;
    }
    let mut s = String::from("a");
    s.push_str(&"a".repeat(extra));
    s.push('@');
    for l in labels {
        s.push_str(&l);
        s.push('.');
    }
    s.push_str("example.com");
    s
}

/// A typical value of format `f`.
pub(crate) fn format_sample(f: &str) -> Option<&'static str> {
    Some(match f {
        "date-time" => "2024-01-02T03:04:05Z",
        "date" => "2024-01-02",
        "time" => "03:04:05Z",
        "email" | "idn-email" => "a@example.com",
        "uuid" => "01890a5d-ac96-774b-bcce-b302099a8057",
        "uri" | "iri" => "https://example.com/a",
        "uri-reference" | "iri-reference" => "a",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "duration" => "P1D",
        "json-pointer" => "/a",
        "relative-json-pointer" => "0",
        "regex" => "a",
        "uri-template" => "a",
        _ => return None,
    })
}
