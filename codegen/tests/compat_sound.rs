//! No unsafe "compatible": for random schema pairs, whenever the checker says a direction is
//! compatible, a search for a document valid under one schema and invalid under the other
//! (judged by `jsonschema`, independently of the checker) must find none.
//!
//! The schemas mix the keyword families the checker decides (types, enums and consts with
//! integers around 2^53 and the 64-bit limits, exact decimal bounds, `multipleOf`, string
//! lengths, patterns, formats, tuples with `unevaluatedItems`, objects with
//! `additionalProperties`/`unevaluatedProperties`, `allOf`/`anyOf`/`oneOf`); each pair is a
//! schema and a mutation of it, or two independent schemas. Documents are built from both
//! schemas' constants and shapes: boundary numbers (exactly ±1 and ±0.5), strings at and around
//! the length limits, tuples of every length up to one past the longest, objects with every
//! subset of the declared properties plus an undeclared one.

use pmp_event_codegen::compat::{compare, DocStore, Level, Policy, Source, Verdict};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

const BIG: &[i128] = &[
    i64::MIN as i128,
    i64::MIN as i128 + 1,
    -1,
    0,
    1,
    9007199254740992,
    9007199254740993,
    u64::MAX as i128 - 1,
    u64::MAX as i128,
];

fn int(i: i128) -> Value {
    if let Ok(x) = i64::try_from(i) {
        json!(x)
    } else if let Ok(x) = u64::try_from(i) {
        json!(x)
    } else {
        json!(i as f64)
    }
}

fn number_leaf() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["integer", "number"]),
        proptest::option::of(prop::sample::select(BIG.to_vec())),
        proptest::option::of(prop::sample::select(BIG.to_vec())),
        any::<bool>(),
        proptest::option::of(prop::sample::select(vec![
            json!(2),
            json!(0.5),
            json!(0.1),
            json!(3),
        ])),
        proptest::option::of(prop::sample::select(vec![
            json!(0.1),
            json!(0.10000000000000002),
            json!(2.5),
        ])),
    )
        .prop_map(|(t, lo, hi, excl, mult, dec)| {
            let mut m = Map::new();
            m.insert("type".into(), json!(t));
            if let Some(x) = lo {
                let kw = if excl { "exclusiveMinimum" } else { "minimum" };
                m.insert(kw.into(), int(x));
            }
            if let Some(x) = hi {
                m.insert("maximum".into(), int(x));
            }
            if let Some(x) = mult {
                m.insert("multipleOf".into(), x);
            }
            if let Some(x) = dec {
                m.insert("exclusiveMaximum".into(), x);
            }
            Value::Object(m)
        })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            proptest::option::of(0u64..3),
            proptest::option::of(1u64..4),
            proptest::option::of(prop::sample::select(vec![
                "^[a-z]+$", "^\\d+$", "a", "^[ab]*$"
            ])),
            proptest::option::of(prop::sample::select(vec!["email", "date"]))
        )
            .prop_map(|(min, max, pat, fmt)| {
                let mut m = Map::new();
                m.insert("type".into(), json!("string"));
                if let Some(x) = min {
                    m.insert("minLength".into(), json!(x));
                }
                if let Some(x) = max {
                    m.insert("maxLength".into(), json!(x));
                }
                if let Some(p) = pat {
                    m.insert("pattern".into(), json!(p));
                }
                if let Some(f) = fmt {
                    m.insert("format".into(), json!(f));
                }
                Value::Object(m)
            }),
        number_leaf(),
        prop::sample::subsequence(BIG.to_vec(), 1..3)
            .prop_map(|v| json!({"enum": v.into_iter().map(int).collect::<Vec<_>>()})),
        prop::sample::subsequence(
            vec![
                json!("a"),
                json!(1),
                json!(1.0),
                json!(null),
                json!([1]),
                json!({"a": 1})
            ],
            1..3
        )
        .prop_map(|v| json!({"enum": v})),
        prop::sample::select(BIG.to_vec()).prop_map(|x| json!({"const": int(x)})),
        prop::sample::select(vec![
            json!({"type": "boolean"}),
            json!({"type": ["string", "null"]}),
            json!({}),
            json!(false),
            json!({"not": {"type": "string"}}),
        ]),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b"]),
                    inner.clone(),
                    0..3
                ),
                prop::sample::subsequence(vec!["a", "b"], 0..2),
                0u8..5,
                proptest::option::of(0u64..3),
                proptest::option::of(0u64..3),
            )
                .prop_map(|(props, req, closing, minp, maxp)| {
                    let mut m = Map::new();
                    m.insert("type".into(), json!("object"));
                    m.insert("properties".into(), json!(props));
                    if !req.is_empty() {
                        m.insert("required".into(), json!(req));
                    }
                    match closing {
                        0 => {
                            m.insert("additionalProperties".into(), json!(false));
                        }
                        1 => {
                            m.insert("additionalProperties".into(), json!({"type": "integer"}));
                        }
                        2 => {
                            m.insert("unevaluatedProperties".into(), json!(false));
                        }
                        _ => {}
                    }
                    if let Some(x) = minp {
                        m.insert("minProperties".into(), json!(x));
                    }
                    if let Some(x) = maxp {
                        m.insert("maxProperties".into(), json!(x));
                    }
                    Value::Object(m)
                }),
            (
                prop::collection::vec(inner.clone(), 0..3),
                0u8..3,
                inner.clone(),
                proptest::option::of(0u64..3),
                proptest::option::of(1u64..4),
            )
                .prop_map(|(prefix, tail, rest, min, max)| {
                    let mut m = Map::new();
                    m.insert("type".into(), json!("array"));
                    if !prefix.is_empty() {
                        m.insert("prefixItems".into(), json!(prefix));
                    }
                    match tail {
                        0 => {
                            m.insert("items".into(), rest);
                        }
                        1 => {
                            m.insert("unevaluatedItems".into(), rest);
                        }
                        _ => {}
                    }
                    if let Some(x) = min {
                        m.insert("minItems".into(), json!(x));
                    }
                    if let Some(x) = max {
                        m.insert("maxItems".into(), json!(x));
                    }
                    Value::Object(m)
                }),
            (inner.clone(), inner.clone(), any::<bool>())
                .prop_map(|(x, y, one)| json!({ if one { "oneOf" } else { "anyOf" }: [x, y] })),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| json!({"allOf": [x, y]})),
        ]
    })
}

