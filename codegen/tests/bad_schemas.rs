//! Bad schemas: each gives an error naming the file and the JSON pointer, never a panic.

use std::path::Path;

use pmp_event_codegen::{Config, Error, ErrorKind};
use proptest::prelude::*;
use serde_json::{json, Value};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A valid event `a.b` v1 with `extra` merged into its root.
fn event(extra: Value) -> String {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://t.example/events/a.b/v1.json",
        "type": "object",
        "additionalProperties": false,
        "x-kafka-topic": "t",
        "x-kafka-key": "id",
        "required": ["id"],
        "properties": {"id": {"type": "integer", "minimum": 1}}
    });
    merge(&mut root, extra);
    serde_json::to_string_pretty(&root).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (a, b) => *a = b,
    }
}

fn generate_err(dir: &Path) -> Error {
    match Config::new().schemas_dir(dir).generate_to_string() {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// Assert the error is at `rel#pointer`, mentions `needle`, and displays as
/// `path#/pointer: message`.
fn assert_at(err: &Error, dir: &Path, rel: &str, pointer: &str, needle: &str) {
    assert_eq!(err.file(), dir.join(rel), "{err}");
    assert_eq!(err.pointer(), pointer, "{err}");
    assert!(err.message().contains(needle), "{err}");
    assert_eq!(err.kind(), ErrorKind::Schema, "{err}");
    let shown = err.to_string();
    let prefix = format!("{}#{}: ", dir.join(rel).display(), pointer);
    assert!(
        shown.starts_with(&prefix),
        "{shown} does not start with {prefix}"
    );
}

const EV: &str = "events/a.b/v1.json";

#[test]
fn valid_base_event_generates() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), EV, &event(json!({})));
    let code = Config::new()
        .schemas_dir(dir.path())
        .generate_to_string()
        .unwrap();
    assert!(code.contains("pub struct ABV1"));
}

#[test]
fn malformed_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), EV, "{\n  \"type\": \"object\",\n  \"x\": \n}");
    let err = generate_err(dir.path());
    assert_at(&err, dir.path(), EV, "", "malformed JSON");
    assert_eq!(err.position().map(|p| p.0), Some(4), "{err}");
}

#[test]
fn unresolvable_ref() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(json!({"properties": {"x": {"$ref": "../../../common/missing.json"}}}));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/x/$ref",
        "cannot resolve `$ref`",
    );
    assert!(err.position().is_some(), "{err}");
}

#[test]
fn refs_stay_below_the_root_unless_widened() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("schemas");
    write(
        outer.path(),
        "shared/money.json",
        r#"{"type": "object", "properties": {"cents": {"type": "integer"}}}"#,
    );
    // Without `$id` the reference is a path relative to the file (with an `$id`, `..` stops at
    // the URI's root, which the project maps to the schema directory).
    let mut ev: Value = serde_json::from_str(&event(
        json!({"properties": {"m": {"$ref": "../../../shared/money.json"}}}),
    ))
    .unwrap();
    ev.as_object_mut().unwrap().remove("$id");
    write(&dir, EV, &ev.to_string());
    let err = generate_err(&dir);
    assert_at(
        &err,
        &dir,
        EV,
        "/properties/m/$ref",
        "outside the schema root",
    );
    // A symbolic link inside the root does not lead outside it either.
    #[cfg(unix)]
    {
        let link_dir = outer.path().join("linked");
        let ev = event(json!({"properties": {"m": {"$ref": "../../common/money"}}}));
        write(&link_dir, EV, &ev);
        std::fs::create_dir_all(link_dir.join("common")).unwrap();
        std::os::unix::fs::symlink(
            outer.path().join("shared/money.json"),
            link_dir.join("common/money"), // no `.json`: not part of the walked catalog
        )
        .unwrap();
        let err = generate_err(&link_dir);
        assert_at(
            &err,
            &link_dir,
            EV,
            "/properties/m/$ref",
            "outside the schema root",
        );
    }
    // Widened explicitly, the same catalog generates and uses the shared type.
    let code = Config::new()
        .schemas_dir(&dir)
        .allow_refs_under(outer.path())
        .generate_to_string()
        .unwrap();
    assert!(
        code.contains("pub m: ::std::option::Option<Money>"),
        "{code}"
    );
}

