//! `lint`: the project's catalog is clean of errors; each rule fires on a crafted catalog.

use pmp_event_codegen::lint::{lint_dir, lint_files, Severity};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[test]
fn project_catalog_has_no_lint_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let findings = lint_dir(&dir).unwrap();
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn files(entries: &[(&str, String)]) -> BTreeMap<PathBuf, String> {
    entries
        .iter()
        .map(|(p, t)| (Path::new("s").join(p), t.clone()))
        .collect()
}

#[test]
fn each_rule_fires_with_file_and_line() {
    let good = |ty: &str, n: u64| {
        json!({"$id": format!("https://pmp.example/schemas/events/{ty}/v{n}.json"), "title": "t", "description": "d",
            "type": "object", "additionalProperties": false, "x-event-type": ty, "x-event-version": n,
            "x-kafka-topic": "t1", "x-kafka-key": "id", "required": ["id"],
            "properties": {"id": {"type": "integer", "description": "id"}}})
    };
    let mut wrong_type = good("a.b", 1);
    wrong_type["x-event-type"] = json!("a.c");
    wrong_type["x-event-version"] = json!(2);
    wrong_type["x-compatibility"] = json!("SIDEWAYS");
    let mut dup = good("a.b", 2);
    dup["$id"] = json!("https://pmp.example/schemas/events/a.b/v1.json");
    dup.as_object_mut().unwrap().remove("title");
    dup["properties"]["phone_number"] = json!({"type": "string", "description": "p"});
    dup["properties"]["street"] = json!({"type": "string", "description": "s", "x-pii": false});
    let fs = files(&[
        (
            "topics.json",
            json!({"topics": [{"name": "t1"}]}).to_string(),
        ),
        (
            "events/a.b/v1.json",
            serde_json::to_string_pretty(&wrong_type).unwrap(),
        ),
        (
            "events/a.b/v2.json",
            serde_json::to_string_pretty(&dup).unwrap(),
        ),
        (
            "events/a.b/latest.json",
            serde_json::to_string_pretty(&good("a.b", 3)).unwrap(),
        ),
        ("common/broken.json", "{\n  \"type\": \n".to_string()),
    ]);
    let f = lint_files(Path::new("s"), &fs);
    let has = |rule: &str, file: &str| f.iter().any(|x| x.rule == rule && x.file.ends_with(file));
    for (rule, file) in [
        ("event-type-mismatch", "v1.json"),
        ("event-version-mismatch", "v1.json"),
        ("compatibility-level-invalid", "v1.json"),
        ("id-duplicate", "v2.json"),
        ("title-missing", "v2.json"),
        ("pii-unmarked", "v2.json"),
        ("file-naming", "latest.json"),
        ("invalid-json", "broken.json"),
    ] {
        assert!(has(rule, file), "{rule} on {file}: {f:#?}");
    }
    // `"x-pii": false` records a decision and is not flagged.
    assert!(!f
        .iter()
        .any(|x| x.rule == "pii-unmarked" && x.pointer.ends_with("street")));
    let pii = f.iter().find(|x| x.rule == "pii-unmarked").unwrap();
    assert_eq!(pii.pointer, "/properties/phone_number");
    assert!(pii.line > 1);
}
