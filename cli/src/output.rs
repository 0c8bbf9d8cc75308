//! What several commands share: the schema-directory checks done before any work, the JSON
//! summary object, and GitHub workflow-command escaping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pmp_event_codegen::compat::catalog::read_dir_files;
use serde::Serialize;

/// The `summary` object of every `--format json` output.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `pass` or `fail` (what the exit code says: 0 or 1).
    pub verdict: &'static str,
    /// Findings that fail the command.
    pub errors: usize,
    /// Findings that do not (warnings, allowed unknowns).
    pub warnings: usize,
    /// Schema files read (for `compat`: the two files).
    pub files: usize,
}

impl Summary {
    /// A summary; the verdict follows from `failed`.
    pub fn new(failed: bool, errors: usize, warnings: usize, files: usize) -> Summary {
        Summary {
            verdict: if failed { "fail" } else { "pass" },
            errors,
            warnings,
            files,
        }
    }
}

/// Reads the schema files under `dir` for command `cmd`, or returns the exit code after
/// printing why not: 2 when `dir` is missing, a file, or unreadable; 1 when it holds no schema
/// and `allow_empty` is false (an empty catalog checks nothing, which CI must not mistake for
/// success; `check --against` allows it, since deleting every released file is what it
/// reports).
pub fn read_catalog(
    cmd: &str,
    dir: &Path,
    allow_empty: bool,
) -> Result<BTreeMap<PathBuf, String>, i32> {
    if dir.is_file() {
        eprintln!(
            "eventctl {cmd}: {} is a file, expected a directory (the schema catalog: events/, commands/, common/, topics.json)",
            dir.display()
        );
        return Err(2);
    }
    if !dir.is_dir() {
        eprintln!(
            "eventctl {cmd}: schema directory {} does not exist",
            dir.display()
        );
        return Err(2);
    }
    let files = read_dir_files(dir).map_err(|e| {
        eprintln!("eventctl {cmd}: {e}");
        2
    })?;
    let schemas = files
        .keys()
        .filter(|p| p.as_path() != dir.join("topics.json"))
        .count();
    if schemas == 0 && !allow_empty {
        eprintln!(
            "eventctl {cmd}: no schema files (*.json) under {}: nothing to check",
            dir.display()
        );
        return Err(1);
    }
    Ok(files)
}

/// GitHub workflow-command escaping for the message (`property = false`) and property parts.
pub fn gh_escape(s: &str, property: bool) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s.replace(':', "%3A").replace(',', "%2C")
    } else {
        s
    }
}