#[test]
fn ref_to_missing_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(json!({"properties": {"x": {"$ref": "#/$defs/nope"}}}));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/x/$ref",
        "the JSON pointer does not exist",
    );
}

#[test]
fn cyclic_ref_chain_without_a_type() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(json!({
        "properties": {"x": {"$ref": "#/$defs/a"}},
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}
    }));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/x/$ref",
        "cyclic `$ref` chain",
    );
}

#[test]
fn cyclic_ref_chain_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "common/a.json", r#"{"$ref": "b.json"}"#);
    write(dir.path(), "common/b.json", r#"{"$ref": "a.json"}"#);
    let err = generate_err(dir.path());
    assert_eq!(err.pointer(), "/$ref", "{err}");
    assert!(err.message().contains("cyclic"), "{err}");
}

#[test]
fn unsupported_keyword() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(json!({"properties": {"x": {
        "type": "object", "if": {"required": ["a"]}, "then": {"required": ["b"]}
    }}}));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/x/if",
        "unsupported keyword `if`",
    );
}

#[test]
fn type_name_collision() {
    let dir = tempfile::tempdir().unwrap();
    let object = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let ev = event(json!({
        "properties": {"preferences": object},
        "$defs": {"preferences": {"type": "object", "properties": {"b": {"type": "integer"}}}}
    }));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/$defs/preferences",
        "type name collision: `ABV1Preferences`",
    );
    assert!(err.message().contains("/properties/preferences"), "{err}");
}

#[test]
fn type_name_collision_between_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "common/foo-bar.json",
        r#"{"type": "string", "enum": ["a"]}"#,
    );
    write(
        dir.path(),
        "common/foo_bar.json",
        r#"{"type": "string", "enum": ["b"]}"#,
    );
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        "common/foo_bar.json",
        "",
        "type name collision: `FooBar`",
    );
    assert!(err.message().contains("foo-bar.json"), "{err}");
}

#[test]
fn field_name_collision() {
    let dir = tempfile::tempdir().unwrap();
    let ev =
        event(json!({"properties": {"fooBar": {"type": "string"}, "foo_bar": {"type": "string"}}}));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert!(err.message().contains("field name collision"), "{err}");
    assert!(err.pointer().starts_with("/properties/foo"), "{err}");
}

#[test]
fn enum_variant_collision() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(
        json!({"properties": {"s": {"type": "string", "enum": ["in-progress", "in_progress"]}}}),
    );
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/s/enum/1",
        "both become variant `InProgress`",
    );
}

#[test]
fn invalid_regex_in_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let ev = event(json!({"properties": {"x": {"type": "string", "pattern": "([0-9]+"}}}));
    write(dir.path(), EV, &ev);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        EV,
        "/properties/x/pattern",
        "invalid regular expression",
    );
}

#[test]
fn non_object_root() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev: Value = serde_json::from_str(&event(json!({}))).unwrap();
    ev["type"] = json!("string");
    write(dir.path(), EV, &ev.to_string());
    let err = generate_err(dir.path());
    assert_at(&err, dir.path(), EV, "/type", "`type: object`");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), EV, "[1, 2]");
    let err = generate_err(dir.path());
    assert_at(&err, dir.path(), EV, "", "root must be");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.json", "[1, 2]");
    let err = Config::new()
        .schema_file(dir.path().join("x.json"))
        .generate_to_string()
        .unwrap_err();
    assert_at(
        &err,
        dir.path(),
        "x.json",
        "",
        "must be a JSON object or a boolean",
    );
}

#[test]
fn duplicate_id() {
    let dir = tempfile::tempdir().unwrap();
    let id = r#"{"$id": "https://t.example/common/same.json", "type": "string"}"#;
    write(dir.path(), "common/one.json", id);
    write(dir.path(), "common/two.json", id);
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        "common/two.json",
        "/$id",
        "duplicate `$id`",
    );
    assert!(err.message().contains("one.json"), "{err}");
}

