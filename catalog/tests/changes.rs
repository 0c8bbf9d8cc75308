//! The "changes" view comes from the compat engine's own findings, in both directions, and
//! says which changes break the level the new version declares.

use pmp_event_catalog::changes::{changes_to, ChangeKind};
use pmp_event_catalog::EventCatalog;
use std::path::Path;
use std::process::Command;

fn copy_schemas() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    assert!(Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(tmp.path())
        .status()
        .unwrap()
        .success());
    tmp
}

#[test]
fn patient_created_v2_adds_insurance_and_breaks_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let catalog = EventCatalog::load(&dir).unwrap();
    let v1 = &catalog.versions("patient.created")[0];
    assert!(changes_to(&catalog, v1).unwrap().is_none(), "v1 is first");
    let v2 = catalog.versions("patient.created")[1];
    let c = changes_to(&catalog, v2).unwrap().expect("v1 -> v2");
    assert_eq!(
        (c.from, c.to, c.level.as_str()),
        (1, 2, "BACKWARD_TRANSITIVE")
    );
    assert_eq!(c.changes.len(), 1, "{:?}", c.changes);
    let added = &c.changes[0];
    assert_eq!(added.kind, ChangeKind::Added);
    assert_eq!(added.path, "insurance");
    assert_eq!(added.rule, "property-added-closed");
    assert!(!added.breaks_declared_level);
}

#[test]
fn a_narrowing_in_v2_is_reported_as_breaking() {
    let tmp = copy_schemas();
    let dir = tmp.path().join("schemas");
    let v2 = dir.join("events/patient.created/v2.json");
    let text = std::fs::read_to_string(&v2).unwrap();
    let narrowed = text.replacen("\"maximum\": 200", "\"maximum\": 100", 1);
    assert_ne!(text, narrowed);
    std::fs::write(&v2, narrowed).unwrap();
    let catalog = EventCatalog::load(&dir).unwrap();
    let v2 = catalog.versions("patient.created")[1];
    let c = changes_to(&catalog, v2).unwrap().expect("v1 -> v2");
    let narrowing = c
        .changes
        .iter()
        .find(|x| x.rule == "maximum-decreased")
        .unwrap_or_else(|| panic!("{:?}", c.changes));
    assert_eq!(narrowing.kind, ChangeKind::Narrowed);
    assert_eq!(narrowing.path, "preferences.max_distance_km (maximum)");
    assert!(narrowing.breaks_declared_level);
    assert!(c
        .changes
        .iter()
        .any(|x| x.path == "insurance" && x.kind == ChangeKind::Added));
}
