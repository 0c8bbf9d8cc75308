//! Generation over the real `schemas/` directory: determinism, adding an event, the
//! standalone mode and the files reported for `cargo:rerun-if-changed`.

use std::path::{Path, PathBuf};

use pmp_event_codegen::schema::Catalog;
use pmp_event_codegen::Config;

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    // Reverse order, so the copy's creation order differs from the original's.
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries.reverse();
    for path in entries {
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn items(code: &str) -> Vec<String> {
    let file = syn::parse_file(code).expect("generated code parses");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(format!("struct {}", s.ident)),
            syn::Item::Enum(e) => Some(format!("enum {}", e.ident)),
            syn::Item::Const(c) => Some(format!("const {}", c.ident)),
            syn::Item::Static(s) => Some(format!("static {}", s.ident)),
            syn::Item::Type(t) => Some(format!("type {}", t.ident)),
            syn::Item::Impl(i) => {
                let ty = &i.self_ty;
                let tr = i.trait_.as_ref().map(|(_, p, _)| quote_path(p));
                Some(format!(
                    "impl {} for {}",
                    tr.unwrap_or_default(),
                    quote::quote!(#ty)
                ))
            }
            _ => None,
        })
        .collect()
}

fn quote_path(p: &syn::Path) -> String {
    p.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

#[test]
fn output_is_deterministic() {
    let a = Config::new()
        .schemas_dir(schemas())
        .generate_to_string()
        .unwrap();
    let b = Config::new()
        .schemas_dir(schemas())
        .generate_to_string()
        .unwrap();
    assert_eq!(a, b);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&schemas(), dir.path());
    let c = Config::new()
        .schemas_dir(dir.path())
        .generate_to_string()
        .unwrap();
    assert!(
        a == c,
        "output depends on the directory's path or listing order"
    );
}

#[test]
fn catalog_items_are_generated() {
    let code = Config::new()
        .schemas_dir(schemas())
        .generate_to_string()
        .unwrap();
    let items = items(&code);
    for expected in [
        "struct PatientCreatedV1",
        "struct PatientCreatedV2",
        "struct PatientCreatedV1Preferences",
        "enum Location",
        "struct PersonName",
        "enum PatientStatus",
        "enum AnyEvent",
        "static SCHEMAS",
        "const ENVELOPE_SCHEMA_JSON",
        "const PATIENT_CREATED_V1_SCHEMA_JSON",
        "type PatientCreatedV1Envelope",
        "EventPayload for PatientCreatedV1",
        "EventSet for AnyEvent",
        "struct UnknownEnumValue",
    ] {
        let found = items
            .iter()
            .any(|i| i.ends_with(expected) || i.contains(expected));
        assert!(found, "missing {expected}");
    }
    assert!(code.starts_with("// @generated"));
}

const ARCHIVED: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/patient.archived/v1.json",
  "title": "Patient archived",
  "description": "A patient record was archived.",
  "type": "object",
  "additionalProperties": false,
  "x-event-type": "patient.archived",
  "x-event-version": 1,
  "x-kafka-topic": "patient-events",
  "x-kafka-key": "patient_id",
  "required": ["patient_id", "name"],
  "properties": {
    "patient_id": {"type": "integer", "minimum": 1, "description": "Database id."},
    "name": {"$ref": "../../common/person_name.json", "x-pii": true, "description": "Name."},
    "archived_on": {"type": "string", "format": "date", "description": "Day of archiving."}
  },
  "examples": [
    {"patient_id": 1, "name": {"salutation": "ms", "first_name": "A", "last_name": "B"}},
    {"patient_id": 2, "name": {"salutation": "mr", "first_name": "C", "last_name": "D"}, "archived_on": "2024-01-31"}
  ]
}"#;

#[test]
fn adding_an_event_file_adds_a_typed_event() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&schemas(), dir.path());
    let before = Config::new()
        .schemas_dir(dir.path())
        .generate_to_string()
        .unwrap();
    assert!(!before.contains("PatientArchivedV1"));
    let event_dir = dir.path().join("events/patient.archived");
    std::fs::create_dir_all(&event_dir).unwrap();
    std::fs::write(event_dir.join("v1.json"), ARCHIVED).unwrap();
    let after = Config::new()
        .schemas_dir(dir.path())
        .generate_to_string()
        .unwrap();
    let before_items = items(&before);
    let items = items(&after);
    assert!(items.contains(&"struct PatientArchivedV1".to_owned()));
    assert!(items.contains(&"const PATIENT_ARCHIVED_V1_SCHEMA_JSON".to_owned()));
    assert!(items
        .iter()
        .any(|i| i.ends_with("EventPayload for PatientArchivedV1")));
    // The new variant in AnyEvent and its dispatch arm.
    let file = syn::parse_file(&after).unwrap();
    let any = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Enum(e) if e.ident == "AnyEvent" => Some(e),
            _ => None,
        })
        .unwrap();
    assert!(any.variants.iter().any(|v| v.ident == "PatientArchivedV1"));
    assert!(after.contains(r#"("patient.archived", 1u32) =>"#));
    // The shared definition is reused, not copied, and the field is redacted in Debug.
    assert!(after.contains("pub name: PersonName,"));
    assert!(after.contains(r#".field("name", &RedactedPii)"#));
    // Everything else is unchanged: the new file only adds items.
    for item in before_items {
        assert!(
            items.contains(&item) || item.contains("AnyEvent"),
            "{item} vanished"
        );
    }
}

#[test]
fn rerun_paths_cover_every_file_and_directory() {
    let cat = Catalog::load_dir(&schemas()).unwrap();
    let read = cat.read_paths();
    assert!(read.contains(&schemas()));
    assert!(read.contains(&schemas().join("events")));
    assert!(read.contains(&schemas().join("events/patient.created")));
    assert!(read.contains(&schemas().join("events/patient.created/v2.json")));
    assert!(read.contains(&schemas().join("common/person_name.json")));
}

#[test]
fn standalone_schema_and_write_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out.rs");
    Config::new()
        .schema_file(schemas().join("common/location.json"))
        .write_to(&out)
        .unwrap();
    let code = std::fs::read_to_string(&out).unwrap();
    let items = items(&code);
    assert!(items.contains(&"enum Location".to_owned()));
    assert!(items.contains(&"struct PostalAddress".to_owned()));
    assert!(items.contains(&"const LOCATION_SCHEMA_JSON".to_owned()));
    assert!(!code.contains("AnyEvent"));
    assert!(!code.contains("SCHEMAS"));
    // The bundle compiles without any retriever and has the referenced files inside.
    let bundle_start = code.find("r#\"").unwrap() + 3;
    let bundle_end = code.rfind("\"#").unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&code[bundle_start..bundle_end]).unwrap();
    let defs = bundle["$defs"].as_object().unwrap();
    assert!(defs.contains_key("https://pmp.example/schemas/common/postal_address.json"));
    let validator = jsonschema::validator_for(&bundle).unwrap();
    for example in bundle["examples"].as_array().unwrap() {
        assert!(validator.is_valid(example));
    }
    assert!(!validator.is_valid(&serde_json::json!({"kind": "point"})));
}
