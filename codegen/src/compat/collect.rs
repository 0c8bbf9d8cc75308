//! Normalisation: [`Ctx::norm`] flattens a conjunction into a [`Norm`].
//!
//! This file follows `$ref`s and `allOf` members (both join the conjunction in place) and
//! hands each schema object to every keyword family's `collect` (see `family/mod.rs`), which
//! reads its own keywords into its facet of the [`Norm`]. The result is memoized per
//! conjunction.

use super::family::{
    arrays, combinators, dependencies, formats, numbers, objects, strings, types_enums, unanalysed,
};
use super::norm::*;
use super::store::{Dialect, DocId};
use super::CompatError;
use serde_json::Value;
use std::collections::HashSet;
use std::rc::Rc;

impl Ctx<'_> {
    /// The normal form of `c` (memoized).
    pub fn norm(&self, c: &Conj) -> Result<Rc<Norm>, CompatError> {
        if let Some(n) = self.norms.borrow().get(c) {
            return Ok(n.clone());
        }
        let first = c.refs.iter().find_map(|r| match r {
            SRef::At(d, p) => Some((*d, p.clone())),
            _ => None,
        });
        let mut n = Norm::empty(first.unwrap_or((0, Rc::from(""))));
        let mut seen = HashSet::new();
        for r in &c.refs {
            self.collect(c.side, r, &mut n, &mut seen, &c.skip)?;
        }
        if let Some(e) = &mut n.enum_ {
            let types = n.types;
            e.retain(|v| types & bits_of(v) != 0);
            n.types &= e.values.iter().fold(0, |acc, v| acc | bits_of(v));
        }
        if n.types == 0 && n.never.is_none() {
            n.never = n.types_loc.clone().or(Some(n.loc.clone()));
        }
        let n = Rc::new(n);
        self.norms.borrow_mut().insert(c.clone(), n.clone());
        Ok(n)
    }

    fn collect(
        &self,
        side: usize,
        r: &SRef,
        n: &mut Norm,
        seen: &mut HashSet<(DocId, Rc<str>)>,
        skip: &[Loc],
    ) -> Result<(), CompatError> {
        let (doc, ptr) = match r {
            SRef::Type(t) => {
                n.types &= *t;
                return Ok(());
            }
            SRef::Required(k) => {
                n.types &= OBJ;
                n.required
                    .entry(k.to_string())
                    .or_insert_with(|| n.loc.clone());
                return Ok(());
            }
            SRef::At(d, p) => (*d, p.clone()),
        };
        if !seen.insert((doc, ptr.clone())) {
            n.elsewhere += 1;
            return Ok(());
        }
        let store = self.stores[side];
        let dialect = store.doc(doc).dialect;
        let Some(v) = store.doc(doc).value.pointer(&ptr) else {
            return Err(CompatError::Invalid {
                file: store.doc(doc).path.clone(),
                pointer: ptr.to_string(),
                reason: "subschema not found".into(),
            });
        };
        let obj = match v {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => {
                n.never.get_or_insert((doc, ptr.clone()));
                return Ok(());
            }
            Value::Object(o) => o,
            _ => {
                return Err(CompatError::Invalid {
                    file: store.doc(doc).path.clone(),
                    pointer: ptr.to_string(),
                    reason: "a schema must be an object or a boolean".into(),
                })
            }
        };
        let s = SchemaObject {
            doc,
            ptr: ptr.clone(),
            obj,
            dialect,
            file: &store.doc(doc).path,
        };
        let start = unanalysed::Start::of(n);
        if let Some(reference) = obj.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| s.bad("$ref", "must be a string"))?;
            let (td, tp) = store.resolve(doc, &ptr, reference)?;
            self.collect(side, &SRef::At(td, Rc::from(tp)), n, seen, skip)?;
            if dialect == Dialect::Draft7 {
                return Ok(());
            }
        }
        types_enums::collect(&s, n)?;
        strings::collect(&s, n)?;
        formats::collect(&s, n)?;
        numbers::collect(&s, n)?;
        arrays::collect(&s, n)?;
        objects::collect(&s, n)?;
        dependencies::collect(&s, n)?;
        if let Some(all) = obj.get("allOf") {
            let all = all
                .as_array()
                .ok_or_else(|| s.bad("allOf", "must be an array"))?;
            for i in 0..all.len() {
                self.collect(
                    side,
                    &SRef::At(doc, Rc::from(format!("{ptr}/allOf/{i}"))),
                    n,
                    seen,
                    skip,
                )?;
            }
        }
        combinators::collect(&s, n, skip)?;
        unanalysed::collect(&s, n, &start)?;
        Ok(())
    }
}
