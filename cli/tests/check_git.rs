//! `eventctl check --against` in a temporary git repository, plus `compat` and `lint` exit codes.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

fn eventctl(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn event(version: u64, extra: Value) -> Value {
    let mut v = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://pmp.example/schemas/events/patient.noted/v{version}.json"),
        "title": "Patient noted", "description": "A note was taken.",
        "type": "object", "additionalProperties": false,
        "x-event-type": "patient.noted", "x-event-version": version,
        "x-kafka-topic": "patient-events", "x-kafka-key": "patient_id",
        "required": ["patient_id", "note"],
        "properties": {
            "patient_id": {"type": "integer", "minimum": 1, "description": "Patient."},
            "note": {"type": "string", "maxLength": 50, "description": "The note.", "x-pii": true}
        },
        "examples": [{"patient_id": 1, "note": "a"}, {"patient_id": 2, "note": "b"}]
    });
    if let Value::Object(m) = extra {
        for (k, x) in m {
            v[k] = x;
        }
    }
    v
}

fn write(dir: &Path, rel: &str, v: &Value) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// A repository with one released event version committed.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().to_path_buf();
    git(&d, &["init", "-q"]);
    write(
        &d,
        "schemas/topics.json",
        &json!({"$id": "https://pmp.example/schemas/topics.json", "topics": [{"name": "patient-events", "partitions": 1}]}),
    );
    write(
        &d,
        "schemas/events/patient.noted/v1.json",
        &event(1, json!({})),
    );
    git(&d, &["add", "."]);
    git(&d, &["commit", "-q", "-m", "v1"]);
    (t, d)
}

#[test]
fn compatible_edit_passes() {
    let (_t, d) = repo();
    let mut v1 = event(1, json!({}));
    v1["properties"]["mood"] = json!({"type": "string", "description": "Optional mood."});
    write(&d, "schemas/events/patient.noted/v1.json", &v1);
    let (code, out, err) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 incompatible"), "{out}");
}

#[test]
fn breaking_edit_fails_with_rule_and_line() {
    let (_t, d) = repo();
    let mut v1 = event(1, json!({}));
    v1["properties"]["note"]["maxLength"] = json!(10);
    write(&d, "schemas/events/patient.noted/v1.json", &v1);
    let text = std::fs::read_to_string(d.join("schemas/events/patient.noted/v1.json")).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"maxLength\""))
        .unwrap()
        + 1;
    let (code, out, err) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("error[max-length-decreased]"), "{out}");
    assert!(
        out.contains(&format!(
            "new: schemas/events/patient.noted/v1.json:{line}:"
        )),
        "line {line}: {out}"
    );
    assert!(
        out.contains("counterexample (valid under old, rejected by new)"),
        "{out}"
    );
    // GitHub annotations name the file and line of the new schema.
    let (code, out, _) = eventctl(&d, &["check", "--against", "HEAD", "--format", "github"]);
    assert_eq!(code, 1);
    assert!(
        out.lines().any(|l| l
            .starts_with("::error file=schemas/events/patient.noted/v1.json,line=")
            && l.contains(&format!("line={line},"))
            && l.contains("title=max-length-decreased::")),
        "{out}"
    );
    // JSON output parses and carries the rule.
    let (_, out, _) = eventctl(&d, &["check", "--against", "HEAD", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["comparisons"][0]["report"]["findings"][0]["rule"],
        "max-length-decreased"
    );
}

#[test]
fn deleted_released_version_fails() {
    let (_t, d) = repo();
    std::fs::remove_file(d.join("schemas/events/patient.noted/v1.json")).unwrap();
    let (code, out, err) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[version-deleted] schemas/events/patient.noted/v1.json"),
        "{out}"
    );
}

#[test]
fn renamed_released_version_fails() {
    let (_t, d) = repo();
    std::fs::rename(
        d.join("schemas/events/patient.noted/v1.json"),
        d.join("schemas/events/patient.noted/v2.json"),
    )
    .unwrap();
    let (code, out, _) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1);
    assert!(out.contains("version-deleted"), "{out}");
}

