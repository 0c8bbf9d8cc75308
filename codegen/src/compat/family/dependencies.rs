//! Objects, conditional on a key: `dependentRequired`, `dependentSchemas` and draft-07
//! `dependencies` (array form: required keys; schema form: a schema).
//!
//! Rules (A ⊆ B):
//! * `dependentRequired` in B (key k requires d): holds when A requires d outright or has
//!   the same dependency; otherwise an object of A holding k without d is the counterexample
//!   (`dependent-required-added`). Keys A forbids are skipped, and under the lenient policy
//!   so are keys A neither declares nor matches by a pattern (nor allows by an explicit map).
//! * `dependentSchemas` in B (key k ⇒ schema S): A restricted to objects holding k (with A's
//!   own dependent schemas for k) must be a subset of S, compared recursively.

use super::super::checker::{short, Checker, Raw};
use super::super::norm::*;
use super::super::rules;
use super::super::{CompatError, Policy};
use serde_json::Value;
use std::rc::Rc;

/// Collects this family's keywords of one schema object into `n`: `dependentRequired`, `dependentSchemas`, draft-07 `dependencies` (both forms).
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let (obj, doc, ptr) = (s.obj, s.doc, &s.ptr);
    let mut deps: Vec<(&str, &serde_json::Map<String, Value>)> = Vec::new();
    for kw in ["dependentRequired", "dependentSchemas", "dependencies"] {
        if let Some(d) = obj.get(kw) {
            deps.push((
                kw,
                d.as_object()
                    .ok_or_else(|| s.bad(kw, "must be an object"))?,
            ));
        }
    }
    for (kw, d) in deps {
        for (k, val) in d {
            let loc: Loc = (
                doc,
                Rc::from(format!(
                    "{ptr}/{kw}/{}",
                    super::super::source_map::escape(k)
                )),
            );
            match val {
                Value::Array(names) if kw != "dependentSchemas" => {
                    let e = n.dep_required.entry(k.clone()).or_default();
                    for name in names.iter().filter_map(Value::as_str) {
                        e.push((name.to_string(), loc.clone()));
                    }
                }
                _ if kw != "dependentRequired" => {
                    n.dep_schemas
                        .push((k.clone(), SRef::At(loc.0, loc.1.clone()), loc))
                }
                _ => return Err(s.bad(kw, "values must be arrays of property names")),
            }
        }
    }
    Ok(())
}

impl Checker<'_, '_> {
    /// B's dependencies that A's objects may break.
    pub(crate) fn dependencies(
        &mut self,
        a: &Conj,
        na: &Norm,
        b: &Conj,
        nb: &Norm,
        out: &mut Vec<Raw>,
    ) -> Result<(), CompatError> {
        let ctx = self.ctx;
        let oa = a.with(SRef::Type(OBJ));
        let explicit_map = na.explicit_map(ctx, a.side);
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
}
