//! The lowering driver: one schema location in, one [`Ty`] out.
//!
//! Named locations (document roots, `$defs` entries and every `$ref` target) become named
//! types and are memoized by location, so a definition referenced from many events is one
//! Rust type, and recursion through `$ref` terminates (the name is reserved before the body
//! is lowered). Inline object/enum schemas are named from their path (`PatientCreatedV1` +
//! `preferences` -> `PatientCreatedV1Preferences`). A name claimed by two different
//! locations is an error naming both.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::name::type_name;
use super::{all_of, array, format, integer, object, one_of, string_enum, Ty, TypeDef, TypeKind};
use crate::error::Result;
use crate::schema::keywords;
use crate::schema::{Catalog, Loc};

/// The result of lowering a schema body before it gets a name.
pub enum Lowered {
    /// A type expression (primitive, container or reference to a named type).
    Ty(Ty),
    /// A new type definition; it takes the name of the location being lowered.
    Def {
        /// The definition.
        kind: TypeKind,
        /// Wrap references in `Option` (the schema admits `null`).
        nullable: bool,
    },
}

/// Lowering state.
pub struct Lowerer<'c> {
    /// The loaded schemas.
    pub cat: &'c Catalog,
    /// Named types so far.
    pub types: BTreeMap<String, TypeDef>,
    memo: HashMap<Loc, Ty>,
    names: HashMap<String, Loc>,
    /// Document index -> name of its root type (events use `PatientCreatedV1`, not the stem).
    pub root_names: HashMap<usize, String>,
    /// Documents whose `$defs` are prefixed with the root name.
    pub prefixed_defs: HashSet<usize>,
    patterns: HashMap<String, bool>,
}

impl<'c> Lowerer<'c> {
    /// A lowerer over `cat`.
    pub fn new(cat: &'c Catalog) -> Self {
        Lowerer {
            cat,
            types: BTreeMap::new(),
            memo: HashMap::new(),
            names: HashMap::new(),
            root_names: HashMap::new(),
            prefixed_defs: HashSet::new(),
            patterns: HashMap::new(),
        }
    }

