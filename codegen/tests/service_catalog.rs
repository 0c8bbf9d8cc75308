//! A service's `build.rs` configuration: several schema roots, extern catalogs, type and
//! field attributes, builders. Each bad configuration is a clear error (naming the file and
//! pointer where a schema is at fault). The generated code is compiled and exercised by
//! `tests/fixtures_crate` (module `service`, `tests/service.rs`).

use std::path::{Path, PathBuf};

use pmp_event_codegen::{Config, ErrorKind};

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn event(id: &str, topic: &str, extra: &str) -> String {
    format!(
        r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "{id}",
            "type": "object", "additionalProperties": false,
            "x-kafka-topic": "{topic}", "x-kafka-key": "id", "required": ["id"],
            "properties": {{"id": {{"type": "string"}}{extra}}}}}"#
    )
}

/// The platform's catalog of this repository.
fn platform() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn several_roots_make_one_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    write(
        &a,
        "events/a.made/v1.json",
        &event("https://t.example/a/v1.json", "a", ""),
    );
    write(
        &b,
        "events/b.made/v1.json",
        &event(
            "https://t.example/b/v1.json",
            "b",
            r#", "thing": {"$ref": "https://t.example/common/thing.json"}"#,
        ),
    );
    write(
        &b,
        "common/thing.json",
        r#"{"$id": "https://t.example/common/thing.json", "title": "Thing", "type": "object", "properties": {"n": {"type": "integer"}}}"#,
    );
    let code = Config::new()
        .schemas_dir(&a)
        .schemas_dir(&b)
        .generate_to_string()
        .unwrap();
    assert!(
        code.contains("AMadeV1(::pmp_event_runtime::Envelope<AMadeV1>)"),
        "{code}"
    );
    assert!(
        code.contains("BMadeV1(::pmp_event_runtime::Envelope<BMadeV1>)"),
        "{code}"
    );
    assert!(
        code.contains("pub thing: ::std::option::Option<Thing>"),
        "{code}"
    );
}

#[test]
fn an_event_in_two_roots_is_an_error_naming_both_files() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    write(
        &a,
        "events/x.made/v1.json",
        &event("https://t.example/a.json", "x", ""),
    );
    write(
        &b,
        "events/x.made/v1.json",
        &event("https://t.example/b.json", "x", ""),
    );
    let err = Config::new()
        .schemas_dir(&a)
        .schemas_dir(&b)
        .generate_to_string()
        .unwrap_err();
    let message = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Schema);
    assert!(err.file().starts_with(&b), "{message}");
    assert!(message.contains("defined twice"), "{message}");
    assert!(
        message.contains(&a.join("events/x.made/v1.json").display().to_string()),
        "{message}"
    );
}

#[test]
fn extern_types_are_used_not_regenerated() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/visit.booked/v1.json",
        &event(
            "https://t.example/visit/v1.json",
            "visits",
            r#", "address": {"$ref": "https://pmp.example/schemas/common/postal_address.json"}"#,
        ),
    );
    let base = || {
        Config::new()
            .schemas_dir(tmp.path())
            .extern_path(platform(), "::pmp_events")
    };
    let code = base().generate_to_string().unwrap();
    assert!(code.contains("use ::pmp_events::PostalAddress;"), "{code}");
    assert!(!code.contains("pub struct PostalAddress"), "{code}");
    // Nothing else of the platform: no unused imports, no platform events.
    assert_eq!(code.matches("use ::pmp_events::").count(), 1, "{code}");
    assert!(!code.contains("PatientCreatedV1"), "{code}");
    // extern_event adds every version of one platform event, typed as the platform's.
    let code = base()
        .extern_event("patient.created")
        .generate_to_string()
        .unwrap();
    assert!(
        code.contains("use ::pmp_events::PatientCreatedV1;"),
        "{code}"
    );
    assert!(
        code.contains("use ::pmp_events::PatientCreatedV2;"),
        "{code}"
    );
    assert!(
        code.contains("PatientCreatedV2(::pmp_event_runtime::Envelope<PatientCreatedV2>)"),
        "{code}"
    );
    assert!(
        !code.contains("impl ::pmp_event_runtime::EventPayload for PatientCreatedV1"),
        "{code}"
    );
    assert!(!code.contains("TherapistCreatedV1"), "{code}");
}

