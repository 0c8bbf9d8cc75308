// Generates the types of `schemas/` into `$OUT_DIR/events.rs` (included by src/lib.rs).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    pmp_event_codegen::Config::new()
        .schemas_dir("schemas")
        .generate()?;
    Ok(())
}
