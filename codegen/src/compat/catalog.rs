//! Catalog-wide compatibility (`eventctl check`).
//!
//! Input: the schema directory as it is now, and optionally the same directory as it was at a
//! baseline (git revision), both as in-memory file maps keyed by the same paths
//! (`<dir>/events/<type>/vN.json`, ...). Checks, in this order:
//!
//! 1. **Version chains.** For every `events/<type>/` and `commands/<type>/`, versions sorted by
//!    N; version N is compared with N-1 (or with every earlier version when its declared
//!    `x-compatibility` is transitive) at that level. Default `BACKWARD_TRANSITIVE`.
//! 2. **Baseline.** Every released file present at the baseline (`envelope.json`,
//!    `events/*/vN.json`, `commands/*/vN.json`) must still exist (`version-deleted`
//!    otherwise: a rename is a deletion) and be compatible with its baseline at the level the
//!    baseline declared. Files are always compared, not only when their text changed, because
//!    a changed `common/` definition changes every schema that references it.
//! 3. **Envelope.** `envelope.json` is compared with its baseline at `FULL` at least.

use super::rules;
use super::store::{DocStore, Source};
use super::{compare, CompatError, Level, Policy, Report, Verdict};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default level when a schema declares none.
pub const DEFAULT_LEVEL: Level = Level::BackwardTransitive;

/// One pairwise comparison that ran.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Human label, e.g. `patient.created v1 → v2`.
    pub label: String,
    /// Old file (for baseline comparisons: the file at the baseline).
    pub old: PathBuf,
    /// New file.
    pub new: PathBuf,
    /// Level applied.
    pub level: Level,
    /// Result.
    pub report: Report,
}

/// A problem that is not a pairwise finding.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Rule id (`version-deleted`, `compatibility-level-invalid`).
    pub rule: &'static str,
    /// File concerned.
    pub file: PathBuf,
    /// 1-based line (1 when the file no longer exists).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// One line.
    pub message: String,
}

/// Outcome of [`check_catalog`].
#[derive(Debug, Clone, Serialize, Default)]
pub struct CatalogReport {
    /// Comparisons run.
    pub comparisons: Vec<Comparison>,
    /// Other problems.
    pub problems: Vec<Problem>,
}

impl CatalogReport {
    /// Worst verdict (problems count as incompatible).
    pub fn verdict(&self) -> Verdict {
        let worst = self
            .comparisons
            .iter()
            .map(|c| c.report.verdict)
            .max()
            .unwrap_or(Verdict::Compatible);
        if self.problems.is_empty() {
            worst
        } else {
            Verdict::Incompatible
        }
    }
}

/// Reads every `*.json` under `dir` into a map keyed by `dir`-joined relative paths.
pub fn read_dir_files(dir: &Path) -> Result<BTreeMap<PathBuf, String>, CompatError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| CompatError::Io {
            file: d.clone(),
            reason: e.kind().to_string(),
        })?;
        for e in entries {
            let e = e.map_err(|e| CompatError::Io {
                file: d.clone(),
                reason: e.kind().to_string(),
            })?;
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).map_err(|e| CompatError::Io {
                    file: p.clone(),
                    reason: e.kind().to_string(),
                })?;
                out.insert(p, text);
            }
        }
    }
    Ok(out)
}

/// A versioned schema file: (`events`|`commands`, event type, N).
fn versioned(dir: &Path, p: &Path) -> Option<(String, String, u64)> {
    let rel = p.strip_prefix(dir).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    if parts.len() != 3 || !(parts[0] == "events" || parts[0] == "commands") {
        return None;
    }
    let n = parts[2]
        .strip_prefix('v')?
        .strip_suffix(".json")?
        .parse()
        .ok()?;
    Some((parts[0].to_string(), parts[1].to_string(), n))
}

fn is_released(dir: &Path, p: &Path) -> bool {
    versioned(dir, p).is_some()
        || p.strip_prefix(dir)
            .is_ok_and(|r| r == Path::new("envelope.json"))
}

fn level_of(store: &DocStore, doc: usize, problems: &mut Vec<Problem>) -> Level {
    let d = store.doc(doc);
    match d.value.get("x-compatibility") {
        None => DEFAULT_LEVEL,
        Some(Value::String(s)) if Level::parse(s).is_some() => {
            Level::parse(s).unwrap_or(DEFAULT_LEVEL)
        }
        Some(_) => {
            let pos = d.map.position("/x-compatibility");
            problems.push(Problem {
                rule: rules::LEVEL_INVALID,
                file: d.path.clone(),
                line: pos.line,
                col: pos.col,
                message: "x-compatibility must be one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE".into(),
            });
            DEFAULT_LEVEL
        }
    }
}

/// Runs the catalog check. `current` and `baseline` map paths under `dir` to file contents;
/// `baseline_name` labels baseline comparisons (e.g. the git ref).
pub fn check_catalog(
    dir: &Path,
    current: &BTreeMap<PathBuf, String>,
    baseline: Option<(&str, &BTreeMap<PathBuf, String>)>,
    policy: Policy,
) -> Result<CatalogReport, CompatError> {
    let mut report = CatalogReport::default();
    let mut store = DocStore::new(Source::Memory(current.clone()));
    // 1. Version chains.
    let mut chains: BTreeMap<(String, String), Vec<(u64, PathBuf)>> = BTreeMap::new();
    for p in current.keys() {
        if let Some((kind, ty, n)) = versioned(dir, p) {
            chains.entry((kind, ty)).or_default().push((n, p.clone()));
        }
    }
    let mut ids = BTreeMap::new();
    for p in current.keys().filter(|p| is_released(dir, p)) {
        ids.insert(p.clone(), store.load(p)?);
    }
    for ((_, ty), mut versions) in chains {
        versions.sort();
        for (i, (n, p)) in versions.iter().enumerate() {
            let new = ids[p];
            let level = level_of(&store, new, &mut report.problems);
            let earlier: Vec<&(u64, PathBuf)> = if level.transitive() {
                versions[..i].iter().collect()
            } else {
                versions[..i].iter().rev().take(1).collect()
            };
            for (m, op) in earlier {
                let old = ids[op];
                let r = compare(&store, old, &store, new, level, policy)?;
                report.comparisons.push(Comparison {
                    label: format!("{ty} v{m} → v{n}"),
                    old: op.clone(),
                    new: p.clone(),
                    level,
                    report: r,
                });
            }
        }
    }
    // 2 + 3. Baseline.
    if let Some((name, base)) = baseline {
        let mut bstore = DocStore::new(Source::Memory(base.clone()));
        for p in base.keys().filter(|p| is_released(dir, p)) {
            let Some(&new) = ids.get(p) else {
                report.problems.push(Problem {
                    rule: rules::VERSION_DELETED,
                    file: p.clone(),
                    line: 1,
                    col: 1,
                    message: format!("released schema {} exists at {name} but was deleted or renamed; publish changes as a new version file instead", p.display()),
                });
                continue;
            };
            let old = bstore.load(p)?;
            let mut level = level_of(&bstore, old, &mut Vec::new());
            let is_envelope = versioned(dir, p).is_none();
            if is_envelope && !matches!(level, Level::Full | Level::FullTransitive) {
                level = Level::Full;
            }
            let r = compare(&bstore, old, &store, new, level, policy)?;
            report.comparisons.push(Comparison {
                label: format!("{} at {name} → working tree", p.display()),
                old: p.clone(),
                new: p.clone(),
                level,
                report: r,
            });
        }
    }
    Ok(report)
}