#[test]
fn bad_extern_configuration_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/v.made/v1.json",
        &event("https://t.example/v.json", "v", ""),
    );
    let err = Config::new()
        .schemas_dir(tmp.path())
        .extern_path(platform(), "::pmp_events")
        .extern_event("patient.teleported")
        .generate_to_string()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("\"patient.teleported\""), "{err}");
    // extern_catalog reads DEP_<NAME>_SCHEMAS (unset outside a build script).
    let err = Config::new()
        .schemas_dir(tmp.path())
        .extern_catalog("no_such_catalog")
        .generate_to_string()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("DEP_NO_SUCH_CATALOG_SCHEMAS is not set"),
        "{err}"
    );
    // An extern path that is not a Rust path.
    let err = Config::new()
        .schemas_dir(tmp.path())
        .extern_path(platform(), "pmp events")
        .extern_event("patient.created")
        .generate_to_string()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"pmp events::PatientCreatedV1\" is not a Rust path"),
        "{err}"
    );
    // A standalone file has no registry to extend.
    let file = write(
        tmp.path(),
        "one.json",
        r#"{"title": "One", "type": "object"}"#,
    );
    let err = Config::new()
        .schema_file(&file)
        .extern_path(platform(), "::pmp_events")
        .generate_to_string()
        .unwrap_err();
    assert!(err.to_string().contains("need a schema catalog"), "{err}");
    let err = Config::new()
        .schemas_dir(tmp.path())
        .schema_file(&file)
        .generate_to_string()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("both `schemas_dir(..)` and `schema_file(..)`"),
        "{err}"
    );
}

#[test]
fn an_own_type_named_like_an_extern_one_is_a_collision_naming_both_files() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/v.made/v1.json",
        &event("https://t.example/v.json", "v", ""),
    );
    let own = write(
        tmp.path(),
        "common/postal_address.json",
        r#"{"$id": "https://t.example/pa.json", "title": "PostalAddress", "type": "object", "properties": {"x": {"type": "string"}}}"#,
    );
    let err = Config::new()
        .schemas_dir(tmp.path())
        .extern_path(platform(), "::pmp_events")
        .generate_to_string()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("type name collision: `PostalAddress`"),
        "{message}"
    );
    assert!(message.contains("postal_address.json"), "{message}");
    assert!(
        err.file() == own || message.contains(&own.display().to_string()),
        "{message}"
    );
}

#[test]
fn attributes_are_added_where_the_path_matches() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/a.made/v1.json",
        &event(
            "https://t.example/a.json",
            "a",
            r#", "kind": {"enum": ["x", "y"]}"#,
        ),
    );
    let code = Config::new()
        .schemas_dir(tmp.path())
        .type_attribute(".", "#[doc(alias = \"everything\")]")
        .type_attribute("AMadeV1", "#[derive(Eq)] #[non_exhaustive]")
        .field_attribute("AMadeV1.kind", "#[serde(alias = \"sort\")]")
        .generate_to_string()
        .unwrap();
    assert_eq!(
        code.matches("#[doc(alias = \"everything\")]").count(),
        2,
        "{code}"
    );
    let at = |needle: &str| {
        code.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {code}"))
    };
    assert!(at("#[derive(Eq)]") < at("pub struct AMadeV1"));
    assert!(at("#[non_exhaustive]") < at("pub struct AMadeV1"));
    assert!(at("#[serde(alias = \"sort\")]") < at("pub kind:"));
}

#[test]
fn bad_attributes_are_errors_naming_path_and_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    // `label` is an alias type (`$defs/label` is a plain string).
    write(
        tmp.path(),
        "events/a.made/v1.json",
        r##"{"$id": "https://t.example/a.json", "type": "object", "x-kafka-topic": "a",
            "x-kafka-key": "id", "required": ["id"],
            "properties": {"id": {"type": "string"}, "label": {"$ref": "#/$defs/label"}},
            "$defs": {"label": {"title": "Label", "type": "string"}}}"##,
    );
    let cases: &[(&str, &str, bool, &str)] = &[
        (
            "AMadeV2",
            "#[derive(Eq)]",
            true,
            "no generated struct or enum has this name",
        ),
        ("AMadeV1", "derive(Eq)", true, "not an outer attribute"),
        ("AMadeV1", "", true, "not an outer attribute"),
        ("AMadeV1Label", "#[derive(Eq)]", true, "type alias"),
        (
            "AMadeV1.nope",
            "#[serde(default)]",
            false,
            "has no property `nope`",
        ),
        (
            "AMadeV1",
            "#[serde(default)]",
            false,
            "a field path is `Type.property`",
        ),
        (
            "Nope.id",
            "#[serde(default)]",
            false,
            "no generated struct is named `Nope`",
        ),
    ];
    for (path, attribute, on_type, expected) in cases {
        let config = Config::new().schemas_dir(tmp.path());
        let config = if *on_type {
            config.type_attribute(*path, *attribute)
        } else {
            config.field_attribute(*path, *attribute)
        };
        let err = config.generate_to_string().unwrap_err();
        let message = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Config, "{message}");
        assert!(message.contains(expected), "{path} {attribute}: {message}");
        assert!(message.contains(&format!("{path:?}")), "{message}");
    }
}

