//! Generates every top-level fixture schema into `$OUT_DIR/<stem>.rs` (standalone mode).

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::path::Path::new("../fixtures");
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or("bad file name")?;
        pmp_event_codegen::Config::new()
            .schema_file(path)
            .out_file_name(format!("{stem}.rs"))
            .generate()?;
    }
    // A service's catalog: two own roots plus the platform's catalog as extern types
    // (`::pmp_events`, found through `DEP_PMP_EVENTS_SCHEMAS`), with `patient.created`
    // added to this `AnyEvent`.
    pmp_event_codegen::Config::new()
        .schemas_dir("../fixtures/service/schemas")
        .schemas_dir("../fixtures/service/shared")
        .extern_catalog("pmp_events")
        .extern_event("patient.created")
        .type_attribute("Slot", "#[derive(Eq, Hash, PartialOrd, Ord)]")
        .field_attribute("BookingRequestedV1.note", r#"#[serde(alias = "remark")]"#)
        .out_file_name("service.rs")
        .generate()?;
    println!("cargo:rerun-if-changed=../fixtures");
    Ok(())
}
