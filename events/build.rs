//! Generates the platform's typed events from `../schemas` into `$OUT_DIR/events.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pmp_event_codegen::Config::new()
        .schemas_dir("../schemas")
        // The platform's catalog keeps `JsonSchema` derives (its tests compare them with the
        // schemas); services generate without them unless they ask.
        .json_schema(true)
        .generate()?;
    // For `Config::extern_catalog("pmp_events")` in dependent crates (`links` in Cargo.toml).
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    println!("cargo:schemas={}", schemas.canonicalize()?.display());
    Ok(())
}
