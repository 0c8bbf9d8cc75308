//! Hostile schema pairs for `eventctl compat` (issue 11, part 1): each row is an old and a new
//! schema file, written as raw JSON text (so number literals reach the loader unchanged), the
//! expected exit code and text the output must contain. Exit 1 rows were once called compatible
//! (exit 0) although a document proves otherwise; exit 2 rows are invalid input.

use std::path::Path;
use std::process::Command;

struct Row {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    /// `--level`.
    level: &'static str,
    exit: i32,
    /// Must appear in stdout (exit 0/1) or stderr (exit 2).
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        name: "shorter prefixItems, unevaluatedItems unchanged",
        old: r#"{"prefixItems": [{"type": "string"}, {"type": "number"}, {"type": "number"}], "unevaluatedItems": false}"#,
        new: r#"{"prefixItems": [{"type": "string"}, {"type": "number"}], "unevaluatedItems": false}"#,
        level: "backward",
        exit: 1,
        says: &["error[tuple-length-reduced] backward", "counterexample"],
    },
    Row {
        name: "enum integer above 2^53",
        old: r#"{"enum": [9007199254740993]}"#,
        new: r#"{"enum": [9007199254740992]}"#,
        level: "backward",
        exit: 1,
        says: &["error[enum-value-removed]", "9007199254740993"],
    },
    Row {
        name: "const integer above 2^53",
        old: r#"{"const": 9007199254740993}"#,
        new: r#"{"const": 9007199254740992}"#,
        level: "backward",
        exit: 1,
        says: &["error[const-changed]"],
    },
    Row {
        name: "minimum i64::MIN to i64::MIN + 1",
        old: r#"{"type": "integer", "minimum": -9223372036854775808}"#,
        new: r#"{"type": "integer", "minimum": -9223372036854775807}"#,
        level: "backward",
        exit: 1,
        says: &["error[minimum-increased]", "-9223372036854775807"],
    },
    Row {
        name: "maximum u64::MAX to u64::MAX - 1",
        old: r#"{"type": "integer", "maximum": 18446744073709551615}"#,
        new: r#"{"type": "integer", "maximum": 18446744073709551614}"#,
        level: "backward",
        exit: 1,
        says: &["error[maximum-decreased]", "18446744073709551614"],
    },
    Row {
        name: "enum u64::MAX to u64::MAX - 1",
        old: r#"{"enum": [18446744073709551615]}"#,
        new: r#"{"enum": [18446744073709551614]}"#,
        level: "backward",
        exit: 1,
        says: &["error[enum-value-removed]"],
    },
    Row {
        name: "exclusiveMaximum as number above 2^53",
        old: r#"{"type": "number", "exclusiveMaximum": 9007199254740993}"#,
        new: r#"{"type": "number", "exclusiveMaximum": 9007199254740992}"#,
        level: "backward",
        exit: 1,
        says: &["error[maximum-decreased]"],
    },
    Row {
        name: "multipleOf above 2^53",
        old: r#"{"type": "integer", "multipleOf": 9007199254740993}"#,
        new: r#"{"type": "integer", "multipleOf": 9007199254740992}"#,
        level: "backward",
        exit: 1,
        says: &["multiple-of-changed"],
    },
    Row {
        name: "decimal bounds compared exactly",
        old: r#"{"type": "number", "minimum": 0.1}"#,
        new: r#"{"type": "number", "minimum": 0.10000000000000002}"#,
        level: "backward",
        exit: 1,
        says: &["error[minimum-increased]"],
    },
    Row {
        name: "same invalid pattern on both sides",
        old: r#"{"type": "string", "pattern": "(unclosed"}"#,
        new: r#"{"type": "string", "pattern": "(unclosed"}"#,
        level: "full",
        exit: 2,
        says: &[
            "old.json at /pattern",
            "invalid regular expression in `pattern`",
        ],
    },
    Row {
        name: "invalid pattern nested under properties",
        old: r#"{"type": "object"}"#,
        new: r#"{"type": "object", "properties": {"a": {"type": "string", "pattern": "[z-a]"}}}"#,
        level: "full",
        exit: 2,
        says: &[
            "new.json at /properties/a/pattern",
            "invalid regular expression",
        ],
    },
    Row {
        name: "invalid patternProperties key",
        old: r#"{"patternProperties": {"(": {"type": "string"}}}"#,
        new: r#"{"patternProperties": {"(": {"type": "string"}}}"#,
        level: "full",
        exit: 2,
        says: &[
            "/patternProperties/(",
            "invalid regular expression in `patternProperties`",
        ],
    },
    Row {
        name: "unevaluatedProperties next to an additionalProperties schema",
        old: r#"{"type": "object", "additionalProperties": {"type": "integer"}, "unevaluatedProperties": false}"#,
        new: r#"{"type": "object", "additionalProperties": false}"#,
        level: "backward",
        exit: 1,
        says: &["error[content-model-closed]"],
    },
    Row {
        name: "unevaluatedProperties sees only its own schema object",
        old: r#"{"type": "object", "properties": {"a": {}}, "additionalProperties": false}"#,
        new: r#"{"type": "object", "allOf": [{"properties": {"a": {}}}, {"unevaluatedProperties": false}]}"#,
        level: "backward",
        exit: 1,
        says: &["error[property-removed-closed]"],
    },
    Row {
        name: "unevaluatedItems is not a draft-07 keyword",
        old: r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "maxItems": 0}"#,
        new: r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "unevaluatedItems": false}"#,
        level: "forward",
        exit: 1,
        says: &["error[max-items-increased]"],
    },
    Row {
        name: "unevaluatedItems beside if/then is not analysed",
        old: r#"{"type": "array", "if": true, "then": {"prefixItems": [{}, {}]}, "unevaluatedItems": false}"#,
        new: r#"{"type": "array", "maxItems": 0}"#,
        level: "backward",
        exit: 1,
        says: &["error[max-items-decreased]"],
    },
    Row {
        name: "\\d is ASCII in ECMA-262",
        old: r#"{"enum": ["\u0661"]}"#,
        new: r#"{"type": "string", "pattern": "^\\d$"}"#,
        level: "backward",
        exit: 1,
        says: &["error[enum-value-rejected]"],
    },
    Row {
        name: "a format value the validator rejects",
        old: r#"{"enum": ["a@-"]}"#,
        new: r#"{"type": "string", "format": "email"}"#,
        level: "backward",
        exit: 1,
        says: &["error[enum-value-rejected]"],
    },
];

fn eventctl(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run eventctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hostile_pairs_get_the_expected_exit_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut failures = Vec::new();
    for row in ROWS {
        std::fs::write(d.join("old.json"), row.old).unwrap();
        std::fs::write(d.join("new.json"), row.new).unwrap();
        let (code, out, err) =
            eventctl(d, &["compat", "old.json", "new.json", "--level", row.level]);
        let shown = if row.exit == 2 { &err } else { &out };
        let missing: Vec<_> = row.says.iter().filter(|s| !shown.contains(*s)).collect();
        if code != row.exit || !missing.is_empty() {
            failures.push(format!(
                "{}: want exit {} with {:?}, got exit {code} missing {missing:?}\n{out}{err}",
                row.name, row.exit, row.says
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