#[test]
fn a_type_named_like_a_builder_is_an_error_naming_file_and_pointer() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/a.made/v1.json",
        &event(
            "https://t.example/a.json",
            "a",
            r#", "b": {"$ref": "../../common/b.json"}"#,
        ),
    );
    let common = write(
        tmp.path(),
        "common/b.json",
        r#"{"$id": "https://t.example/common/b.json", "x-rust-name": "AMadeV1Builder", "type": "object", "properties": {"x": {"type": "string"}}}"#,
    );
    let err = Config::new()
        .schemas_dir(tmp.path())
        .generate_to_string()
        .unwrap_err();
    assert_eq!(err.file(), common, "{err}");
    assert!(
        err.to_string()
            .contains("reserved for the builder of `AMadeV1`"),
        "{err}"
    );
    // The name stays reserved with builders off: one rule whatever the configuration.
    assert!(Config::new()
        .schemas_dir(tmp.path())
        .builders(false)
        .generate_to_string()
        .is_err_and(|e| e.to_string().contains("reserved")));
}

#[test]
fn builders_can_be_switched_off() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "events/a.made/v1.json",
        &event("https://t.example/a.json", "a", ""),
    );
    let with = Config::new()
        .schemas_dir(tmp.path())
        .generate_to_string()
        .unwrap();
    assert!(with.contains("pub struct AMadeV1Builder"));
    assert!(with.contains("BuildError::check("), "{with}");
    assert!(with.contains("A_MADE_V1_SCHEMA_JSON,"), "{with}");
    let without = Config::new()
        .schemas_dir(tmp.path())
        .builders(false)
        .generate_to_string()
        .unwrap();
    assert!(!without.contains("Builder"), "{without}");
}

#[test]
fn refs_between_roots_resolve_both_ways_and_a_bad_one_names_file_and_pointer() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    // a -> b's common type by `$id`, b -> a's common type by `$id` (b loads after a).
    write(
        &a,
        "events/a.made/v1.json",
        &event(
            "https://t.example/a/v1.json",
            "a",
            r#", "t": {"$ref": "https://t.example/b/t.json"}"#,
        ),
    );
    write(
        &a,
        "common/u.json",
        r#"{"$id": "https://t.example/a/u.json", "title": "U", "type": "string"}"#,
    );
    write(
        &b,
        "events/b.made/v1.json",
        &event(
            "https://t.example/b/v1.json",
            "b",
            r#", "u": {"$ref": "https://t.example/a/u.json"}"#,
        ),
    );
    write(
        &b,
        "common/t.json",
        r#"{"$id": "https://t.example/b/t.json", "title": "T", "type": "integer"}"#,
    );
    let code = Config::new()
        .schemas_dir(&a)
        .schemas_dir(&b)
        .generate_to_string()
        .unwrap();
    assert!(code.contains("pub t: ::std::option::Option<T>"), "{code}");
    assert!(code.contains("pub u: ::std::option::Option<U>"), "{code}");
    // A reference to nothing in any root: the referring file and pointer.
    let bad = write(
        &b,
        "events/c.made/v1.json",
        &event(
            "https://t.example/c/v1.json",
            "c",
            r#", "x": {"$ref": "https://t.example/nowhere.json"}"#,
        ),
    );
    let err = Config::new()
        .schemas_dir(&a)
        .schemas_dir(&b)
        .generate_to_string()
        .unwrap_err();
    assert_eq!(err.file(), bad, "{err}");
    assert_eq!(err.pointer(), "/properties/x/$ref", "{err}");
    // Without the second root, a's reference into it is an error too.
    std::fs::remove_file(&bad).unwrap();
    let err = Config::new()
        .schemas_dir(&a)
        .generate_to_string()
        .unwrap_err();
    assert!(
        err.to_string().contains("https://t.example/b/t.json"),
        "{err}"
    );
}
