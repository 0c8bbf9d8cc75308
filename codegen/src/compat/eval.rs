//! Local evaluator and instance generator over [`Norm`]s.
//!
//! `accepts` is a three-valued validator (`Some(true)`, `Some(false)`, `None` = cannot tell,
//! e.g. an `if`/`then` or an ECMA-only regex). It steers counterexample construction only:
//! every counterexample is re-validated with `jsonschema` before it is reported, so the
//! evaluator may be approximate but must never be trusted as proof.
//!
//! The generator builds instances of whole conjunctions; the per-keyword samples it draws on
//! (numbers near bounds, format values, regex samples) belong to their families
//! (`family/numbers.rs`, `family/formats.rs`, `family/strings.rs`).

use super::family::formats::{format_sample, long_email};
use super::family::numbers::number_candidates;
use super::family::strings::pattern_samples;
use super::norm::*;
use serde_json::{Map, Value};

const MAX_DEPTH: usize = 24;

impl Ctx<'_> {
    /// Does the conjunction accept `v`?
    pub fn accepts(&self, c: &Conj, v: &Value) -> Option<bool> {
        self.accepts_at(c, v, 0)
    }

    fn accepts_at(&self, c: &Conj, v: &Value, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let n = self.norm(c).ok()?;
        if n.never.is_some() {
            return Some(false);
        }
        let mut unknown = false;
        macro_rules! check {
            ($e:expr) => {
                match $e {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            };
        }
        if n.types & bits_of(v) == 0 {
            return Some(false);
        }
        if let Some(e) = &n.enum_ {
            if !e.contains(v) {
                return Some(false);
            }
        }
        let sub = |refs: Vec<SRef>| Conj {
            side: c.side,
            refs,
            skip: Vec::new(),
        };
        match v {
            Value::String(s) => {
                let len = s.chars().count() as u64;
                check!(Some(n.str_len.admits(len)));
                for (p, _) in &n.patterns {
                    check!(self.regex_match(p, s));
                }
                for (f, _) in &n.formats {
                    check!(self.oracle.format_ok(f, s));
                }
            }
            Value::Number(num) => {
                let f = Dec::of(num);
                if let Some(b) = &n.lower {
                    check!(Some(if b.excl { f > b.v } else { f >= b.v }));
                }
                if let Some(b) = &n.upper {
                    check!(Some(if b.excl { f < b.v } else { f <= b.v }));
                }
                for (m, _) in &n.multiple_of {
                    check!(f.is_multiple_of(m));
                }
            }
            Value::Array(items) => {
                let len = items.len() as u64;
                check!(Some(n.items.admits(len)));
                if n.unique.is_some() {
                    for (i, x) in items.iter().enumerate() {
                        check!(Some(!items[..i].iter().any(|y| json_eq(x, y))));
                    }
                }
                for (i, x) in items.iter().enumerate() {
                    let s = n.item_schema(i);
                    if !s.is_empty() {
                        check!(self.accepts_at(&sub(s), x, depth + 1));
                    }
                }
                for f in &n.contains {
                    let mut matched = Some(0u64);
                    for x in items {
                        match self.accepts_at(&sub(vec![f.schema.clone()]), x, depth + 1) {
                            Some(true) => matched = matched.map(|m| m + 1),
                            None => matched = None,
                            Some(false) => {}
                        }
                    }
                    check!(matched.map(|m| m >= f.min && f.max.is_none_or(|x| m <= x)));
                }
            }
            Value::Object(map) => {
                for k in n.required.keys() {
                    check!(Some(map.contains_key(k)));
                }
                let len = map.len() as u64;
                check!(Some(n.props.admits(len)));
                for (k, x) in map {
                    let s = n.prop_schema(k, self);
                    if !s.is_empty() {
                        check!(self.accepts_at(&sub(s), x, depth + 1));
                    }
                    if let Some(deps) = n.dep_required.get(k) {
                        for (d, _) in deps {
                            check!(Some(map.contains_key(d)));
                        }
                    }
                }
                for (k, s, _) in &n.dep_schemas {
                    if map.contains_key(k) {
                        check!(self.accepts_at(&sub(vec![s.clone()]), v, depth + 1));
                    }
                }
            }
            _ => {}
        }
        for d in &n.disj {
            let mut trues = 0;
            let mut unknowns = 0;
            for b in &d.branches {
                match self.accepts_at(&sub(vec![b.clone()]), v, depth + 1) {
                    Some(true) => trues += 1,
                    None => unknowns += 1,
                    Some(false) => {}
                }
            }
            if d.one {
                if trues > 1 {
                    return Some(false);
                }
                check!(if unknowns > 0 { None } else { Some(trues == 1) });
            } else if trues == 0 {
                check!(if unknowns > 0 { None } else { Some(false) });
            }
        }
        for (s, _) in &n.nots {
            check!(self
                .accepts_at(&sub(vec![s.clone()]), v, depth + 1)
                .map(|x| !x));
        }
        if !n.other.is_empty() {
            unknown = true;
        }
        if unknown {
            None
        } else {
            Some(true)
        }
    }

    /// A small instance the conjunction accepts (as far as the evaluator can tell).
    pub fn generate(&self, c: &Conj) -> Option<Value> {
        self.generate_at(c, 0)
    }

    fn generate_at(&self, c: &Conj, depth: usize) -> Option<Value> {
        if depth > 12 {
            return None;
        }
        let n = self.norm(c).ok()?;
        if n.never.is_some() {
            return None;
        }
        if let Some(e) = &n.enum_ {
            return e
                .values
                .iter()
                .find(|v| self.accepts(c, v) != Some(false))
                .cloned();
        }
        if let Some(d) = n.disj.first() {
            for b in &d.branches {
                let mut c2 = c.with(b.clone());
                c2.skip.push(d.loc.clone());
                if let Some(v) = self.generate_at(&c2, depth + 1) {
                    if self.accepts(c, &v) != Some(false) {
                        return Some(v);
                    }
                }
            }
            return None;
        }
        for t in [OBJ, STR, INT, NUM, ARR, BOOL, NULL] {
            if n.types & t == 0 {
                continue;
            }
            for cand in self.candidates(c, &n, t, depth) {
                if self.accepts(c, &cand) != Some(false) {
                    return Some(cand);
                }
            }
        }
        None
    }

    /// Candidate instances of one type bit, shaped by the norm's constraints.
    pub fn candidates(&self, c: &Conj, n: &Norm, t: u8, depth: usize) -> Vec<Value> {
        match t {
            NULL => vec![Value::Null],
            BOOL => vec![Value::Bool(false), Value::Bool(true)],
            INT => number_candidates(n, true, &[]),
            NUM => number_candidates(n, false, &[]),
            STR => {
                let mut lens = vec![n.str_len.lower() as usize];
                lens.push(lens[0] + 1);
                self.string_candidates(n, &lens)
                    .into_iter()
                    .map(Value::String)
                    .collect()
            }
            ARR => {
                let min = n.items.lower() as usize;
                [min, min + 1]
                    .iter()
                    .filter_map(|len| self.array_of_len(c, n, *len, depth, false))
                    .collect()
            }
            OBJ => self.object_with(c, n, None, depth).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Strings of roughly the target lengths that respect format and pattern where possible.
    pub fn string_candidates(&self, n: &Norm, lens: &[usize]) -> Vec<String> {
        let mut out = Vec::new();
        for (f, _) in &n.formats {
            if let Some(s) = format_sample(f) {
                out.push(s.to_string());
                // Stretch samples whose format has a free-text part to the wanted lengths.
                let pad = |len: usize, fixed: &str, front: bool| {
                    let n = len.saturating_sub(fixed.chars().count()).max(1);
                    if front {
                        format!("{}{fixed}", "a".repeat(n))
                    } else {
                        format!("{fixed}{}", "a".repeat(n))
                    }
                };
                for len in lens {
                    match f.as_str() {
                        "email" | "idn-email" => out.push(long_email(*len)),
                        "uri" | "iri" => out.push(pad(*len, "https://example.com/", false)),
                        "uri-reference" | "iri-reference" | "regex" | "uri-template" => {
                            out.push("a".repeat((*len).max(1)))
                        }
                        "hostname" | "idn-hostname" => out.push(pad(*len, ".example.com", true)),
                        _ => {}
                    }
                }
            }
        }
        for (p, _) in &n.patterns {
            for len in lens {
                out.extend(pattern_samples(p, *len));
            }
        }
        for len in lens {
            out.push("a".repeat(*len));
            out.push("0".repeat(*len));
        }
        out
    }

    pub fn array_of_len(
        &self,
        c: &Conj,
        n: &Norm,
        len: usize,
        depth: usize,
        dup: bool,
    ) -> Option<Value> {
        let mut items: Vec<Value> = Vec::new();
        for i in 0..len {
            let s = n.item_schema(i);
            let item_conj = Conj {
                side: c.side,
                refs: s,
                skip: Vec::new(),
            };
            if dup && i > 0 {
                items.push(items[0].clone());
                continue;
            }
            let mut v = self
                .generate_at(&item_conj, depth + 1)
                .unwrap_or(Value::Null);
            if n.unique.is_some() || !dup {
                // Distinct items so uniqueItems holds unless a duplicate is wanted.
                if items.iter().any(|x| json_eq(x, &v)) {
                    if let Some(alt) = self.distinct_from(&item_conj, &items, depth) {
                        v = alt;
                    }
                }
            }
            items.push(v);
        }
        Some(Value::Array(items))
    }

    fn distinct_from(&self, c: &Conj, used: &[Value], depth: usize) -> Option<Value> {
        let n = self.norm(c).ok()?;
        let mut cands = Vec::new();
        if let Some(e) = &n.enum_ {
            cands.extend(e.values.iter().cloned());
        }
        for t in [STR, INT, NUM, BOOL, NULL, OBJ, ARR] {
            if n.types & t != 0 {
                cands.extend(self.candidates(c, &n, t, depth + 1));
                if t == STR {
                    cands.extend((1..6).map(|i| Value::String(format!("b{i}"))));
                }
                if t == INT {
                    cands.extend((2..8).map(Value::from));
                }
            }
        }
        cands
            .into_iter()
            .find(|v| !used.iter().any(|u| json_eq(u, v)) && self.accepts(c, v) != Some(false))
    }

    /// An object with the required properties filled in (plus `force` when given).
    pub fn object_with(
        &self,
        c: &Conj,
        n: &Norm,
        force: Option<(&str, &Value)>,
        depth: usize,
    ) -> Option<Value> {
        let mut map = Map::new();
        if let Some((k, v)) = force {
            map.insert(k.to_string(), v.clone());
        }
        let sub = |refs: Vec<SRef>| Conj {
            side: c.side,
            refs,
            skip: Vec::new(),
        };
        let mut want: Vec<String> = n.required.keys().cloned().collect();
        let mut i = 0;
        while i < want.len() {
            let k = want[i].clone();
            i += 1;
            if map.contains_key(&k) {
                continue;
            }
            let v = self.generate_at(&sub(n.prop_schema(&k, self)), depth + 1)?;
            map.insert(k.clone(), v);
            if let Some(deps) = n.dep_required.get(&k) {
                want.extend(deps.iter().map(|d| d.0.clone()));
            }
        }
        if let Some((k, _)) = force {
            if let Some(deps) = n.dep_required.get(k) {
                for (d, _) in deps {
                    if !map.contains_key(d) {
                        let v = self.generate_at(&sub(n.prop_schema(d, self)), depth + 1)?;
                        map.insert(d.clone(), v);
                    }
                }
            }
        }
        if let Some(min) = n.props.min.as_ref().map(|m| m.n) {
            let declared: Vec<String> = n
                .obj_models
                .iter()
                .flat_map(|m| m.props.keys().cloned())
                .collect();
            for k in declared {
                if map.len() as u64 >= min {
                    break;
                }
                if !map.contains_key(&k) {
                    if let Some(v) = self.generate_at(&sub(n.prop_schema(&k, self)), depth + 1) {
                        map.insert(k, v);
                    }
                }
            }
        }
        Some(Value::Object(map))
    }
}
