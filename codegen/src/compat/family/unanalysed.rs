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
use super::super::store::Dialect;
use super::super::CompatError;
use std::collections::BTreeMap;
use std::collections::HashSet;

/// Collects this family's keywords of one schema object into `n`: keywords kept for structural comparison only, and `unevaluated*` (see [`unevaluated`]).
pub(crate) fn collect(
    s: &SchemaObject<'_>,
    n: &mut Norm,
    start: &Start,
) -> Result<(), CompatError> {
    let (obj, dialect) = (s.obj, s.dialect);
    for kw in [
        "if",
        "then",
        "else",
        "propertyNames",
        "$dynamicRef",
        "$recursiveRef",
        "contentSchema",
    ] {
        if obj.contains_key(kw) {
            n.other.push((kw.to_string(), s.at(kw)));
        }
    }
    if dialect != Dialect::Draft7 {
        for kw in ["unevaluatedProperties", "unevaluatedItems"] {
            if obj.contains_key(kw) {
                unevaluated(n, start, kw, s.sub(kw), s.at(kw));
            }
        }
    }
    Ok(())
}

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

/// Sizes of a [`Norm`]'s lists when collection of one schema object began: what was added
/// since is that object's own and in-place (`$ref`, `allOf`) evaluation.
pub(crate) struct Start {
    obj_models: usize,
    arr_models: usize,
    disj: usize,
    other: usize,
    dep_schemas: usize,
    contains: usize,
    elsewhere: usize,
}

impl Start {
    pub(crate) fn of(n: &Norm) -> Start {
        Start {
            obj_models: n.obj_models.len(),
            arr_models: n.arr_models.len(),
            disj: n.disj.len(),
            other: n.other.len(),
            dep_schemas: n.dep_schemas.len(),
            contains: n.contains.len(),
            elsewhere: n.elsewhere,
        }
    }
}

/// Models `unevaluatedProperties`/`unevaluatedItems` of one schema object as a content model
/// over what that object and its in-place subschemas evaluate.
///
/// Exact only when every evaluation is visible here. When some may be hidden (a branch of
/// `anyOf`/`oneOf`, `if`/`then`/`else`, `dependentSchemas`, `contains`, dynamic references, a
/// subschema collected earlier), the keyword becomes "not analysed": dropped when this side is
/// the one whose documents are enumerated (a wider reading is safe there), unknown when it is
/// the side that must accept them.
fn unevaluated(n: &mut Norm, start: &Start, kw: &str, schema: SRef, loc: Loc) {
    let hidden = n.disj.len() > start.disj
        || n.elsewhere > start.elsewhere
        || n.other[start.other..].iter().any(|(k, _)| {
            matches!(
                k.as_str(),
                "if" | "then" | "else" | "$dynamicRef" | "$recursiveRef"
            )
        })
        || (kw == "unevaluatedItems" && n.contains.len() > start.contains)
        || (kw == "unevaluatedProperties" && n.dep_schemas.len() > start.dep_schemas);
    if hidden {
        n.other.push((kw.to_string(), loc));
        return;
    }
    if kw == "unevaluatedProperties" {
        let own = &n.obj_models[start.obj_models..];
        if own.iter().any(|m| m.additional.is_some()) {
            return; // every property is evaluated
        }
        let mut props = BTreeMap::new();
        let mut patterns = Vec::new();
        for m in own {
            for k in m.props.keys() {
                props.insert(k.clone(), SRef::Type(ALL));
            }
            for (p, _) in &m.patterns {
                patterns.push((p.clone(), SRef::Type(ALL)));
            }
        }
        n.obj_models.push(ObjModel {
            props,
            patterns,
            additional: Some(schema),
        });
    } else {
        let own = &n.arr_models[start.arr_models..];
        if own.iter().any(|m| m.rest.is_some()) {
            return; // every item is evaluated
        }
        let len = own.iter().map(|m| m.prefix.len()).max().unwrap_or(0);
        n.arr_models.push(ArrModel {
            prefix: vec![SRef::Type(ALL); len],
            rest: Some(schema),
            loc: loc.clone(),
        });
    }
}
