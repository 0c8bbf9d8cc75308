//! The project's own catalog passes its compatibility rules; patient.created v1 → v2 in
//! particular (v2 adds the optional `insurance` object to a closed root).

use pmp_event_codegen::compat::catalog::{check_catalog, read_dir_files};
use pmp_event_codegen::compat::{compare_files, Level, Policy, Verdict};
use std::path::Path;

fn schemas() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn patient_created_v1_to_v2_is_backward_compatible() {
    let dir = schemas().join("events/patient.created");
    let r = compare_files(
        &dir.join("v1.json"),
        &dir.join("v2.json"),
        Level::BackwardTransitive,
        Policy::Strict,
    )
    .unwrap();
    assert_eq!(r.verdict, Verdict::Compatible, "{:#?}", r.findings);
    // Adding a property to a closed object is visible in the other direction.
    let f = compare_files(
        &dir.join("v1.json"),
        &dir.join("v2.json"),
        Level::Forward,
        Policy::Strict,
    )
    .unwrap();
    assert_eq!(f.verdict, Verdict::Incompatible);
    assert_eq!(f.rule_ids(), vec!["property-added-closed"]);
    let finding = &f.findings[0];
    assert_eq!(finding.new.pointer, "/properties/insurance");
    assert!(finding
        .counterexample
        .as_ref()
        .unwrap()
        .document
        .get("insurance")
        .is_some());
}

#[test]
fn whole_catalog_is_consistent() {
    let dir = schemas();
    let files = read_dir_files(&dir).unwrap();
    let r = check_catalog(&dir, &files, None, Policy::Strict).unwrap();
    assert!(
        r.comparisons
            .iter()
            .any(|c| c.label == "patient.created v1 → v2"),
        "{:?}",
        r.comparisons.iter().map(|c| &c.label).collect::<Vec<_>>()
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(
        r.verdict(),
        Verdict::Compatible,
        "{:#?}",
        r.comparisons
            .iter()
            .filter(|c| c.report.verdict != Verdict::Compatible)
            .collect::<Vec<_>>()
    );
    // Against itself as baseline: every released file compared, all compatible.
    let r = check_catalog(&dir, &files, Some(("HEAD", &files)), Policy::Strict).unwrap();
    assert!(r
        .comparisons
        .iter()
        .any(|c| c.old.ends_with("envelope.json")
            && (c.level == Level::Full || c.level == Level::FullTransitive)));
    assert_eq!(r.verdict(), Verdict::Compatible);
}