    /// The schema object at `loc` (booleans and other JSON are errors here).
    pub fn object_at(&self, loc: &Loc) -> Result<&'c Map<String, Value>> {
        match self.cat.get(loc) {
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(self.cat.error(loc, "expected a schema object here")),
            None => Err(self.cat.error(loc, "no schema at this location")),
        }
    }

    /// Reserve `name` for `loc`; a different location already holding it is an error.
    pub fn claim(&mut self, name: &str, loc: &Loc) -> Result<()> {
        if let Some(other) = self.names.get(name) {
            if other != loc {
                let doc = self.cat.document(other);
                return Err(self.cat.error(
                    loc,
                    format!(
                        "type name collision: `{name}` is also generated for {}#{}; rename one of them (e.g. with `x-rust-name`)",
                        doc.path.display(),
                        other.pointer
                    ),
                ));
            }
        }
        self.names.insert(name.to_owned(), loc.clone());
        Ok(())
    }

    /// The type for a named location (document root, `$defs` entry, `$ref` target).
    pub fn named(&mut self, loc: &Loc) -> Result<Ty> {
        if let Some(ty) = self.memo.get(loc) {
            return Ok(ty.clone());
        }
        let name = self.name_for(loc)?;
        self.named_as(loc, &name)
    }

    /// Like [`Lowerer::named`] with an explicit name.
    pub fn named_as(&mut self, loc: &Loc, name: &str) -> Result<Ty> {
        if let Some(ty) = self.memo.get(loc) {
            return Ok(ty.clone());
        }
        self.claim(name, loc)?;
        self.memo.insert(loc.clone(), Ty::Named(name.to_owned()));
        let lowered = self.lower_body(loc, name)?;
        let ty = match lowered {
            Lowered::Def { kind, nullable } => {
                self.define(name, loc, kind);
                let named = Ty::Named(name.to_owned());
                if nullable {
                    Ty::Nullable(Box::new(named))
                } else {
                    named
                }
            }
            Lowered::Ty(ty) => {
                if mentions(&ty, name) {
                    return Err(self.cat.error(
                        loc,
                        "recursive schema without an object in the cycle: wrap the recursion in an object property",
                    ));
                }
                self.define(name, loc, TypeKind::Alias(ty));
                Ty::Named(name.to_owned())
            }
        };
        self.memo.insert(loc.clone(), ty.clone());
        Ok(ty)
    }

    /// The type for an inline schema, naming a new definition `hint`.
    pub fn inline(&mut self, loc: &Loc, hint: &str) -> Result<Ty> {
        match self.lower_body(loc, hint)? {
            Lowered::Ty(ty) => Ok(ty),
            Lowered::Def { kind, nullable } => {
                self.claim(hint, loc)?;
                self.define(hint, loc, kind);
                let named = Ty::Named(hint.to_owned());
                Ok(if nullable {
                    Ty::Nullable(Box::new(named))
                } else {
                    named
                })
            }
        }
    }

    /// Register a named definition with docs taken from `loc`.
    pub fn define(&mut self, name: &str, loc: &Loc, kind: TypeKind) {
        let docs = self.type_docs(loc);
        let pii = self.is_pii_here(loc);
        self.types.insert(
            name.to_owned(),
            TypeDef {
                name: name.to_owned(),
                docs,
                kind,
                loc: loc.clone(),
                pii,
            },
        );
    }

    /// Name for a named location: `x-rust-name`, the document's root name, or root name +
    /// the path's property/definition names.
    pub fn name_for(&self, loc: &Loc) -> Result<String> {
        if let Some(v) = self.cat.get(loc).and_then(|v| v.get("x-rust-name")) {
            return match v.as_str() {
                Some(s) if is_type_ident(s) => Ok(s.to_owned()),
                _ => Err(self.cat.error(
                    &loc.child("x-rust-name"),
                    "`x-rust-name` must be a Rust type name (UpperCamelCase identifier)",
                )),
            };
        }
        let doc = self.cat.document(loc);
        let root = self.root_names.get(&loc.doc).cloned().unwrap_or_else(|| {
            let stem = doc.rel.rsplit('/').next().unwrap_or(&doc.rel);
            type_name(stem.strip_suffix(".json").unwrap_or(stem))
        });
        if loc.pointer.is_empty() {
            return Ok(root);
        }
        let segments: Vec<String> = loc
            .pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        if segments.len() == 2
            && (segments[0] == "$defs" || segments[0] == "definitions")
            && !self.prefixed_defs.contains(&loc.doc)
        {
            return Ok(type_name(&segments[1]));
        }
        let mut name = root;
        for seg in &segments {
            let keyword = matches!(
                seg.as_str(),
                "properties"
                    | "items"
                    | "$defs"
                    | "definitions"
                    | "prefixItems"
                    | "patternProperties"
                    | "oneOf"
                    | "anyOf"
                    | "allOf"
                    | "additionalProperties"
            );
            if !keyword && !seg.chars().all(|c| c.is_ascii_digit()) {
                name.push_str(&type_name(seg));
            }
        }
        Ok(name)
    }

    /// Lower the schema at `loc`, naming any new definition `hint`.
    pub fn lower_body(&mut self, loc: &Loc, hint: &str) -> Result<Lowered> {
        let map = match self.cat.get(loc) {
            Some(Value::Bool(true)) => return Ok(Lowered::Ty(Ty::Any)),
            Some(Value::Bool(false)) => {
                return Err(self.cat.error(
                    loc,
                    "the `false` schema (nothing is valid) cannot be turned into a type",
                ))
            }
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(self
                    .cat
                    .error(loc, "a schema must be a JSON object or a boolean"))
            }
            None => return Err(self.cat.error(loc, "no schema at this location")),
        };
        self.check_keywords(loc, map)?;
        if let Some(reference) = map.get("$ref") {
            let Some(reference) = reference.as_str() else {
                return Err(self
                    .cat
                    .error(&loc.child("$ref"), "`$ref` must be a string"));
            };
            // Draft-07 ignores every keyword beside `$ref`; 2020-12 applies them.
            let draft7 = self.cat.is_draft7(loc);
            for key in map.keys().filter(|_| !draft7) {
                if !keywords::allowed_beside_ref(key) {
                    return Err(self.cat.error(
                        &loc.child(key),
                        format!(
                            "`{key}` beside `$ref` is not supported; combine them with `allOf`"
                        ),
                    ));
                }
            }
            let target = self.cat.resolve_ref(loc, reference)?;
            self.check_ref_chain(loc, &target)?;
            return Ok(Lowered::Ty(self.named(&target)?));
        }
        if map.contains_key("allOf") {
            return all_of::lower(self, loc, map, hint);
        }
        for kw in ["oneOf", "anyOf"] {
            if let Some(branches) = map.get(kw) {
                if !one_of::all_validation_only(branches) {
                    return one_of::lower(self, loc, kw, hint);
                }
            }
        }
        if map.contains_key("const") {
            return string_enum::lower_const(self, loc, map);
        }
        if map.contains_key("enum") {
            return string_enum::lower_enum(self, loc, map);
        }
        let (types, nullable) = self.parse_type(loc, map)?;
        let lowered = match types.as_slice() {
            ["object"] => object::lower(self, loc, map, hint)?,
            ["array"] => array::lower(self, loc, map, hint)?,
            ["string"] => Lowered::Ty(format::string_ty(map)),
            ["integer"] => Lowered::Ty(Ty::Int(integer::width(map, None))),
            ["number"] => Lowered::Ty(Ty::F64),
            ["boolean"] => Lowered::Ty(Ty::Bool),
            ["null"] => return Ok(Lowered::Ty(Ty::Unit)),
            [] if map.contains_key("properties")
                || map.contains_key("additionalProperties")
                || map.contains_key("patternProperties") =>
            {
                object::lower(self, loc, map, hint)?
            }
            [] if map.contains_key("items") || map.contains_key("prefixItems") => {
                array::lower(self, loc, map, hint)?
            }
            [] => Lowered::Ty(Ty::Any),
            several => Lowered::Def {
                kind: self.type_union(loc, map, several, hint)?,
                nullable: false,
            },
        };
        Ok(match (lowered, nullable) {
            (lowered, false) => lowered,
            (Lowered::Ty(ty), true) => Lowered::Ty(Ty::Nullable(Box::new(ty))),
            (Lowered::Def { kind, .. }, true) => Lowered::Def {
                kind,
                nullable: true,
            },
        })
    }

    /// `type: [several types]`: an untagged enum with one variant per JSON type, tried in
    /// the order boolean, integer, number, string, array, object (so `1` is an integer).
    fn type_union(
        &mut self,
        loc: &Loc,
        map: &Map<String, Value>,
        types: &[&'static str],
        hint: &str,
    ) -> Result<TypeKind> {
        const ORDER: [&str; 6] = ["boolean", "integer", "number", "string", "array", "object"];
        let mut variants = Vec::new();
        for t in ORDER.iter().filter(|t| types.contains(t)) {
            let (rust, ty) = match *t {
                "boolean" => ("Boolean", Ty::Bool),
                "integer" => ("Integer", Ty::Int(integer::width(map, None))),
                "number" => ("Number", Ty::F64),
                "string" => ("String", format::string_ty(map)),
                "array" => {
                    let lowered = array::lower(self, loc, map, &format!("{hint}Array"))?;
                    (
                        "Array",
                        self.union_member(lowered, loc, &format!("{hint}Array"))?,
                    )
                }
                _ => {
                    let lowered = object::lower(self, loc, map, &format!("{hint}Object"))?;
                    (
                        "Object",
                        self.union_member(lowered, loc, &format!("{hint}Object"))?,
                    )
                }
            };
            variants.push(super::DataVariant {
                rust: rust.to_owned(),
                wire: None,
                ty: Some(ty),
                docs: vec![format!("A JSON {t}.")],
            });
        }
        Ok(TypeKind::Untagged(variants))
    }

    /// The type of one member of a type union, defining it as `name` when it is new.
    fn union_member(&mut self, lowered: Lowered, loc: &Loc, name: &str) -> Result<Ty> {
        match lowered {
            Lowered::Ty(ty) => Ok(ty),
            Lowered::Def { kind, .. } => {
                self.claim(name, loc)?;
                self.define(name, loc, kind);
                Ok(Ty::Named(name.to_owned()))
            }
        }
    }

    /// `type` as a list of non-null type names plus whether `null` is allowed.
    pub fn parse_type(
        &self,
        loc: &Loc,
        map: &Map<String, Value>,
    ) -> Result<(Vec<&'static str>, bool)> {
        let _ = self;
        let mut out = Vec::new();
        let mut nullable = false;
        let names: Vec<&Value> = match map.get("type") {
            None => return Ok((out, false)),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
        };
        for v in names {
            match v.as_str() {
                Some("null") => nullable = true,
                Some(t @ ("object" | "array" | "string" | "integer" | "number" | "boolean")) => {
                    // Re-borrow from the catalog so the result lives as long as `'c`.
                    out.push(static_type_name(t))
                }
                _ => return Err(self.cat.error(&loc.child("type"), "unknown `type` value")),
            }
        }
        if out.is_empty() && nullable {
            out.push("null");
            nullable = false;
        }
        Ok((out, nullable))
    }

    /// Reject unknown keywords and invalid `pattern`s at `loc`.
    pub fn check_keywords(&mut self, loc: &Loc, map: &Map<String, Value>) -> Result<()> {
        let draft7 = self.cat.is_draft7(loc);
        for (key, value) in map {
            if !keywords::is_known(key, draft7) {
                return Err(self.cat.error(
                    &loc.child(key),
                    format!(
                        "unsupported keyword `{key}`{}",
                        keywords::unsupported_hint(key)
                    ),
                ));
            }
            match key.as_str() {
                "pattern" => self.check_pattern(&loc.child(key), value)?,
                "multipleOf" if !value.as_f64().is_some_and(|n| n > 0.0) => {
                    return Err(self.cat.error(
                        &loc.child(key),
                        "`multipleOf` must be a number greater than 0",
                    ));
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum"
                    if !value.is_number() =>
                {
                    return Err(self
                        .cat
                        .error(&loc.child(key), format!("`{key}` must be a number")));
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
                | "maxProperties" | "minContains" | "maxContains"
                    if !is_count(value) =>
                {
                    return Err(self.cat.error(
                        &loc.child(key),
                        format!("`{key}` must be a non-negative integer"),
                    ));
                }
                "required" => {
                    let ok = value
                        .as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string));
                    if !ok {
                        return Err(self
                            .cat
                            .error(&loc.child(key), "`required` must be an array of strings"));
                    }
                }
                "patternProperties" => {
                    let Some(patterns) = value.as_object() else {
                        return Err(self
                            .cat
                            .error(&loc.child(key), "`patternProperties` must be an object"));
                    };
                    for pattern in patterns.keys() {
                        let at = loc.child(key).child(pattern);
                        self.check_pattern(&at, &Value::String(pattern.clone()))?;
                    }
                }
                "properties" | "$defs" | "definitions" if !value.is_object() => {
                    return Err(self
                        .cat
                        .error(&loc.child(key), format!("`{key}` must be an object")));
                }
                "x-pii" if !value.is_boolean() => {
                    return Err(self
                        .cat
                        .error(&loc.child(key), "`x-pii` must be true or false"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_pattern(&mut self, loc: &Loc, value: &Value) -> Result<()> {
        let Some(pattern) = value.as_str() else {
            return Err(self.cat.error(loc, "`pattern` must be a string"));
        };
        let ok = match self.patterns.get(pattern) {
            Some(ok) => *ok,
            None => {
                // Compile with the same engine the runtime validator uses.
                let ok =
                    jsonschema::validator_for(&serde_json::json!({ "pattern": pattern })).is_ok();
                self.patterns.insert(pattern.to_owned(), ok);
                ok
            }
        };
        if ok {
            Ok(())
        } else {
            Err(self
                .cat
                .error(loc, "invalid regular expression in `pattern`"))
        }
    }

    /// Follow `$ref`-only schemas from `target`; a loop means no schema in it has a type.
    fn check_ref_chain(&self, from: &Loc, target: &Loc) -> Result<()> {
        let mut seen = vec![target.clone()];
        let mut current = target.clone();
        while let Some(reference) = self
            .cat
            .get(&current)
            .and_then(|v| v.get("$ref"))
            .and_then(Value::as_str)
        {
            let Ok(next) = self.cat.resolve_ref(&current, reference) else {
                return Ok(()); // reported when `current` itself is lowered
            };
            if seen.contains(&next) {
                let chain: Vec<String> = seen
                    .iter()
                    .chain(std::iter::once(&next))
                    .map(|l| format!("{}#{}", self.cat.document(l).path.display(), l.pointer))
                    .collect();
                return Err(self.cat.error(
                    &from.child("$ref"),
                    format!("cyclic `$ref` chain without a type: {}", chain.join(" -> ")),
                ));
            }
            seen.push(next.clone());
            current = next;
        }
        Ok(())
    }

    /// Whether the schema at `loc` itself says `x-pii: true`.
    pub fn is_pii_here(&self, loc: &Loc) -> bool {
        self.cat
            .get(loc)
            .and_then(|v| v.get("x-pii"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// Whether a property's values are personal data: `x-pii` on the property, on its
    /// `items`/`additionalProperties`, or on the schema its `$ref` points to.
    pub fn is_pii(&self, loc: &Loc) -> bool {
        if self.is_pii_here(loc) {
            return true;
        }
        let Some(value) = self.cat.get(loc) else {
            return false;
        };
        for child in ["items", "additionalProperties"] {
            if value.get(child).is_some() && self.is_pii(&loc.child(child)) {
                return true;
            }
        }
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            if let Ok(target) = self.cat.resolve_ref(loc, reference) {
                return self.is_pii_here(&target);
            }
        }
        false
    }

    /// Doc paragraphs for a type defined at `loc`.
    pub fn type_docs(&self, loc: &Loc) -> Vec<String> {
        let mut docs = Vec::new();
        let value = self.cat.get(loc);
        let text = |k: &str| {
            value
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if let Some(title) = text("title") {
            docs.push(title);
        }
        if let Some(description) = text("description") {
            docs.push(description);
        }
        if value
            .and_then(|v| v.get("deprecated"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            docs.push("Deprecated.".to_owned());
        }
        let doc = self.cat.document(loc);
        docs.push(format!("Generated from `{}#{}`.", doc.rel, loc.pointer));
        docs
    }
}

/// Whether `ty` refers to `name` by value or through containers (used to reject `type X = Vec<X>`).
pub fn mentions(ty: &Ty, name: &str) -> bool {
    match ty {
        Ty::Named(n) => n == name,
        Ty::Vec(t) | Ty::Map(t) | Ty::Nullable(t) | Ty::Boxed(t) => mentions(t, name),
        Ty::Tuple(items) => items.iter().any(|t| mentions(t, name)),
        _ => false,
    }
}

/// A non-negative integer (`2.0` counts, as in JSON Schema).
fn is_count(v: &Value) -> bool {
    v.as_u64().is_some() || v.as_f64().is_some_and(|f| f >= 0.0 && f.fract() == 0.0)
}

fn is_type_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn static_type_name(t: &str) -> &'static str {
    match t {
        "object" => "object",
        "array" => "array",
        "string" => "string",
        "integer" => "integer",
        "number" => "number",
        _ => "boolean",
    }
}
