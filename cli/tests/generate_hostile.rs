//! Hostile schemas through `eventctl generate --schema`: a table of inputs with the expected
//! exit code and, for failures, the JSON pointer and message printed as
//! `path#/json/pointer: message`.
//!
//! Every case that must generate (exit 0) is also a fixture of the generator
//! (`codegen/tests/fixtures/<name>.json`): the `pmp-codegen-fixtures` crate compiles it under
//! `#![deny(warnings)]` and clippy and its `tests/behaviour.rs` deserializes, checks and
//! re-serializes data with the generated types. Here such cases are run straight from that
//! fixture file, so the table and the compiled code cannot drift apart.

use std::path::{Path, PathBuf};
use std::process::Command;

enum Expect {
    /// Exit 0; the schema is this fixture of `codegen/tests/fixtures` (compiled and exercised there).
    Generates,
    /// Exit 1 with `file#pointer: ...needle...` on stderr.
    Fails(&'static str, &'static str),
}

struct Case {
    name: &'static str,
    /// Schema text; `None` means the fixture file `codegen/tests/fixtures/<name>.json`.
    schema: Option<&'static str>,
    expect: Expect,
}

use Expect::{Fails, Generates};

fn cases() -> Vec<Case> {
    vec![
        // Names that shadow the prelude: std types are written as full paths.
        Case {
            name: "prelude_names",
            schema: None,
            expect: Generates,
        },
        // Non-ASCII property names: transliterated, taken ones named by position.
        Case {
            name: "non_ascii",
            schema: None,
            expect: Generates,
        },
        // What compat accepts, the generator accepts: tuples, pattern maps, type unions,
        // `const ""`, mixed enums, date-time defaults, anyOf inside allOf; and draft-07.
        Case {
            name: "real_world",
            schema: None,
            expect: Generates,
        },
        Case {
            name: "draft07",
            schema: None,
            expect: Generates,
        },
        // Still unsupported: an error with its pointer, never broken code.
        Case {
            name: "conditional",
            schema: Some(
                r##"{"type": "object", "properties": {"a": {"if": {"minimum": 1}, "then": {"maximum": 2}}}}"##,
            ),
            expect: Fails("/properties/a/if", "unsupported keyword `if`"),
        },
        Case {
            name: "draft07_keyword_in_2020",
            schema: Some(r##"{"type": "object", "definitions": {"a": {"type": "string"}}}"##),
            expect: Fails("/definitions", "draft-07 keyword"),
        },
        Case {
            name: "bad_pattern_property",
            schema: Some(r##"{"type": "object", "patternProperties": {"(": {"type": "string"}}}"##),
            expect: Fails("/patternProperties/(", "invalid regular expression"),
        },
        // Recursion through an object property terminates: fine.
        Case {
            name: "recursion",
            schema: None,
            expect: Generates,
        },
        // Left-recursive unions would overflow the stack on every input.
        Case {
            name: "left_recursive_any_of",
            schema: Some(r##"{"anyOf": [{"$ref": "#"}, {"type": "string"}]}"##),
            expect: Fails("", "left-recursive schema"),
        },
        Case {
            name: "left_recursive_second_branch",
            schema: Some(r##"{"oneOf": [{"type": "integer"}, {"$ref": "#"}]}"##),
            expect: Fails("", "left-recursive schema"),
        },
        Case {
            name: "left_recursive_through_defs",
            schema: Some(
                r##"{"type": "object", "properties": {"v": {"$ref": "#/$defs/a"}},
                    "$defs": {
                        "a": {"oneOf": [{"$ref": "#/$defs/b"}, {"type": "integer"}]},
                        "b": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}
                    }}"##,
            ),
            expect: Fails("/$defs/a", "left-recursive schema"),
        },
        Case {
            name: "left_recursive_type_array",
            schema: Some(
                r##"{"$defs": {"t": {"anyOf": [{"$ref": "#/$defs/t"}, {"type": "boolean"}]}},
                    "type": "object", "properties": {"t": {"$ref": "#/$defs/t"}}}"##,
            ),
            expect: Fails("/$defs/t", "left-recursive schema"),
        },
        // `multipleOf` must be > 0.
        Case {
            name: "multiple_of_zero",
            schema: Some(
                r##"{"type": "object", "properties": {"n": {"type": "number", "multipleOf": 0}}}"##,
            ),
            expect: Fails("/properties/n/multipleOf", "greater than 0"),
        },
        Case {
            name: "multiple_of_negative",
            schema: Some(
                r##"{"type": "object", "properties": {"n": {"type": "integer", "multipleOf": -2}}}"##,
            ),
            expect: Fails("/properties/n/multipleOf", "greater than 0"),
        },
        Case {
            name: "min_length_negative",
            schema: Some(
                r##"{"type": "object", "properties": {"s": {"type": "string", "minLength": -1}}}"##,
            ),
            expect: Fails("/properties/s/minLength", "non-negative integer"),
        },
        // Names of items the generator emits itself.
        Case {
            name: "reserved_helper_name",
            schema: Some(
                r##"{"type": "object", "properties": {"e": {"$ref": "#/$defs/UnknownEnumValue"}},
                    "$defs": {"UnknownEnumValue": {"type": "string", "enum": ["a"]}}}"##,
            ),
            expect: Fails("/$defs/UnknownEnumValue", "reserved"),
        },
        // `$ref` must not leave the schema root (here: the schema file's directory).
        Case {
            name: "ref_to_etc_passwd",
            schema: Some(r##"{"type": "object", "properties": {"p": {"$ref": "/etc/passwd"}}}"##),
            expect: Fails("/properties/p/$ref", "outside the schema root"),
        },
        Case {
            name: "ref_up_the_tree",
            schema: Some(
                r##"{"$id": "https://x.example/a/b.json", "type": "object",
                    "properties": {"p": {"$ref": "../../../../../../etc/hostname"}}}"##,
            ),
            expect: Fails("/properties/p/$ref", "outside the schema root"),
        },
        Case {
            name: "ref_file_uri",
            schema: Some(r##"{"$ref": "file:///etc/passwd#/x"}"##),
            expect: Fails("/$ref", "outside the schema root"),
        },
        // ASCII names that collide stay an error (the author can rename one).
        Case {
            name: "ascii_field_collision",
            schema: Some(
                r##"{"type": "object", "properties": {"fooBar": {"type": "string"}, "foo_bar": {"type": "string"}}}"##,
            ),
            expect: Fails("/properties/foo_bar", "field name collision"),
        },
    ]
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/fixtures")
        .join(format!("{name}.json"))
}

#[test]
fn hostile_schemas_exit_codes_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let file = match case.schema {
            Some(text) => {
                let file = dir.path().join(format!("{}.json", case.name));
                std::fs::write(&file, text).unwrap();
                file
            }
            None => fixture(case.name),
        };
        let out = Command::new(env!("CARGO_BIN_EXE_eventctl"))
            .args(["generate", "--schema"])
            .arg(&file)
            .args(["--out", "-"])
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        match case.expect {
            Generates => {
                if code != 0 || !stdout.contains("pub ") {
                    failures.push(format!(
                        "{}: expected exit 0, got {code}: {stderr}",
                        case.name
                    ));
                }
                if case.schema.is_some() {
                    failures.push(format!(
                        "{}: a generating case must be a compiled fixture",
                        case.name
                    ));
                }
            }
            Fails(pointer, needle) => {
                let prefix = format!("{}#{pointer}: ", file.display());
                if code != 1 || !stderr.starts_with(&prefix) || !stderr.contains(needle) {
                    failures.push(format!(
                        "{}: expected exit 1 with `{prefix}...{needle}...`, got {code}: {stderr}",
                        case.name
                    ));
                }
                if stderr.contains("panicked") {
                    failures.push(format!("{}: panicked", case.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
