//! Generates the platform's typed events from `../schemas` into `$OUT_DIR/events.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pmp_event_codegen::Config::new()
        .schemas_dir("../schemas")
        // The platform's catalog keeps `JsonSchema` derives (its tests compare them with the
        // schemas); services generate without them unless they ask.
        .json_schema(true)
        .generate()?;
    Ok(())
}
