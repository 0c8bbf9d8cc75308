//! Generates the two catalogs of the version-skew test (`tests/e2e_version_skew.rs`) from
//! `skew-schemas/`, through the real generator:
//! - `skew_new.rs`: the whole directory, as a producer built after `referral.sent` v2 and
//!   v3 and the new type `referral.withdrawn` were added;
//! - `skew_old.rs`: the same directory without those files, as a consumer built before.

use std::path::{Path, PathBuf};

/// What the old build did not have yet (paths relative to `skew-schemas/`).
const ADDED_LATER: &[&str] = &[
    "events/referral.sent/v2.json",
    "events/referral.sent/v3.json",
    "events/referral.withdrawn",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schemas = Path::new("skew-schemas");
    pmp_event_codegen::Config::new()
        .schemas_dir(schemas)
        .out_file_name("skew_new.rs")
        .generate()?;
    let old = PathBuf::from(std::env::var("OUT_DIR")?).join("skew-schemas-old");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    copy_without_later(schemas, &old, Path::new(""))?;
    pmp_event_codegen::Config::new()
        .schemas_dir(&old)
        .out_file_name("skew_old.rs")
        .generate()?;
    Ok(())
}

fn copy_without_later(from: &Path, to: &Path, rel: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to.join(rel))?;
    for entry in std::fs::read_dir(from.join(rel))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if ADDED_LATER.iter().any(|later| Path::new(later) == rel) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_without_later(from, to, &rel)?;
        } else {
            std::fs::copy(from.join(&rel), to.join(&rel))?;
        }
    }
    Ok(())
}
