//! Normal form of a conjunction of subschemas.
//!
//! The checker never compares raw JSON. A position in an instance is described by a
//! *conjunction* ([`Conj`]): the subschemas that all apply there (a `$ref` target, `allOf`
//! members, a chosen `anyOf`/`oneOf` branch, synthetic restrictions such as "type is string").
//! [`Ctx::norm`] flattens a conjunction into a [`Norm`]: keyword families merged (types and
//! enums intersected, bounds tightened, `required` united), while keywords whose meaning is
//! local to one schema object (`properties` + `additionalProperties`, `prefixItems` + `items`)
//! are kept per object as content models so the merge stays exact.

use super::family::types_enums::EnumFacet;
use super::number::numbers_equal;
pub(crate) use super::number::Dec;
use super::oracle::Patterns;
use super::store::{Dialect, DocId, DocStore};
use super::CompatError;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

pub(crate) const NULL: u8 = 1;
pub(crate) const BOOL: u8 = 2;
/// Integers. `number` is `INT | NUM`.
pub(crate) const INT: u8 = 4;
/// Non-integer numbers.
pub(crate) const NUM: u8 = 8;
pub(crate) const STR: u8 = 16;
pub(crate) const ARR: u8 = 32;
pub(crate) const OBJ: u8 = 64;
pub(crate) const ALL: u8 = 127;

pub(crate) fn type_bits(name: &str) -> u8 {
    match name {
        "null" => NULL,
        "boolean" => BOOL,
        "integer" => INT,
        "number" => INT | NUM,
        "string" => STR,
        "array" => ARR,
        "object" => OBJ,
        _ => ALL,
    }
}

pub(crate) fn type_names(bits: u8) -> String {
    let mut out = Vec::new();
    for (b, n) in [
        (NULL, "null"),
        (BOOL, "boolean"),
        (STR, "string"),
        (ARR, "array"),
        (OBJ, "object"),
    ] {
        if bits & b != 0 {
            out.push(n);
        }
    }
    if bits & (INT | NUM) == INT | NUM {
        out.push("number");
    } else if bits & INT != 0 {
        out.push("integer");
    } else if bits & NUM != 0 {
        out.push("non-integer number");
    }
    out.sort_unstable();
    format!("[{}]", out.join(", "))
}

pub(crate) fn bits_of(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOL,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                INT
            } else {
                NUM
            }
        }
        Value::String(_) => STR,
        Value::Array(_) => ARR,
        Value::Object(_) => OBJ,
    }
}

pub(crate) use super::family::Loc;

/// One member of a conjunction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SRef {
    /// A subschema in a document.
    At(DocId, Rc<str>),
    /// Synthetic: the instance has one of these types.
    Type(u8),
    /// Synthetic: the instance is an object carrying this property.
    Required(Rc<str>),
}

/// Subschemas that all apply at one instance position, in one side's store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Conj {
    pub side: usize,
    pub refs: Vec<SRef>,
    /// `anyOf`/`oneOf` locations already expanded into a branch (the branch is in `refs`).
    pub skip: Vec<Loc>,
}