#[test]
fn event_conventions() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"x-kafka-topic": null}),
            "",
            "missing `x-kafka-topic`",
        ),
        (
            json!({"x-kafka-key": "nope"}),
            "/x-kafka-key",
            "not a property",
        ),
        (
            json!({"x-kafka-key": "k", "properties": {"k": {"type": "string"}}}),
            "/x-kafka-key",
            "must be required",
        ),
        (
            json!({"x-event-type": "other.type"}),
            "/x-event-type",
            "does not match",
        ),
        (
            json!({"x-event-version": 2}),
            "/x-event-version",
            "does not match",
        ),
        (
            json!({"properties": {"d": {"type": "integer", "maximum": 10, "minimum": 0, "default": 300}}}),
            "/properties/d/default",
            "`default` does not fit",
        ),
        (
            json!({"properties": {"f": false}}),
            "/properties/f",
            "`false` schema",
        ),
        (
            json!({"properties": {"t": {"type": "array", "prefixItems": {"type": "string"}}}}),
            "/properties/t/prefixItems",
            "must be an array",
        ),
        (
            json!({"properties": {"t": {"type": "array", "additionalItems": false}}}),
            "/properties/t/additionalItems",
            "draft-07 keyword",
        ),
        (
            json!({"properties": {"t": {"type": "object", "patternProperties": {"([": {}}}}}),
            "/properties/t/patternProperties/([",
            "invalid regular expression",
        ),
        (
            json!({"properties": {"d": {"type": "string", "format": "date-time", "default": "yesterday"}}}),
            "/properties/d/default",
            "`default` does not fit",
        ),
        (
            json!({"properties": {"r": {"$ref": "#anchor"}}}),
            "/properties/r/$ref",
            "no such anchor",
        ),
        (
            json!({"properties": {"p": {"$ref": "#/$defs/x", "properties": {}}}, "$defs": {"x": {"type": "string"}}}),
            "/properties/p/properties",
            "beside `$ref`",
        ),
        (
            json!({"required": ["id", "ghost"]}),
            "/required/1",
            "not declared",
        ),
        (
            json!({"properties": {"m": {"type": ["string", "bogus"]}}}),
            "/properties/m/type",
            "unknown `type` value",
        ),
        (
            json!({"definitions": {}}),
            "/definitions",
            "draft-07 keyword: declare `\"$schema\"",
        ),
    ];
    for (extra, pointer, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut ev: Value = serde_json::from_str(&event(extra.clone())).unwrap();
        if extra.get("x-kafka-topic") == Some(&Value::Null) {
            ev.as_object_mut().unwrap().remove("x-kafka-topic");
        }
        write(dir.path(), EV, &ev.to_string());
        let err = generate_err(dir.path());
        assert_at(&err, dir.path(), EV, pointer, needle);
    }
}

#[test]
fn bad_file_names_under_events() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "events/a.b/version1.json", &event(json!({})));
    let err = generate_err(dir.path());
    assert_at(
        &err,
        dir.path(),
        "events/a.b/version1.json",
        "",
        "`vN.json`",
    );
}

#[test]
fn missing_directory_is_an_io_error() {
    let err = Config::new()
        .schemas_dir("/definitely/not/here")
        .generate_to_string()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string().starts_with("/definitely/not/here#: "),
        "{err}"
    );
    let err = Config::new().generate_to_string().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "$ref",
        "$defs",
        "additionalProperties",
        "format",
        "default",
        "pattern",
        "minimum",
        "x-pii",
        "a",
        "object",
        "string",
        "integer",
        "null",
        "#/$defs/a",
        "#",
        "uuid",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..300).prop_map(|n| json!(n)),
        key.clone().prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone().prop_map(str::to_owned), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Arbitrary schema-shaped JSON never panics the generator: it either generates or
    /// returns an error at a pointer that exists in the file.
    #[test]
    fn never_panics(root in arb_json(), common in arb_json()) {
        let dir = tempfile::tempdir().unwrap();
        let mut ev: Value = serde_json::from_str(&event(json!({}))).unwrap();
        if let (Value::Object(m), Value::Object(extra)) = (&mut ev, &root) {
            for (k, v) in extra {
                m.insert(k.clone(), v.clone());
            }
        }
        write(dir.path(), EV, &ev.to_string());
        write(dir.path(), "common/a.json", &common.to_string());
        if let Err(err) = Config::new().schemas_dir(dir.path()).generate_to_string() {
            let text = std::fs::read_to_string(err.file()).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            prop_assert!(
                value.pointer(err.pointer()).is_some() || err.pointer().ends_with("/$ref"),
                "{}", err
            );
        }
    }
}
