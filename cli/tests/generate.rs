//! `eventctl generate`: output equals the library's (what build.rs writes), exit codes
//! 0/1/2, and errors printed as `path#/json/pointer: message`.

use std::path::{Path, PathBuf};
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

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn catalog_output_equals_the_library_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.rs");
    let s = schemas();
    let (code, _, err) = eventctl(&[
        "generate",
        "--schemas",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&out).unwrap();
    let expected = pmp_event_codegen::Config::new()
        .schemas_dir(&s)
        .generate_to_string()
        .unwrap();
    assert_eq!(written, expected);
    assert!(written.contains("pub enum AnyEvent"));
    let (code, stdout, _) = eventctl(&["generate", "--schemas", s.to_str().unwrap(), "--out", "-"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, expected);
}

#[test]
fn standalone_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("location.rs");
    let file = schemas().join("common/location.json");
    let (code, _, err) = eventctl(&[
        "generate",
        "--schema",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("pub enum Location"));
    assert!(!written.contains("AnyEvent"));
}

#[test]
fn schema_problem_exits_1_with_file_and_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("events/a.b");
    std::fs::create_dir_all(&ev).unwrap();
    std::fs::write(
        ev.join("v1.json"),
        r#"{"type": "object", "x-kafka-topic": "t", "x-kafka-key": "id", "required": ["id"],
            "properties": {"id": {"type": "integer"}, "x": {"type": "string", "pattern": "(("}}}"#,
    )
    .unwrap();
    let out = dir.path().join("out.rs");
    let (code, _, err) = eventctl(&[
        "generate",
        "--schemas",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let expected = format!("{}#/properties/x/pattern: ", ev.join("v1.json").display());
    assert!(err.starts_with(&expected), "{err}");
    assert!(!out.exists());
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(eventctl(&["generate", "--out", "x.rs"]).0, 2);
    assert_eq!(
        eventctl(&[
            "generate",
            "--schemas",
            "a",
            "--schema",
            "b",
            "--out",
            "x.rs"
        ])
        .0,
        2
    );
    let (code, _, err) = eventctl(&["generate", "--schemas", "/no/such/dir", "--out", "-"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("/no/such/dir#: "), "{err}");
}