/// Changes one keyword of one schema object of `v`, driven by `seed`.
fn mutate(v: &Value, seed: &mut u64) -> Value {
    let mut next = || {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
    };
    let mut out = v.clone();
    let mut nodes = Vec::new();
    schema_objects(&out, String::new(), &mut nodes);
    if nodes.is_empty() {
        return json!({"type": "string"});
    }
    let ptr = nodes[next() % nodes.len()].clone();
    let Some(Value::Object(m)) = out.pointer_mut(&ptr) else {
        return out;
    };
    let big = int(BIG[next() % BIG.len()]);
    match next() % 12 {
        0 => {
            m.insert("maxLength".into(), json!(next() % 4));
        }
        1 => {
            m.insert("minimum".into(), big);
        }
        2 => {
            m.insert("maximum".into(), big);
        }
        3 => {
            m.insert("enum".into(), json!([big]));
        }
        4 => {
            m.remove("additionalProperties");
        }
        5 => {
            m.insert("unevaluatedProperties".into(), json!(false));
        }
        6 => {
            if let Some(Value::Array(p)) = m.get_mut("prefixItems") {
                p.pop();
                if p.is_empty() {
                    m.remove("prefixItems");
                }
            } else {
                m.insert("prefixItems".into(), json!([{"type": "string"}]));
            }
        }
        7 => {
            m.insert("unevaluatedItems".into(), json!(false));
        }
        8 => {
            m.insert("minProperties".into(), json!(next() % 3));
        }
        9 => {
            m.insert("multipleOf".into(), json!([2, 3][next() % 2]));
        }
        10 => {
            m.remove("type");
        }
        _ => {
            m.insert(
                "exclusiveMinimum".into(),
                json!([0.1, 0.10000000000000002][next() % 2]),
            );
        }
    }
    out
}

