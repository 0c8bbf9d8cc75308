//! Compatibility-checker benchmark (`scripts/bench compat`).
//!
//! Builds 1,000 schema pairs: an event-sized schema (closed root, nested objects, `$defs`
//! references, a discriminated `oneOf`, arrays, enums, bounds) and a variant with one of
//! twenty edits (half of them breaking, so counterexample construction and `jsonschema`
//! verification are part of the measurement). Each pair is compared at FULL (both
//! directions) under the strict policy. Prints `case=NAME pairs=N seconds=S` lines; the
//! `compat_catalog` case runs every version chain of the repository's `schemas/`. The
//! baseline, measured in the same run, compiles both schemas of every pair with `jsonschema`;
//! `ratio_vs_compile` is the checker's time over it.
//!
//! Scaling cases (`compat_enum_removed`): an enum of 5k/10k/20k/40k strings against the same
//! enum with one value removed, at FULL; the baseline is compiling both schemas with
//! `jsonschema` and validating every value once, which is linear. `us_per_value` should stay
//! flat as the enum grows.

use pmp_event_codegen::compat::catalog::{check_catalog, read_dir_files};
use pmp_event_codegen::compat::{compare, DocStore, Level, Policy, Source, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

fn base(i: usize) -> Value {
    let kind = |k: &str, field: &str, s: Value| {
        json!({"type": "object", "additionalProperties": false, "required": ["kind", field],
        "properties": {"kind": {"const": k}, field: s}})
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://bench.example/schemas/e{i}.json"),
        "type": "object", "additionalProperties": false,
        "required": ["id", "name", "status", "location"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "name": {"$ref": "#/$defs/name"},
            "status": {"enum": ["open", "searching", "matched", "closed"]},
            "email": {"type": "string", "format": "email", "maxLength": 200},
            "score": {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.5},
            "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2,8}$"}, "maxItems": 10, "uniqueItems": true},
            "location": {"oneOf": [
                kind("address", "address", json!({"$ref": "#/$defs/address"})),
                kind("point", "point", json!({"type": "object", "additionalProperties": false, "required": ["lat", "lon"],
                    "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}, "lon": {"type": "number", "minimum": -180, "maximum": 180}}})),
                kind("query", "query", json!({"type": "string", "minLength": 1}))
            ]},
            "notes": {"type": ["string", "null"], "maxLength": 2000},
            "prefs": {"type": "object", "additionalProperties": false, "properties": {
                "max_km": {"type": "integer", "minimum": 1, "maximum": 200},
                "langs": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2}$"}}}}
        },
        "$defs": {
            "name": {"type": "object", "additionalProperties": false, "required": ["first", "last"],
                "properties": {"first": {"type": "string", "minLength": 1, "maxLength": 100}, "last": {"type": "string", "minLength": 1, "maxLength": 100}}},
            "address": {"type": "object", "additionalProperties": false, "required": ["street", "city"],
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}
        }
    })
}

fn edit(mut v: Value, k: usize) -> Value {
    let p = &mut v["properties"];
    match k % 20 {
        0 => {}
        1 => p["extra"] = json!({"type": "string"}),
        2 => p["email"]["maxLength"] = json!(100),
        3 => p["email"]["maxLength"] = json!(300),
        4 => p["id"]["type"] = json!("number"),
        5 => p["status"]["enum"] = json!(["open", "searching", "matched"]),
        6 => p["status"]["enum"] = json!(["open", "searching", "matched", "closed", "paused"]),
        7 => v["required"] = json!(["id", "name", "status", "location", "email"]),
        8 => v["required"] = json!(["id", "name", "status"]),
        9 => p["score"]["multipleOf"] = json!(1),
        10 => p["tags"]["items"]["pattern"] = json!("^[a-z]{2,4}$"),
        11 => p["location"]["oneOf"].as_array_mut().unwrap().truncate(2),
        12 => p["location"]["oneOf"].as_array_mut().unwrap().reverse(),
        13 => v["$defs"]["name"]["properties"]["first"]["maxLength"] = json!(50),
        14 => v["$defs"]["address"]["properties"]["zip"]["pattern"] = json!("^[0-9]{4,5}$"),
        15 => p["notes"]["type"] = json!("string"),
        16 => p["prefs"]["properties"]["max_km"]["maximum"] = json!(100),
        17 => p["tags"]["uniqueItems"] = json!(false),
        18 => {
            let inline = v["$defs"]["name"].clone();
            v["properties"]["name"] = inline;
        }
        _ => p["prefs"]["additionalProperties"] = json!(true),
    }
    v
}

fn load(v: &Value) -> (DocStore, usize) {
    let mut s = DocStore::new(Source::Memory(BTreeMap::new()));
    let id = s
        .add_text(
            Path::new("bench.json"),
            &serde_json::to_string_pretty(v).unwrap(),
        )
        .unwrap();
    (s, id)
}

fn main() {
    let raw: Vec<(Value, Value)> = (0..1000).map(|i| (base(i), edit(base(i), i))).collect();
    let pairs: Vec<_> = raw.iter().map(|(o, n)| (load(o), load(n))).collect();

    // Baseline: compiling both schemas of every pair with `jsonschema`, the least any
    // checker that verifies its verdicts against a validator pays.
    let start = Instant::now();
    for (o, n) in &raw {
        let a = jsonschema::validator_for(o).expect("bench schema compiles");
        let b = jsonschema::validator_for(n).expect("bench schema compiles");
        std::hint::black_box((a, b));
    }
    let baseline = start.elapsed().as_secs_f64();
    println!(
        "case=baseline_jsonschema_compile pairs={} seconds={baseline:.3}",
        raw.len()
    );

    let start = Instant::now();
    let mut counts = BTreeMap::new();
    for ((so, o), (sn, n)) in &pairs {
        let r =
            compare(so, *o, sn, *n, Level::Full, Policy::Strict).expect("bench schemas are valid");
        *counts.entry(format!("{:?}", r.verdict)).or_insert(0usize) += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let incompatible = counts
        .get(&format!("{:?}", Verdict::Incompatible))
        .copied()
        .unwrap_or(0);
    println!(
        "case=compat_full_strict pairs={} seconds={secs:.3} ratio_vs_compile={:.2} incompatible={incompatible} verdicts={counts:?}",
        pairs.len(),
        secs / baseline
    );

    let start = Instant::now();
    for ((so, o), _) in &pairs {
        let r = compare(so, *o, so, *o, Level::Full, Policy::Strict).expect("valid");
        assert_eq!(r.verdict, Verdict::Compatible);
    }
    println!(
        "case=compat_identical pairs={} seconds={:.3}",
        pairs.len(),
        start.elapsed().as_secs_f64()
    );

    enum_scaling();

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    if let Ok(files) = read_dir_files(&dir) {
        let start = Instant::now();
        let r = check_catalog(&dir, &files, Some(("self", &files)), Policy::Strict)
            .expect("catalog loads");
        println!(
            "case=compat_catalog pairs={} seconds={:.3}",
            r.comparisons.len(),
            start.elapsed().as_secs_f64()
        );
    }
}

/// One enum value removed, at growing sizes (issue 11: this was quadratic).
fn enum_scaling() {
    for n in [5_000usize, 10_000, 20_000, 40_000] {
        let values: Vec<Value> = (0..n).map(|i| json!(format!("value-{i:06}"))).collect();
        let old = json!({"type": "string", "enum": values});
        let mut fewer = values.clone();
        fewer.remove(n / 2);
        let new = json!({"type": "string", "enum": fewer});
        let ((so, o), (sn, nn)) = (load(&old), load(&new));

        let start = Instant::now();
        let a = jsonschema::validator_for(&old).expect("compiles");
        let b = jsonschema::validator_for(&new).expect("compiles");
        let accepted = values
            .iter()
            .filter(|v| a.is_valid(v) && b.is_valid(v))
            .count();
        std::hint::black_box(accepted);
        let baseline = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let r = compare(&so, o, &sn, nn, Level::Full, Policy::Strict).expect("valid");
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(r.verdict, Verdict::Incompatible);
        println!(
            "case=compat_enum_removed values={n} seconds={secs:.3} us_per_value={:.2} baseline_compile_validate={baseline:.3} ratio_vs_baseline={:.2}",
            secs * 1e6 / n as f64,
            secs / baseline
        );
    }
}