impl Conj {
    pub fn one(side: usize, r: SRef) -> Conj {
        Conj {
            side,
            refs: vec![r],
            skip: Vec::new(),
        }
    }
    pub fn with(&self, r: SRef) -> Conj {
        let mut c = self.clone();
        if !c.refs.contains(&r) {
            c.refs.push(r);
        }
        c
    }
    pub fn key(&self) -> ConjKey {
        let mut r = self.refs.clone();
        r.sort();
        r.dedup();
        let mut s = self.skip.clone();
        s.sort();
        (self.side, r, s)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub v: Dec,
    pub excl: bool,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct ObjModel {
    pub props: BTreeMap<String, SRef>,
    pub patterns: Vec<(String, SRef)>,
    /// `None`: absent (open by omission).
    pub additional: Option<SRef>,
}

#[derive(Debug, Clone)]
pub(crate) struct ArrModel {
    pub prefix: Vec<SRef>,
    pub rest: Option<SRef>,
    pub loc: Loc,
}

/// `contains` with its `minContains` (default 1) and `maxContains`.
#[derive(Debug, Clone)]
pub(crate) struct ContainsFacet {
    pub schema: SRef,
    pub min: u64,
    pub max: Option<u64>,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct Disj {
    pub one: bool,
    pub branches: Vec<SRef>,
    pub loc: Loc,
}

/// Flattened conjunction. Each keyword remembers where it came from for reporting.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    pub loc: Loc,
    pub never: Option<Loc>,
    pub types: u8,
    pub types_loc: Option<Loc>,
    pub enum_: Option<EnumFacet>,
    pub min_len: Option<(u64, Loc)>,
    pub max_len: Option<(u64, Loc)>,
    pub patterns: Vec<(String, Loc)>,
    pub formats: Vec<(String, Loc)>,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    pub multiple_of: Vec<(Dec, Loc)>,
    pub arr_models: Vec<ArrModel>,
    pub min_items: Option<(u64, Loc)>,
    pub max_items: Option<(u64, Loc)>,
    pub unique: Option<Loc>,
    pub contains: Vec<ContainsFacet>,
    pub obj_models: Vec<ObjModel>,
    pub required: BTreeMap<String, Loc>,
    pub min_props: Option<(u64, Loc)>,
    pub max_props: Option<(u64, Loc)>,
    pub dep_required: BTreeMap<String, Vec<(String, Loc)>>,
    pub dep_schemas: Vec<(String, SRef, Loc)>,
    pub disj: Vec<Disj>,
    pub nots: Vec<(SRef, Loc)>,
    /// Keywords the checker does not analyse (compared for equality only).
    pub other: Vec<(String, Loc)>,
    /// Evaluations collected outside the schema object being collected: subschemas met again
    /// (collected once), disjunctions already expanded (their branch is collected separately).
    elsewhere: usize,
}

impl Norm {
    fn empty(loc: Loc) -> Norm {
        Norm {
            loc,
            never: None,
            types: ALL,
            types_loc: None,
            enum_: None,
            min_len: None,
            max_len: None,
            patterns: Vec::new(),
            formats: Vec::new(),
            lower: None,
            upper: None,
            multiple_of: Vec::new(),
            arr_models: Vec::new(),
            min_items: None,
            max_items: None,
            unique: None,
            contains: Vec::new(),
            obj_models: Vec::new(),
            required: BTreeMap::new(),
            min_props: None,
            max_props: None,
            dep_required: BTreeMap::new(),
            dep_schemas: Vec::new(),
            disj: Vec::new(),
            nots: Vec::new(),
            other: Vec::new(),
            elsewhere: 0,
        }
    }

    /// Schemas that apply to property `key` (one per content model that says something).
    pub fn prop_schema(&self, key: &str, ctx: &Ctx<'_>) -> Vec<SRef> {
        let mut out = Vec::new();
        for m in &self.obj_models {
            if let Some(s) = m.props.get(key) {
                out.push(s.clone());
                continue;
            }
            let mut matched = false;
            for (p, s) in &m.patterns {
                if ctx.regex_match(p, key) != Some(false) {
                    out.push(s.clone());
                    matched = true;
                }
            }
            if !matched {
                if let Some(a) = &m.additional {
                    out.push(a.clone());
                }
            }
        }
        out
    }

    pub fn declares(&self, key: &str) -> bool {
        self.obj_models.iter().any(|m| m.props.contains_key(key))
    }

    pub fn pattern_matches(&self, key: &str, ctx: &Ctx<'_>) -> bool {
        self.obj_models.iter().any(|m| {
            m.patterns
                .iter()
                .any(|(p, _)| ctx.regex_match(p, key) == Some(true))
        })
    }

    /// Some content model gives undeclared keys an explicit (non-boolean) schema: a map.
    pub fn explicit_map(&self, ctx: &Ctx<'_>, side: usize) -> bool {
        self.obj_models.iter().any(|m| matches!(&m.additional, Some(r) if matches!(ctx.value(side, r), Some(Value::Object(_)))))
    }

    /// Schemas for array position `i`.
    pub fn item_schema(&self, i: usize) -> Vec<SRef> {
        let mut out = Vec::new();
        for m in &self.arr_models {
            if let Some(s) = m.prefix.get(i) {
                out.push(s.clone());
            } else if let Some(r) = &m.rest {
                out.push(r.clone());
            }
        }
        out
    }

    pub fn max_prefix(&self) -> usize {
        self.arr_models
            .iter()
            .map(|m| m.prefix.len())
            .max()
            .unwrap_or(0)
    }
}

/// Identity of a conjunction (side, sorted members, expanded disjunctions).
pub(crate) type ConjKey = (usize, Vec<SRef>, Vec<Loc>);
/// A pair of subschema locations on two sides.
pub(crate) type EqKey = (usize, Loc, usize, Loc);

/// Shared state of one comparison: both stores plus a regex cache.
pub(crate) struct Ctx<'s> {
    pub stores: [&'s DocStore; 2],
    /// Pattern and format answers from the validator.
    pub oracle: Patterns,
    norms: RefCell<HashMap<Conj, Rc<Norm>>>,
    /// Memoized structural equality (see `Checker::equal_v`).
    pub eq_cache: RefCell<HashMap<EqKey, bool>>,
    /// Count of coinductive assumptions used by equality checks (results relying on one are not memoized).
    pub eq_assumed: std::cell::Cell<usize>,
}

impl<'s> Ctx<'s> {
    pub fn new(a: &'s DocStore, b: &'s DocStore) -> Ctx<'s> {
        Ctx {
            stores: [a, b],
            oracle: Patterns,
            norms: RefCell::new(HashMap::new()),
            eq_cache: RefCell::new(HashMap::new()),
            eq_assumed: std::cell::Cell::new(0),
        }
    }

    /// Whether `s` matches `pattern` as the validator reads it (`None`: it does not compile).
    pub fn regex_match(&self, pattern: &str, s: &str) -> Option<bool> {
        self.oracle.matches(pattern, s)
    }

    pub fn value(&self, side: usize, r: &SRef) -> Option<&'s Value> {
        match r {
            SRef::At(d, p) => self.stores[side].doc(*d).value.pointer(p),
            _ => None,
        }
    }

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
        let at = |kw: &str| -> Loc {
            (
                doc,
                Rc::from(format!("{ptr}/{}", super::source_map::escape(kw))),
            )
        };
        let sub = |kw: &str| {
            SRef::At(
                doc,
                Rc::from(format!("{ptr}/{}", super::source_map::escape(kw))),
            )
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
        let bad = |kw: &str, why: &str| CompatError::Invalid {
            file: store.doc(doc).path.clone(),
            pointer: format!("{ptr}/{kw}"),
            reason: why.to_string(),
        };
        let start = Start::of(n);
        if let Some(reference) = obj.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| bad("$ref", "must be a string"))?;
            let (td, tp) = store.resolve(doc, &ptr, reference)?;
            self.collect(side, &SRef::At(td, Rc::from(tp)), n, seen, skip)?;
            if dialect == Dialect::Draft7 {
                return Ok(());
            }
        }
        let num = |kw: &str| -> Result<Option<Dec>, CompatError> {
            match obj.get(kw) {
                None => Ok(None),
                Some(x) => Dec::of_value(x)
                    .map(Some)
                    .ok_or_else(|| bad(kw, "must be a number")),
            }
        };
        let count = |kw: &str| -> Result<Option<u64>, CompatError> {
            match obj.get(kw) {
                None => Ok(None),
                Some(x) => x
                    .as_u64()
                    .or_else(|| {
                        x.as_f64()
                            .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                            .map(|f| f as u64)
                    })
                    .map(Some)
                    .ok_or_else(|| bad(kw, "must be a non-negative integer")),
            }
        };
        if let Some(t) = obj.get("type") {
            let bits = match t {
                Value::String(s) => type_bits(s),
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(type_bits)
                    .fold(0, |x, y| x | y),
                _ => return Err(bad("type", "must be a string or an array of strings")),
            };
            n.types &= bits;
            n.types_loc.get_or_insert(at("type"));
        }
        let mut enum_vals: Option<EnumFacet> = None;
        if let Some(c) = obj.get("const") {
            enum_vals = Some(EnumFacet::new(vec![c.clone()], at("const"), true));
        }
        if let Some(e) = obj.get("enum") {
            let vals = e
                .as_array()
                .ok_or_else(|| bad("enum", "must be an array"))?
                .clone();
            let listed = EnumFacet::new(vals, at("enum"), false);
            enum_vals = Some(match enum_vals {
                Some(c) => c.intersect(&listed, true),
                None => listed,
            });
        }
        if let Some(facet) = enum_vals {
            let is_const = facet.is_const;
            n.enum_ = Some(match n.enum_.take() {
                Some(prev) => prev.intersect(&facet, is_const),
                None => facet,
            });
        }
        if let Some(x) = count("minLength")? {
            if n.min_len.as_ref().is_none_or(|m| x > m.0) {
                n.min_len = Some((x, at("minLength")));
            }
        }
        if let Some(x) = count("maxLength")? {
            if n.max_len.as_ref().is_none_or(|m| x < m.0) {
                n.max_len = Some((x, at("maxLength")));
            }
        }
        if let Some(p) = obj.get("pattern") {
            n.patterns.push((
                p.as_str()
                    .ok_or_else(|| bad("pattern", "must be a string"))?
                    .to_string(),
                at("pattern"),
            ));
        }
        if let Some(f) = obj.get("format").and_then(Value::as_str) {
            n.formats.push((f.to_string(), at("format")));
        }
        let lower = |v: Dec, excl: bool, loc: Loc, n: &mut Norm| {
            let tighter = match &n.lower {
                None => true,
                Some(b) => v > b.v || (v == b.v && excl && !b.excl),
            };
            if tighter {
                n.lower = Some(Bound { v, excl, loc });
            }
        };
        if let Some(x) = num("minimum")? {
            lower(x, false, at("minimum"), n);
        }
        match obj.get("exclusiveMinimum") {
            Some(Value::Bool(true)) => {
                if let Some(x) = num("minimum")? {
                    lower(x, true, at("exclusiveMinimum"), n);
                }
            }
            Some(Value::Number(x)) => lower(Dec::of(x), true, at("exclusiveMinimum"), n),
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
        if let Some(x) = num("maximum")? {
            upper(x, false, at("maximum"), n);
        }
        match obj.get("exclusiveMaximum") {
            Some(Value::Bool(true)) => {
                if let Some(x) = num("maximum")? {
                    upper(x, true, at("exclusiveMaximum"), n);
                }
            }
            Some(Value::Number(x)) => upper(Dec::of(x), true, at("exclusiveMaximum"), n),
            _ => {}
        }
        if let Some(x) = num("multipleOf")? {
            if x.is_zero() || x.is_negative() {
                return Err(bad("multipleOf", "must be greater than 0"));
            }
            n.multiple_of.push((x, at("multipleOf")));
        }
        // Arrays.
        let mut arr = ArrModel {
            prefix: Vec::new(),
            rest: None,
            loc: (doc, ptr.clone()),
        };
        let mut has_arr = false;
        let legacy_items = dialect != Dialect::Draft2020;
        if let Some(p) = obj.get("prefixItems").filter(|_| !legacy_items) {
            let len = p
                .as_array()
                .ok_or_else(|| bad("prefixItems", "must be an array"))?
                .len();
            arr.prefix = (0..len)
                .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/prefixItems/{i}"))))
                .collect();
            has_arr = true;
        }
        match obj.get("items") {
            Some(Value::Array(items)) if legacy_items => {
                arr.prefix = (0..items.len())
                    .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/items/{i}"))))
                    .collect();
                if obj.contains_key("additionalItems") {
                    arr.rest = Some(sub("additionalItems"));
                }
                has_arr = true;
            }
            Some(Value::Array(_)) => {
                return Err(bad(
                    "items",
                    "array form of items is draft-07/2019-09 only; use prefixItems",
                ))
            }
            Some(_) => {
                arr.rest = Some(sub("items"));
                has_arr = true;
            }
            None => {}
        }
        if has_arr {
            n.arr_models.push(arr);
        }
        if let Some(x) = count("minItems")? {
            if n.min_items.as_ref().is_none_or(|m| x > m.0) {
                n.min_items = Some((x, at("minItems")));
            }
        }
        if let Some(x) = count("maxItems")? {
            if n.max_items.as_ref().is_none_or(|m| x < m.0) {
                n.max_items = Some((x, at("maxItems")));
            }
        }
        if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
            n.unique.get_or_insert(at("uniqueItems"));
        }
        if obj.contains_key("contains") {
            // `minContains`/`maxContains` are 2019-09 keywords, and mean nothing without `contains`.
            let (min, max) = if dialect == Dialect::Draft7 {
                (1, None)
            } else {
                (count("minContains")?.unwrap_or(1), count("maxContains")?)
            };
            n.contains.push(ContainsFacet {
                schema: sub("contains"),
                min,
                max,
                loc: at("contains"),
            });
        }
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
                    .ok_or_else(|| bad("properties", "must be an object"))?;
                for k in p.keys() {
                    m.props.insert(
                        k.clone(),
                        SRef::At(
                            doc,
                            Rc::from(format!("{ptr}/properties/{}", super::source_map::escape(k))),
                        ),
                    );
                }
            }
            if let Some(p) = obj.get("patternProperties") {
                let p = p
                    .as_object()
                    .ok_or_else(|| bad("patternProperties", "must be an object"))?;
                for k in p.keys() {
                    m.patterns.push((
                        k.clone(),
                        SRef::At(
                            doc,
                            Rc::from(format!(
                                "{ptr}/patternProperties/{}",
                                super::source_map::escape(k)
                            )),
                        ),
                    ));
                }
            }
            if obj.contains_key("additionalProperties") {
                m.additional = Some(sub("additionalProperties"));
            }
            n.obj_models.push(m);
        }
        if let Some(r) = obj.get("required") {
            let r = r
                .as_array()
                .ok_or_else(|| bad("required", "must be an array"))?;
            for (i, k) in r.iter().enumerate() {
                let k = k
                    .as_str()
                    .ok_or_else(|| bad("required", "must hold strings"))?;
                n.required
                    .entry(k.to_string())
                    .or_insert_with(|| (doc, Rc::from(format!("{ptr}/required/{i}"))));
            }
        }
        if let Some(x) = count("minProperties")? {
            if n.min_props.as_ref().is_none_or(|m| x > m.0) {
                n.min_props = Some((x, at("minProperties")));
            }
        }
        if let Some(x) = count("maxProperties")? {
            if n.max_props.as_ref().is_none_or(|m| x < m.0) {
                n.max_props = Some((x, at("maxProperties")));
            }
        }
        let mut deps: Vec<(&str, &serde_json::Map<String, Value>)> = Vec::new();
        for kw in ["dependentRequired", "dependentSchemas", "dependencies"] {
            if let Some(d) = obj.get(kw) {
                deps.push((
                    kw,
                    d.as_object().ok_or_else(|| bad(kw, "must be an object"))?,
                ));
            }
        }
        for (kw, d) in deps {
            for (k, val) in d {
                let loc: Loc = (
                    doc,
                    Rc::from(format!("{ptr}/{kw}/{}", super::source_map::escape(k))),
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
                    _ => return Err(bad(kw, "values must be arrays of property names")),
                }
            }
        }
        if let Some(all) = obj.get("allOf") {
            let all = all
                .as_array()
                .ok_or_else(|| bad("allOf", "must be an array"))?;
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
        for (kw, one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(b) = obj.get(kw) {
                let b = b.as_array().ok_or_else(|| bad(kw, "must be an array"))?;
                let loc = at(kw);
                if skip.contains(&loc) {
                    n.elsewhere += 1;
                    continue;
                }
                n.disj.push(Disj {
                    one,
                    branches: (0..b.len())
                        .map(|i| SRef::At(doc, Rc::from(format!("{ptr}/{kw}/{i}"))))
                        .collect(),
                    loc,
                });
            }
        }
        if obj.contains_key("not") {
            n.nots.push((sub("not"), at("not")));
        }
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
                n.other.push((kw.to_string(), at(kw)));
            }
        }
        if dialect != Dialect::Draft7 {
            for kw in ["unevaluatedProperties", "unevaluatedItems"] {
                if obj.contains_key(kw) {
                    unevaluated(n, &start, kw, sub(kw), at(kw));
                }
            }
        }
        Ok(())
    }
}

/// Sizes of a [`Norm`]'s lists when collection of one schema object began: what was added
/// since is that object's own and in-place (`$ref`, `allOf`) evaluation.
struct Start {
    obj_models: usize,
    arr_models: usize,
    disj: usize,
    other: usize,
    dep_schemas: usize,
    contains: usize,
    elsewhere: usize,
}

impl Start {
    fn of(n: &Norm) -> Start {
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

/// JSON equality where numbers compare by value (`1 == 1.0`), as JSON Schema requires.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