fn schema_objects(v: &Value, ptr: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(ptr.clone());
            for (k, c) in m {
                match (k.as_str(), c) {
                    ("enum" | "const", _) => {}
                    ("properties", Value::Object(props)) => {
                        for (name, s) in props {
                            schema_objects(s, format!("{ptr}/properties/{name}"), out);
                        }
                    }
                    _ => schema_objects(c, format!("{ptr}/{k}"), out),
                }
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                schema_objects(c, format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Numbers next to `n`: exactly ±1 for integers, ±0.5 and itself.
fn around(n: &Value, out: &mut Vec<Value>) {
    if let Some(i) = n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)) {
        out.extend([int(i - 1), int(i), int(i + 1)]);
    }
    if let Some(f) = n.as_f64() {
        out.extend([json!(f), json!(f + 0.5), json!(f - 0.5), json!(f * 2.0)]);
    }
}

fn push(out: &mut Vec<Value>, v: Value) {
    if out.len() < 60 && !out.contains(&v) {
        out.push(v);
    }
}

/// Documents shaped by `s` (and a fixed pool), at most a few dozen.
fn documents(s: &Value, depth: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for v in [
        json!(null),
        json!(true),
        json!(0),
        json!(0.5),
        json!(""),
        json!("a"),
        json!([]),
        json!({}),
    ] {
        push(&mut out, v);
    }
    let Value::Object(m) = s else { return out };
    if depth > 3 {
        return out;
    }
    for kw in ["enum", "const"] {
        match m.get(kw) {
            Some(Value::Array(vals)) if kw == "enum" => {
                vals.iter().for_each(|v| push(&mut out, v.clone()))
            }
            Some(v) if kw == "const" => push(&mut out, v.clone()),
            _ => {}
        }
    }
    let mut nums = Vec::new();
    for kw in [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ] {
        if let Some(n) = m.get(kw) {
            around(n, &mut nums);
        }
    }
    nums.into_iter().for_each(|v| push(&mut out, v));
    for kw in ["minLength", "maxLength"] {
        if let Some(n) = m.get(kw).and_then(Value::as_u64) {
            for len in [n.saturating_sub(1), n, n + 1] {
                push(&mut out, json!("a".repeat(len as usize)));
                push(&mut out, json!("1".repeat(len as usize)));
            }
        }
    }
    push(&mut out, json!("a@example.com"));
    push(&mut out, json!("2024-01-02"));
    for kw in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(bs)) = m.get(kw) {
            for b in bs {
                documents(b, depth + 1)
                    .into_iter()
                    .for_each(|v| push(&mut out, v));
            }
        }
    }
    if let Some(n) = m.get("not") {
        documents(n, depth + 1)
            .into_iter()
            .for_each(|v| push(&mut out, v));
    }
    // Tuples of every length up to one past the longest.
    let prefix: Vec<Value> = match m.get("prefixItems") {
        Some(Value::Array(p)) => p.clone(),
        _ => Vec::new(),
    };
    let rest = m
        .get("items")
        .or(m.get("unevaluatedItems"))
        .cloned()
        .unwrap_or(json!({}));
    if !prefix.is_empty() || m.contains_key("items") || m.contains_key("unevaluatedItems") {
        let slots: Vec<Vec<Value>> = (0..prefix.len() + 2)
            .map(|i| documents(prefix.get(i).unwrap_or(&rest), depth + 1))
            .collect();
        for len in 0..=prefix.len() + 1 {
            for pick in 0..4 {
                let arr: Vec<Value> = (0..len)
                    .map(|i| slots[i][(pick + i) % slots[i].len()].clone())
                    .collect();
                push(&mut out, Value::Array(arr));
            }
        }
        for len in 0..=prefix.len() + 1 {
            // The first value that the slot's own schema would suggest (its constants come first
            // after the fixed pool).
            let arr: Vec<Value> = (0..len)
                .map(|i| slots[i].last().cloned().unwrap_or(json!(null)))
                .collect();
            push(&mut out, Value::Array(arr));
        }
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        let names: Vec<&String> = props.keys().collect();
        let vals: Vec<Vec<Value>> = names
            .iter()
            .map(|n| documents(&props[n.as_str()], depth + 1))
            .collect();
        for mask in 0..(1u32 << names.len()) {
            for pick in 0..3 {
                let mut o = Map::new();
                for (i, n) in names.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        let vs = &vals[i];
                        o.insert(
                            (*n).clone(),
                            vs[(pick * 7 + vs.len() - 1) % vs.len()].clone(),
                        );
                    }
                }
                push(&mut out, Value::Object(o.clone()));
                o.insert("zz".into(), json!(1));
                push(&mut out, Value::Object(o));
            }
        }
    }
    out
}

fn validator(s: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(s)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn compatible_means_no_separating_document(old in schema(), seed in any::<u64>(), independent in schema(), use_independent in prop::bool::weighted(0.2)) {
        let mut s = seed;
        let new = if use_independent { independent } else { mutate(&old, &mut s) };
        let load = |v: &Value| {
            let mut st = DocStore::new(Source::Memory(BTreeMap::new()));
            let id = st.add_text(Path::new("s.json"), &v.to_string()).unwrap();
            (st, id)
        };
        let (so, o) = load(&old);
        let (sn, n) = load(&new);
        let (vo, vn) = (validator(&old), validator(&new));
        let mut docs = documents(&old, 0);
        for d in documents(&new, 0) {
            if !docs.contains(&d) {
                docs.push(d);
            }
        }
        for (level, from, to, name) in [(Level::Backward, &vo, &vn, "old ⊆ new"), (Level::Forward, &vn, &vo, "new ⊆ old")] {
            let r = compare(&so, o, &sn, n, level, Policy::Strict).unwrap();
            if r.verdict != Verdict::Compatible {
                continue;
            }
            for d in &docs {
                prop_assert!(
                    !from.is_valid(d) || to.is_valid(d),
                    "called compatible ({name}) but {d} separates\nold {old}\nnew {new}"
                );
            }
        }
    }
}
