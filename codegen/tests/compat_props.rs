//! Property test: for every incompatible verdict, the counterexample validates against exactly
//! one of the two schemas (checked here with an independently built `jsonschema` validator),
//! and an unknown or compatible finding never carries a counterexample.

use pmp_event_codegen::compat::{compare, DocStore, Level, Policy, Side, Source, Verdict};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            proptest::option::of(0u64..4),
            proptest::option::of(2u64..8),
            proptest::option::of(prop::sample::select(vec!["^[a-z]+$", "^[0-9]{2,4}$", "^a"])),
            proptest::option::of(prop::sample::select(vec!["email", "date", "uuid"]))
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
        (
            prop::sample::select(vec!["integer", "number"]),
            proptest::option::of(-3i64..3),
            proptest::option::of(3i64..9),
            any::<bool>(),
            proptest::option::of(prop::sample::select(vec![1.0, 2.0, 3.0, 0.5]))
        )
            .prop_map(|(t, lo, hi, excl, mult)| {
                let mut m = Map::new();
                m.insert("type".into(), json!(t));
                if let Some(x) = lo {
                    m.insert(
                        if excl { "exclusiveMinimum" } else { "minimum" }.into(),
                        json!(x),
                    );
                }
                if let Some(x) = hi {
                    m.insert("maximum".into(), json!(x));
                }
                if let Some(x) = mult {
                    m.insert("multipleOf".into(), json!(x));
                }
                Value::Object(m)
            }),
        prop::sample::subsequence(vec!["a", "b", "c", "d"], 1..4).prop_map(|v| json!({"enum": v})),
        prop::sample::select(vec![
            json!({"type": "boolean"}),
            json!({"type": ["string", "null"]}),
            json!({"const": "x"}),
            json!({}),
            json!({"type": "null"})
        ]),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b", "c"]),
                    inner.clone(),
                    0..3
                ),
                prop::sample::subsequence(vec!["a", "b", "c"], 0..3),
                0u8..3
            )
                .prop_map(|(props, req, ap)| {
                    let mut m = Map::new();
                    m.insert("type".into(), json!("object"));
                    m.insert("properties".into(), json!(props));
                    let req: Vec<_> = req.into_iter().filter(|r| props.contains_key(*r)).collect();
                    if !req.is_empty() {
                        m.insert("required".into(), json!(req));
                    }
                    match ap {
                        0 => {
                            m.insert("additionalProperties".into(), json!(false));
                        }
                        1 => {
                            m.insert("additionalProperties".into(), json!({"type": "integer"}));
                        }
                        _ => {}
                    }
                    Value::Object(m)
                }),
            (
                inner.clone(),
                proptest::option::of(0u64..3),
                proptest::option::of(2u64..5),
                any::<bool>()
            )
                .prop_map(|(items, min, max, uniq)| {
                    let mut m = Map::new();
                    m.insert("type".into(), json!("array"));
                    m.insert("items".into(), items);
                    if let Some(x) = min {
                        m.insert("minItems".into(), json!(x));
                    }
                    if let Some(x) = max {
                        m.insert("maxItems".into(), json!(x));
                    }
                    if uniq {
                        m.insert("uniqueItems".into(), json!(true));
                    }
                    Value::Object(m)
                }),
            (inner.clone(), inner.clone(), any::<bool>())
                .prop_map(|(x, y, one)| json!({ if one { "oneOf" } else { "anyOf" }: [x, y] })),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| json!({"allOf": [x, y]})),
        ]
    })
}

/// Changes one keyword somewhere in `v`, driven by `seed`.
fn mutate(v: &Value, seed: &mut u64) -> Value {
    let mut next = || {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
    };
    let mut out = v.clone();
    let mut nodes = Vec::new();
    collect_objects(&out, String::new(), &mut nodes);
    if nodes.is_empty() {
        return json!({"type": "string"});
    }
    let ptr = nodes[next() % nodes.len()].clone();
    let Some(Value::Object(m)) = out.pointer_mut(&ptr) else {
        return out;
    };
    match next() % 10 {
        0 => {
            m.insert("maxLength".into(), json!(next() % 6));
        }
        1 => {
            m.insert("minimum".into(), json!((next() % 5) as i64 - 1));
        }
        2 => {
            m.remove("additionalProperties");
        }
        3 => {
            m.insert("additionalProperties".into(), json!(false));
        }
        4 => {
            m.insert("required".into(), json!(["a"]));
        }
        5 => {
            m.insert(
                "type".into(),
                json!(["integer", "string", "null", "number", "boolean"][next() % 5]),
            );
        }
        6 => {
            m.insert("enum".into(), json!(["a", "b"]));
        }
        7 => {
            m.insert("multipleOf".into(), json!([2, 3, 4][next() % 3]));
        }
        8 => {
            m.remove("type");
        }
        _ => {
            m.insert("uniqueItems".into(), json!(true));
        }
    }
    out
}

fn collect_objects(v: &Value, ptr: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(ptr.clone());
            for (k, c) in m {
                match (k.as_str(), c) {
                    ("enum" | "const", _) => {}
                    // A map of subschemas, not a schema: descend into its values only.
                    ("properties", Value::Object(props)) => {
                        for (name, s) in props {
                            collect_objects(s, format!("{ptr}/properties/{name}"), out);
                        }
                    }
                    _ => collect_objects(c, format!("{ptr}/{k}"), out),
                }
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                collect_objects(c, format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn validates(schema: &Value, doc: &Value) -> bool {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
        .is_valid(doc)
}

proptest! {
    // Regressions are not persisted to a file: failing inputs are printed in full instead.
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn counterexamples_separate_the_schemas(old in schema(), seed in any::<u64>(), independent in schema(), use_independent in prop::bool::weighted(0.2)) {
        let mut s = seed;
        let new = if use_independent { independent } else { mutate(&old, &mut s) };
        let load = |v: &Value| {
            let mut st = DocStore::new(Source::Memory(BTreeMap::new()));
            let id = st.add_text(Path::new("s.json"), &v.to_string()).unwrap();
            (st, id)
        };
        let (so, o) = load(&old);
        let (sn, n) = load(&new);
        for policy in [Policy::Strict, Policy::Lenient] {
            let r = compare(&so, o, &sn, n, Level::Full, policy).unwrap();
            for f in &r.findings {
                match (f.verdict, &f.counterexample) {
                    (Verdict::Incompatible, Some(cx)) => {
                        let (vo, vn) = (validates(&old, &cx.document), validates(&new, &cx.document));
                        prop_assert!(vo != vn, "{}: {} valid under both or neither", f.rule, cx.document);
                        prop_assert_eq!(cx.valid_under == Side::Old, vo);
                    }
                    (Verdict::Incompatible, None) => prop_assert!(false, "{} without counterexample", f.rule),
                    (_, Some(_)) => prop_assert!(false, "{} {:?} with counterexample", f.rule, f.verdict),
                    _ => {}
                }
            }
            // A schema is always compatible with itself.
            let same = compare(&so, o, &so, o, Level::Full, policy).unwrap();
            prop_assert_eq!(same.verdict, Verdict::Compatible);
        }
    }
}
