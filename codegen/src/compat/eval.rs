//! Local evaluator and instance generator over [`Norm`]s.
//!
//! `accepts` is a three-valued validator (`Some(true)`, `Some(false)`, `None` = cannot tell,
//! e.g. an `if`/`then` or an ECMA-only regex). It steers counterexample construction only:
//! every counterexample is re-validated with `jsonschema` before it is reported, so the
//! evaluator may be approximate but must never be trusted as proof.

use super::norm::*;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Number, Value};

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
                check!(Some(n.min_len.as_ref().is_none_or(|m| len >= m.0)));
                check!(Some(n.max_len.as_ref().is_none_or(|m| len <= m.0)));
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
                check!(Some(n.min_items.as_ref().is_none_or(|m| len >= m.0)));
                check!(Some(n.max_items.as_ref().is_none_or(|m| len <= m.0)));
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
                check!(Some(n.min_props.as_ref().is_none_or(|m| len >= m.0)));
                check!(Some(n.max_props.as_ref().is_none_or(|m| len <= m.0)));
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
                let mut lens = vec![n.min_len.as_ref().map(|m| m.0 as usize).unwrap_or(0)];
                lens.push(lens[0] + 1);
                self.string_candidates(n, &lens)
                    .into_iter()
                    .map(Value::String)
                    .collect()
            }
            ARR => {
                let min = n.min_items.as_ref().map(|m| m.0 as usize).unwrap_or(0);
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
        if let Some((min, _)) = &n.min_props {
            let declared: Vec<String> = n
                .obj_models
                .iter()
                .flat_map(|m| m.props.keys().cloned())
                .collect();
            for k in declared {
                if map.len() as u64 >= *min {
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

/// The smallest integer a bound admits (`lower`) or the largest (`!lower`).
pub(crate) fn integer_bound(b: &Bound, lower: bool) -> Dec {
    match (lower, b.excl) {
        (true, true) => b.v.floor().plus(1),
        (true, false) => b.v.ceil(),
        (false, true) => b.v.ceil().plus(-1),
        (false, false) => b.v.floor(),
    }
}

/// Numbers near the norm's bounds and multiples; `extra` adds rule-specific targets.
pub(crate) fn number_candidates(n: &Norm, integer: bool, extra: &[Dec]) -> Vec<Value> {
    let mut xs: Vec<Dec> = extra.to_vec();
    let bound = |b: &Option<Bound>, lower: bool| {
        b.as_ref().map(|b| {
            if integer {
                integer_bound(b, lower)
            } else {
                b.v.clone()
            }
        })
    };
    let lo = bound(&n.lower, true);
    let hi = bound(&n.upper, false);
    xs.extend([Dec::zero(), Dec::from_i128(1), Dec::from_i128(-1)]);
    if let Some(l) = &lo {
        xs.extend([l.clone(), l.plus(1)]);
    }
    if let Some(h) = &hi {
        xs.extend([h.clone(), h.plus(-1)]);
    }
    for (m, _) in &n.multiple_of {
        // Multiples near the lower bound: steered by floats, checked exactly.
        let m_f = m.to_f64();
        let start = lo.as_ref().map(Dec::to_f64).unwrap_or(0.0);
        let k = (start / m_f).ceil();
        for f in [k * m_f, (k + 1.0) * m_f] {
            if let Some(d) = Number::from_f64(f).map(|x| Dec::of(&x)) {
                xs.push(d);
            }
        }
        xs.push(m.clone());
    }
    let (half, quarter) = (Dec::parse("0.5"), Dec::parse("0.25"));
    let mut out = Vec::new();
    for x in xs {
        if integer {
            if x.is_integer() {
                out.extend(x.to_value());
            }
        } else {
            let mut ys = vec![x.clone()];
            if let (Some(h), Some(q)) = (&half, &quarter) {
                ys = vec![x.add(h), x.add(&h.add(&Dec::from_i128(-1))), x.add(q), x];
            }
            for y in ys {
                if !y.is_integer() {
                    out.extend(y.to_value());
                }
            }
        }
    }
    out
}

/// An email address of about `len` characters that stays within RFC 5321 limits (local part
/// ≤ 64, labels ≤ 63): the padding goes into extra domain labels.
fn long_email(len: usize) -> String {
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

/// Strings matching `pattern`, stretched towards `len` characters where repetition allows.
pub(crate) fn pattern_samples(pattern: &str, len: usize) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for alt in 0..3 {
        let mut base = String::new();
        let mut budget = 0;
        if !gen_hir(&hir, &mut budget, alt, &mut base) {
            continue;
        }
        let have = base.chars().count();
        let mut s = base.clone();
        if len > have {
            let mut budget = len - have;
            s.clear();
            gen_hir(&hir, &mut budget, alt, &mut s);
        }
        out.push(base);
        out.push(s);
    }
    out.dedup();
    out
}

fn gen_hir(h: &Hir, budget: &mut usize, alt: usize, out: &mut String) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(Class::Unicode(c)) => {
            let ranges = c.ranges();
            let pick = ['a', 'A', '0']
                .into_iter()
                .find(|ch| ranges.iter().any(|r| r.start() <= *ch && *ch <= r.end()))
                .or_else(|| ranges.first().map(|r| r.start()));
            match pick {
                Some(ch) => {
                    out.push(ch);
                    true
                }
                None => false,
            }
        }
        HirKind::Class(Class::Bytes(c)) => match c.ranges().first() {
            Some(r) if r.start().is_ascii() => {
                out.push(r.start() as char);
                true
            }
            _ => false,
        },
        HirKind::Repetition(r) => {
            let min = r.min as usize;
            let room = r.max.map(|m| m as usize - min).unwrap_or(usize::MAX);
            let extra = (*budget).min(room);
            *budget -= extra;
            for _ in 0..(min + extra).min(10_000) {
                if !gen_hir(&r.sub, budget, alt, out) {
                    return false;
                }
            }
            true
        }
        HirKind::Capture(c) => gen_hir(&c.sub, budget, alt, out),
        HirKind::Concat(parts) => parts.iter().all(|p| gen_hir(p, budget, alt, out)),
        HirKind::Alternation(alts) => gen_hir(&alts[alt % alts.len()], budget, alt, out),
    }
}

/// Whether the `regex` crate reads `p` as ECMA-262 does: no `.`, no class escapes (`\\d`,
/// `\\w`, `\\s`, `\\b`, `\\p`...: Unicode-aware here, ASCII or different there), no inline flags.
/// Escaped punctuation is fine.
fn same_in_ecma(p: &str) -> bool {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => return false,
            '(' if p.contains("(?") => return false,
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => {}
                _ => return false,
            },
            _ => {}
        }
    }
    true
}

