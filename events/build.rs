//! Generates the platform's typed events from `../schemas` into `$OUT_DIR/events.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pmp_event_codegen::Config::new()
        .schemas_dir("../schemas")
        .generate()?;
    Ok(())
}
