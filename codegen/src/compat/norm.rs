//! Normal form of a conjunction of subschemas.
//!
//! The checker never compares raw JSON. A position in an instance is described by a
//! *conjunction* ([`Conj`]): the subschemas that all apply there (a `$ref` target, `allOf`
//! members, a chosen `anyOf`/`oneOf` branch, synthetic restrictions such as "type is string").
//! [`Ctx::norm`] flattens a conjunction into a [`Norm`]: keyword families merged (types and
//! enums intersected, bounds tightened, `required` united), while keywords whose meaning is
//! local to one schema object (`properties` + `additionalProperties`, `prefixItems` + `items`)
//! are kept per object as content models so the merge stays exact.

use super::number::numbers_equal;
pub(crate) use super::number::Dec;
use super::oracle::Patterns;
use super::store::{Dialect, DocId, DocStore};
use super::values::EnumFacet;
use super::CompatError;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
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

/// A counted bound (`minLength: 3`) and where it is stated.
#[derive(Debug, Clone)]
pub(crate) struct Count {
    pub n: u64,
    pub loc: Loc,
}

/// A pair of size keywords (`minLength`/`maxLength`, `minItems`/`maxItems`,
/// `minProperties`/`maxProperties`): the tightest bounds of a conjunction. Read by
/// `family::bounds::collect_sizes`, compared by `Checker::size_bounds`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sizes {
    pub min: Option<Count>,
    pub max: Option<Count>,
}

impl Sizes {
    /// The lower bound (0 when absent).
    pub fn lower(&self) -> u64 {
        self.min.as_ref().map(|m| m.n).unwrap_or(0)
    }

    /// The upper bound, if any.
    pub fn upper(&self) -> Option<u64> {
        self.max.as_ref().map(|m| m.n)
    }

    /// Whether a size of `n` is within both bounds.
    pub fn admits(&self, n: u64) -> bool {
        n >= self.lower() && self.upper().is_none_or(|m| n <= m)
    }

    /// Neither bound is stated.
    pub fn is_none(&self) -> bool {
        self.min.is_none() && self.max.is_none()
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
    /// `minLength`/`maxLength`.
    pub str_len: Sizes,
    pub patterns: Vec<(String, Loc)>,
    pub formats: Vec<(String, Loc)>,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    pub multiple_of: Vec<(Dec, Loc)>,
    pub arr_models: Vec<ArrModel>,
    /// `minItems`/`maxItems`.
    pub items: Sizes,
    pub unique: Option<Loc>,
    pub contains: Vec<ContainsFacet>,
    pub obj_models: Vec<ObjModel>,
    pub required: BTreeMap<String, Loc>,
    /// `minProperties`/`maxProperties`.
    pub props: Sizes,
    pub dep_required: BTreeMap<String, Vec<(String, Loc)>>,
    pub dep_schemas: Vec<(String, SRef, Loc)>,
    pub disj: Vec<Disj>,
    pub nots: Vec<(SRef, Loc)>,
    /// Keywords the checker does not analyse (compared for equality only).
    pub other: Vec<(String, Loc)>,
    /// Evaluations collected outside the schema object being collected: subschemas met again
    /// (collected once), disjunctions already expanded (their branch is collected separately).
    pub(crate) elsewhere: usize,
}

impl Norm {
    pub(super) fn empty(loc: Loc) -> Norm {
        Norm {
            loc,
            never: None,
            types: ALL,
            types_loc: None,
            enum_: None,
            str_len: Sizes::default(),
            patterns: Vec::new(),
            formats: Vec::new(),
            lower: None,
            upper: None,
            multiple_of: Vec::new(),
            arr_models: Vec::new(),
            items: Sizes::default(),
            unique: None,
            contains: Vec::new(),
            obj_models: Vec::new(),
            required: BTreeMap::new(),
            props: Sizes::default(),
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
    /// Normal forms already computed (see `collect.rs`).
    pub(super) norms: RefCell<HashMap<Conj, Rc<Norm>>>,
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
}

/// One schema object being collected into a [`Norm`]: where it is, its keywords, and the
/// readers every family's `collect` uses (errors name the file and the keyword's pointer).
pub(crate) struct SchemaObject<'a> {
    pub doc: DocId,
    pub ptr: Rc<str>,
    pub obj: &'a serde_json::Map<String, Value>,
    pub dialect: Dialect,
    pub file: &'a std::path::Path,
}

impl SchemaObject<'_> {
    /// Location of keyword `kw` of this object.
    pub fn at(&self, kw: &str) -> Loc {
        (
            self.doc,
            Rc::from(format!("{}/{}", self.ptr, super::source_map::escape(kw))),
        )
    }

    /// The subschema at keyword `kw`.
    pub fn sub(&self, kw: &str) -> SRef {
        let (d, p) = self.at(kw);
        SRef::At(d, p)
    }

    /// An error about keyword `kw`.
    pub fn bad(&self, kw: &str, why: &str) -> CompatError {
        CompatError::Invalid {
            file: self.file.to_path_buf(),
            pointer: format!("{}/{kw}", self.ptr),
            reason: why.to_string(),
        }
    }

    /// A number keyword, exact.
    pub fn num(&self, kw: &str) -> Result<Option<Dec>, CompatError> {
        match self.obj.get(kw) {
            None => Ok(None),
            Some(x) => Dec::of_value(x)
                .map(Some)
                .ok_or_else(|| self.bad(kw, "must be a number")),
        }
    }

    /// A count keyword (`minLength`, `maxItems`, ...): a non-negative integer.
    pub fn count(&self, kw: &str) -> Result<Option<u64>, CompatError> {
        match self.obj.get(kw) {
            None => Ok(None),
            Some(x) => x
                .as_u64()
                .or_else(|| {
                    x.as_f64()
                        .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                        .map(|f| f as u64)
                })
                .map(Some)
                .ok_or_else(|| self.bad(kw, "must be a non-negative integer")),
        }
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