/// Structural regex inclusion: every string `a` matches (at some position), `b` matches at the
/// same position. Sound but incomplete: only same-shaped patterns whose classes and repetition
/// ranges nest are recognised (e.g. `^[a-z]{1,3}$` ⊆ `^[a-z0-9]+$`).
pub(crate) fn pattern_covered(a: &str, b: &str) -> bool {
    if !same_in_ecma(a) || !same_in_ecma(b) {
        return false;
    }
    let parse = |p: &str| regex_syntax::ParserBuilder::new().build().parse(p).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => hir_covered(&x, &y),
        _ => false,
    }
}

fn class_ranges(h: &Hir) -> Option<Vec<(char, char)>> {
    match h.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            Some(c.ranges().iter().map(|r| (r.start(), r.end())).collect())
        }
        HirKind::Literal(l) => {
            let s = std::str::from_utf8(&l.0).ok()?;
            let mut it = s.chars();
            let c = it.next()?;
            if it.next().is_some() {
                return None;
            }
            Some(vec![(c, c)])
        }
        _ => None,
    }
}

fn hir_covered(a: &Hir, b: &Hir) -> bool {
    if a == b {
        return true;
    }
    match (a.kind(), b.kind()) {
        (HirKind::Capture(x), _) => hir_covered(&x.sub, b),
        (_, HirKind::Capture(y)) => hir_covered(a, &y.sub),
        (HirKind::Alternation(xs), _) => xs.iter().all(|x| hir_covered(x, b)),
        (_, HirKind::Alternation(ys)) => ys.iter().any(|y| hir_covered(a, y)),
        (HirKind::Concat(xs), HirKind::Concat(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| hir_covered(x, y))
        }
        (HirKind::Repetition(x), HirKind::Repetition(y)) => {
            x.min >= y.min
                && y.max.is_none_or(|ym| x.max.is_some_and(|xm| xm <= ym))
                && hir_covered(&x.sub, &y.sub)
        }
        (_, HirKind::Repetition(y)) if y.min <= 1 && y.max.is_none_or(|m| m >= 1) => {
            hir_covered(a, &y.sub)
        }
        _ => match (class_ranges(a), class_ranges(b)) {
            (Some(xr), Some(yr)) => xr.iter().all(|(lo, hi)| {
                // Every char of [lo, hi] lies in some range of b (ranges are sorted, merged).
                let mut c = *lo;
                loop {
                    match yr.iter().find(|(s, e)| *s <= c && c <= *e) {
                        Some((_, e)) if *e >= *hi => return true,
                        Some((_, e)) => match char::from_u32(*e as u32 + 1) {
                            Some(n) => c = n,
                            None => return false,
                        },
                        None => return false,
                    }
                }
            }),
            _ => false,
        },
    }
}
