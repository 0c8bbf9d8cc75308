//! Snapshot tests of the generated code, one fixture schema per construct
//! (`tests/fixtures/*.json`). The same fixtures are compiled under `#![deny(warnings)]` and
//! clippy by the `pmp-codegen-fixtures` crate (`tests/fixtures_crate`), which also checks
//! their runtime behaviour; this file pins the exact output. Review changes with
//! `cargo insta review` (or `INSTA_UPDATE=always`).

use std::path::Path;

use pmp_event_codegen::Config;

fn generate(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    Config::new()
        .schema_file(&path)
        .json_schema(true)
        .generate_to_string()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

macro_rules! snapshot {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let code = generate(stringify!($name));
                syn::parse_file(&code).expect("generated code parses");
                insta::assert_snapshot!(stringify!($name), code);
            }
        )*
    };
}

snapshot!(
    object,
    nullable,
    string_enum,
    tagged_one_of,
    untagged_one_of,
    validation_only,
    all_of,
    array,
    map,
    recursion,
    formats,
    defaults,
    pii,
    refs,
    currency,
    prelude_names,
    non_ascii,
    real_world,
    draft07,
);

#[test]
fn every_fixture_has_a_snapshot_test() {
    let source = include_str!("snapshots.rs");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                source.contains(&format!("    {stem},\n")),
                "no snapshot for {stem}"
            );
        }
    }
}
