//! Generator benchmark (`scripts/bench codegen`).
//!
//! Times the whole pipeline (load + `$ref` resolution + lowering + bundling + emission +
//! prettyplease) for the repository's `schemas/`, and for synthetic catalogs of 250, 500 and
//! 1,000 event schemas written to a temp dir. Synthetic events are the repository's events
//! and commands under new names (`bench0042.patient.created`), so they have realistic size
//! and share the real `common/` definitions through relative `$ref`s. Each case reports the
//! best of three runs: `case=NAME schemas=N seconds=S ms_per_schema=M`, plus the raw baseline
//! measured in the same run (reading and `serde_json`-parsing every file of the catalog, best of
//! three) and the ratio of the two, so the numbers stay comparable on a loaded machine.
//!
//! Scaling in properties (`properties_5k` .. `properties_40k`): one standalone schema of N
//! properties, grouped in objects of the largest size the generator accepts
//! ([`pmp_event_codegen::ir::object::MAX_PROPERTIES`]); `properties_one_object_over_limit`
//! puts 40,000 properties in one object, which is refused.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pmp_event_codegen::Config;
use serde_json::Value;

fn repo_schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn payload_files(dir: &Path) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for kind in ["events", "commands"] {
        let mut types: Vec<PathBuf> = std::fs::read_dir(dir.join(kind))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        types.sort();
        for t in types {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&t)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).expect("read schema");
                let value: Value = serde_json::from_str(&text).expect("schema JSON");
                let event_type = t.file_name().unwrap().to_string_lossy().into_owned();
                let file = f.file_name().unwrap().to_string_lossy().into_owned();
                out.push((format!("{kind}/{event_type}"), file, value));
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let p = e.expect("entry").path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

/// A catalog of `n` event schemas derived from the repository's payload schemas.
fn synthetic(n: usize, dir: &Path) {
    let repo = repo_schemas();
    copy_dir(&repo.join("common"), &dir.join("common"));
    std::fs::copy(repo.join("envelope.json"), dir.join("envelope.json")).expect("envelope");
    let templates = payload_files(&repo);
    for i in 0..n {
        let (kind_type, file, template) = &templates[i % templates.len()];
        let (kind, event_type) = kind_type.split_once('/').unwrap();
        let new_type = format!("bench{i:04}.{event_type}");
        let mut value = template.clone();
        value["$id"] = Value::String(format!(
            "https://pmp.example/schemas/{kind}/{new_type}/{file}"
        ));
        if value.get("x-event-type").is_some() {
            value["x-event-type"] = Value::String(new_type.clone());
        }
        let target = dir.join(kind).join(&new_type);
        std::fs::create_dir_all(&target).expect("mkdir");
        std::fs::write(
            target.join(file),
            serde_json::to_vec_pretty(&value).unwrap(),
        )
        .expect("write");
    }
}

/// The floor any generator pays: read and parse every `.json` file under `dir`.
fn parse_baseline(dir: &Path) -> f64 {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for f in &files {
            let text = std::fs::read_to_string(f).expect("read");
            let v: Value = serde_json::from_str(&text).expect("json");
            std::hint::black_box(v);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

fn time(dir: &Path) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let code = Config::new()
            .schemas_dir(dir)
            .generate_to_string()
            .unwrap_or_else(|e| panic!("generation failed: {e}"));
        best = best.min(start.elapsed().as_secs_f64());
        bytes = code.len();
    }
    (best, bytes)
}

fn report(case: &str, n: usize, dir: &Path) {
    let baseline = parse_baseline(dir);
    let (seconds, bytes) = time(dir);
    println!(
        "case={case} schemas={n} seconds={seconds:.4} ms_per_schema={:.3} output_bytes={bytes} \
         parse_baseline_seconds={baseline:.4} ratio_vs_parse={:.1}",
        seconds * 1000.0 / n as f64,
        seconds / baseline
    );
}

/// One standalone schema with `n` properties in objects of at most `per_object` properties
/// (a root object whose properties are objects): strings, integers with bounds, numbers.
fn wide_schema(n: usize, per_object: usize) -> Value {
    let prop = |i: usize| match i % 3 {
        0 => serde_json::json!({"type": "integer", "minimum": 0, "maximum": 1000}),
        1 => serde_json::json!({"type": "number"}),
        _ => serde_json::json!({"type": "string"}),
    };
    let object = |from: usize, to: usize| {
        let props: serde_json::Map<String, Value> =
            (from..to).map(|i| (format!("p{i:06}"), prop(i))).collect();
        serde_json::json!({"type": "object", "additionalProperties": false, "properties": props})
    };
    if n <= per_object {
        let mut root = object(0, n);
        root["title"] = Value::String("Wide".into());
        return root;
    }
    let groups: serde_json::Map<String, Value> = (0..n.div_ceil(per_object))
        .map(|g| {
            (
                format!("group{g:04}"),
                object(g * per_object, ((g + 1) * per_object).min(n)),
            )
        })
        .collect();
    serde_json::json!({"title": "Wide", "type": "object", "properties": groups})
}

/// `generate` of one standalone schema file with `n` properties: best of three, plus the
/// parse baseline of the same file.
fn report_wide(case: &str, n: usize, per_object: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wide.json");
    std::fs::write(
        &file,
        serde_json::to_vec_pretty(&wide_schema(n, per_object)).unwrap(),
    )
    .expect("write");
    let baseline = parse_baseline(dir.path());
    let mut best = f64::MAX;
    let mut outcome = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let result = Config::new().schema_file(&file).generate_to_string();
        best = best.min(start.elapsed().as_secs_f64());
        outcome = match result {
            Ok(code) => format!("output_bytes={}", code.len()),
            Err(e) => format!("refused=\"{}\"", e.message()),
        };
    }
    println!(
        "case={case} properties={n} per_object={per_object} seconds={best:.4} us_per_property={:.2} \
         parse_baseline_seconds={baseline:.4} ratio_vs_parse={:.1} {outcome}",
        best * 1e6 / n as f64,
        best / baseline
    );
}

fn main() {
    let repo = repo_schemas();
    let n_repo = payload_files(&repo).len();
    report("repo_schemas", n_repo, &repo);
    for n in [250, 500, 1000] {
        let dir = tempfile::tempdir().expect("tempdir");
        synthetic(n, dir.path());
        report(&format!("synthetic_{n}"), n, dir.path());
    }
    // Scaling in properties: objects of the largest size the generator accepts, and one
    // object above the limit (refused, with the time it takes to say so).
    let limit = pmp_event_codegen::ir::object::MAX_PROPERTIES;
    for n in [5_000, 10_000, 20_000, 40_000] {
        report_wide(&format!("properties_{}k", n / 1000), n, limit);
    }
    report_wide("properties_one_object_over_limit", 40_000, 40_000);
}
