//! Objects: `properties`, `patternProperties`, `additionalProperties`,
//! `unevaluatedProperties` (when resolved locally), `required`, `minProperties`,
//! `maxProperties`.
//!
//! Keys are compared by class, one representative key each: every key either side declares
//! or requires, a sample key per `patternProperties` pattern (and per overlap of two
//! patterns), and one undeclared key. For each, A's schema for that key must be a subset of
//! B's (compared recursively one step down the instance path), with these rules (A ⊆ B):
//! * B forbids a key A allows (`false`, a closed content model): `property-removed-closed`
//!   for a declared key, `pattern-property-removed` for a pattern key, `content-model-closed`
//!   for undeclared keys.
//! * B constrains a key that A leaves free as an undeclared property of an open object:
//!   under the **strict** policy A may already carry it with any value, so this narrows
//!   (`property-added-open`, `pattern-property-*`, `content-model-*`). Under the **lenient**
//!   policy producers emit only declared keys, so keys A neither declares nor matches by a
//!   pattern (nor allows by an explicit `additionalProperties` schema) are skipped.
//! * `required`: a key B requires must be required by A (`required-added`, or
//!   `required-added-with-default`: validators do not insert defaults).
//! * Sizes go through the one size check ([`bounds`](super::bounds)). Under the lenient
//!   policy an object that only declares keys has at most as many properties as it
//!   declares, which bounds A's size for B's `maxProperties`.
//!
//! When keys matched by several patterns could not all be sampled, the verdict is unknown.
//! `dependentRequired`/`dependentSchemas` are in [`dependencies`](super::dependencies).

use super::super::checker::{short, Checker, Raw, Step};
use super::super::norm::*;
use super::super::rules;
use super::super::{CompatError, Policy};
use super::bounds::{collect_sizes, SizeBounds};
use super::strings::pattern_covered;
use super::strings::pattern_samples;
use serde_json::Value;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Collects this family's keywords of one schema object into `n`: `properties`/`patternProperties`/`additionalProperties` as one content model per schema object; `required` (united), `minProperties`/`maxProperties`.
pub(crate) fn collect(s: &SchemaObject<'_>, n: &mut Norm) -> Result<(), CompatError> {
    let (obj, doc, ptr) = (s.obj, s.doc, &s.ptr);
    // Objects.
    if obj.contains_key("properties")
        || obj.contains_key("patternProperties")
        || obj.contains_key("additionalProperties")
    {
        let mut m = ObjModel {
            props: BTreeMap::new(),
            patterns: Vec::new(),
            additional: None,
        };
        if let Some(p) = obj.get("properties") {
            let p = p
                .as_object()
                .ok_or_else(|| s.bad("properties", "must be an object"))?;
            for k in p.keys() {
                m.props.insert(
                    k.clone(),
                    SRef::At(
                        doc,
                        Rc::from(format!(
                            "{ptr}/properties/{}",
                            super::super::source_map::escape(k)
                        )),
                    ),
                );
            }
        }
        if let Some(p) = obj.get("patternProperties") {
            let p = p
                .as_object()
                .ok_or_else(|| s.bad("patternProperties", "must be an object"))?;
            for k in p.keys() {
                m.patterns.push((
                    k.clone(),
                    SRef::At(
                        doc,
                        Rc::from(format!(
                            "{ptr}/patternProperties/{}",
                            super::super::source_map::escape(k)
                        )),
                    ),
                ));
            }
        }
        if obj.contains_key("additionalProperties") {
            m.additional = Some(s.sub("additionalProperties"));
        }
        n.obj_models.push(m);
    }
    if let Some(r) = obj.get("required") {
        let r = r
            .as_array()
            .ok_or_else(|| s.bad("required", "must be an array"))?;
        for (i, k) in r.iter().enumerate() {
            let k = k
                .as_str()
                .ok_or_else(|| s.bad("required", "must hold strings"))?;
            n.required
                .entry(k.to_string())
                .or_insert_with(|| (doc, Rc::from(format!("{ptr}/required/{i}"))));
        }
    }
    collect_sizes(s, &mut n.props, ("minProperties", "maxProperties"))?;
    Ok(())
}

impl Checker<'_, '_> {
    /// Properties (declared, pattern, undeclared), `required`, `minProperties`/`maxProperties`.
    pub(crate) fn objects(
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
            out.extend(self.subset_below(&oa, Step::Key(k.clone()), &ak, &bk)?);
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
            && nb.props.upper().is_some_and(|m| declared <= m);
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
                a: &na.props,
                b: &nb.props,
                a_loc: &na.loc,
                size: &|v: &Value| v.as_object().map(|o| o.len() as u64),
            },
            &objects_of,
            bounded_by_declared,
            out,
        );
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
}

pub(crate) fn is_trivial(n: &Norm) -> bool {
    n.never.is_none()
        && n.types == ALL
        && n.enum_.is_none()
        && n.str_len.is_none()
        && n.patterns.is_empty()
        && n.formats.is_empty()
        && n.lower.is_none()
        && n.upper.is_none()
        && n.multiple_of.is_empty()
        && n.arr_models.is_empty()
        && n.items.is_none()
        && n.unique.is_none()
        && n.contains.is_empty()
        && n.obj_models.is_empty()
        && n.required.is_empty()
        && n.props.is_none()
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
