//! A schema file or `topics.json` with a key twice is refused by every `eventctl` command
//! that reads it (generate, lint, compat, topics), naming the file and the JSON pointer.
//! Before, the last value silently won: `"maximum": 5, "maximum": 500` generated and
//! checked against 500, while another tool reading the first value saw 5.

use std::path::Path;
use std::process::Command;

fn eventctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const V1: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/patient.noted/v1.json",
  "title": "Patient noted", "description": "A note was taken.",
  "type": "object", "additionalProperties": false,
  "x-event-type": "patient.noted", "x-event-version": 1,
  "x-kafka-topic": "patient-events", "x-kafka-key": "patient_id",
  "required": ["patient_id"],
  "properties": {
    "patient_id": {"type": "integer", "minimum": 1, "maximum": 5, "maximum": 500,
                   "description": "Patient id."}
  },
  "examples": [{"patient_id": 1}, {"patient_id": 2}]
}"#;

fn catalog(dir: &Path, schema: &str, topics: &str) {
    let ev = dir.join("events/patient.noted");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::write(ev.join("v1.json"), schema).unwrap();
    std::fs::write(dir.join("topics.json"), topics).unwrap();
}

const TOPICS: &str = r#"{
  "dead_letter": {"suffix": ".dlq", "partitions": 1},
  "topics": [{"name": "patient-events", "partitions": 3, "kind": "events"}]
}"#;
const POINTER: &str = "#/properties/patient_id/maximum";

#[test]
fn generate_lint_and_compat_refuse_a_duplicate_key() {
    let dir = tempfile::tempdir().unwrap();
    catalog(dir.path(), V1, TOPICS);
    let schemas = dir.path().to_str().unwrap();
    let file = dir.path().join("events/patient.noted/v1.json");
    let file = file.to_str().unwrap();

    let (code, _, err) = eventctl(&["generate", "--schemas", schemas, "--out", "-"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("v1.json{POINTER}")), "{err}");
    assert!(err.contains("duplicate key"), "{err}");

    let (code, out, err) = eventctl(&["lint", "--schemas", schemas, "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("duplicate-key"), "{out}");
    assert!(out.contains(&POINTER[1..]), "{out}");

    let (code, out, err) = eventctl(&["compat", file, file]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("duplicate key at #/properties/patient_id/maximum"),
        "{err}"
    );
}

#[test]
fn topics_refuses_a_duplicate_key() {
    let dir = tempfile::tempdir().unwrap();
    let clean = V1.replace(r#""maximum": 5, "#, "");
    catalog(
        dir.path(),
        &clean,
        &TOPICS.replace(r#""partitions": 3"#, r#""partitions": 3, "partitions": 1"#),
    );
    let topics = dir.path().join("topics.json");
    let topics = topics.to_str().unwrap();
    let (code, out, err) = eventctl(&["topics", "--topics", topics, "--format", "sh"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("topics.json"), "{err}");
    assert!(err.contains("/topics/0/partitions"), "{err}");

    // Without the duplicate the same catalog is fine.
    catalog(dir.path(), &clean, TOPICS);
    let (code, _, err) = eventctl(&["topics", "--topics", topics, "--format", "sh"]);
    assert_eq!(code, 0, "{err}");
}
