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
    println!("cargo:rerun-if-changed=../fixtures");
    Ok(())
}