#[test]
fn new_version_with_breaking_change_passes_when_its_level_allows() {
    let (_t, d) = repo();
    // v2 drops `note` from `required`: not BACKWARD-breaking but FORWARD-breaking...
    let mut v2 = event(2, json!({"required": ["patient_id"]}));
    // ...and narrows maxLength, which breaks BACKWARD.
    v2["properties"]["note"]["maxLength"] = json!(20);
    write(&d, "schemas/events/patient.noted/v2.json", &v2);
    let (code, out, _) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1, "default BACKWARD_TRANSITIVE must reject: {out}");
    assert!(
        out.contains("patient.noted v1 → v2 (BACKWARD_TRANSITIVE): incompatible"),
        "{out}"
    );
    assert!(out.contains("max-length-decreased"), "{out}");
    // Declaring FORWARD: v1 readers accept all v2 data? No: `note` may be missing → still fails.
    v2["x-compatibility"] = json!("FORWARD");
    write(&d, "schemas/events/patient.noted/v2.json", &v2);
    let (code, out, _) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("required-removed"), "{out}");
    // NONE allows the breaking change; the released v1 is untouched, so the check passes.
    v2["x-compatibility"] = json!("NONE");
    write(&d, "schemas/events/patient.noted/v2.json", &v2);
    let (code, out, err) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 0, "{out}{err}");
    // A FORWARD-compatible breaking change (narrowing only) passes at FORWARD.
    let mut v2 = event(2, json!({"x-compatibility": "FORWARD"}));
    v2["properties"]["note"]["maxLength"] = json!(20);
    write(&d, "schemas/events/patient.noted/v2.json", &v2);
    let (code, out, err) = eventctl(&d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn missing_ref_is_a_usage_error() {
    let (_t, d) = repo();
    let (code, out, err) = eventctl(&d, &["check", "--against", "no-such-branch"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("git ref `no-such-branch` does not exist"),
        "{err}"
    );
    let (code, _, err) = eventctl(&d, &["check", "--schemas", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn schemas_absent_at_baseline_is_fine() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    git(d, &["init", "-q"]);
    std::fs::write(d.join("README"), "x").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "first"]);
    write(
        d,
        "schemas/topics.json",
        &json!({"topics": [{"name": "patient-events"}]}),
    );
    write(
        d,
        "schemas/events/patient.noted/v1.json",
        &event(1, json!({})),
    );
    let (code, out, err) = eventctl(d, &["check", "--against", "HEAD"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn compat_exit_codes() {
    let (_t, d) = repo();
    let mut v2 = event(2, json!({}));
    v2["properties"]["note"]["maxLength"] = json!(20);
    write(&d, "v2.json", &v2);
    write(&d, "same.json", &event(1, json!({})));
    let old = "schemas/events/patient.noted/v1.json";
    assert_eq!(eventctl(&d, &["compat", old, "same.json"]).0, 0);
    let (code, out, _) = eventctl(&d, &["compat", old, "v2.json"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("incompatible:") && out.contains("error[max-length-decreased] backward"),
        "{out}"
    );
    assert_eq!(
        eventctl(&d, &["compat", old, "v2.json", "--level", "forward"]).0,
        0
    );
    let (code, out, _) = eventctl(&d, &["compat", old, "v2.json", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "incompatible");
    assert_eq!(v["findings"][0]["counterexample"]["valid_under"], "old");
    // Unknown fails unless allowed.
    write(
        &d,
        "if.json",
        &event(
            1,
            json!({"if": {"required": ["note"]}, "then": {"required": ["patient_id"]}}),
        ),
    );
    assert_eq!(eventctl(&d, &["compat", old, "if.json"]).0, 1);
    assert_eq!(
        eventctl(&d, &["compat", old, "if.json", "--allow-unknown"]).0,
        0
    );
    // Input errors.
    let (code, _, err) = eventctl(&d, &["compat", old, "missing.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"), "{err}");
    std::fs::write(d.join("bad.json"), "{\"type\": ").unwrap();
    let (code, _, err) = eventctl(&d, &["compat", old, "bad.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json:1:"), "{err}");
    write(
        &d,
        "badref.json",
        &json!({"properties": {"a": {"$ref": "#/$defs/nope"}}}),
    );
    let (code, _, err) = eventctl(&d, &["compat", old, "badref.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/properties/a/$ref") && err.contains("#/$defs/nope"),
        "{err}"
    );
    assert_eq!(eventctl(&d, &["compat", old]).0, 2);
}

#[test]
fn lint_flags_conventions() {
    let (_t, d) = repo();
    assert_eq!(
        eventctl(&d, &["lint"]).0,
        0,
        "{:?}",
        eventctl(&d, &["lint"])
    );
    let mut v = event(
        3,
        json!({"x-kafka-topic": "nope", "x-kafka-key": "missing"}),
    );
    v["properties"]["email"] = json!({"type": "string"});
    v["properties"]["extra"] = json!({"type": "object", "description": "open"});
    write(&d, "schemas/events/patient.noted/v2.json", &v);
    let (code, out, _) = eventctl(&d, &["lint"]);
    assert_eq!(code, 1);
    for rule in [
        "event-version-mismatch",
        "id-path-mismatch",
        "topic-missing",
        "key-missing",
        "pii-unmarked",
        "description-missing",
        "open-content-model",
    ] {
        assert!(out.contains(&format!("[{rule}]")), "{rule}: {out}");
    }
    assert!(
        out.contains("at BACKWARD (strict policy) no property can ever be added"),
        "{out}"
    );
}
