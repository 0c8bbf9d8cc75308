//! `eventctl.toml`: rule ignores for `eventctl lint`, modelled on `buf.yaml`.
//!
//! ```toml
//! [lint]
//! # Rules switched off everywhere.
//! except = ["open-content-model"]
//! # Files or directories (relative to this file) no rule applies to.
//! ignore = ["schemas/events/legacy.import"]
//!
//! [lint.ignore_only]
//! # A rule switched off for some files or directories only.
//! pii-unmarked = ["schemas/events/partner.synced/v1.json"]
//! ```
//!
//! Paths are relative to the directory holding `eventctl.toml` and match a finding's file when
//! they name it or a directory above it. Unknown keys, unknown rule ids and paths that do not
//! exist are errors (exit 2), so a typo never switches a rule off silently. Without `--config`,
//! `eventctl.toml` in the current directory is read when present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pmp_event_codegen::lint::RULES;
use serde::Deserialize;

/// The default configuration file name.
pub const FILE_NAME: &str = "eventctl.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    lint: LintSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintSection {
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    ignore: Vec<PathBuf>,
    #[serde(default)]
    ignore_only: BTreeMap<String, Vec<PathBuf>>,
}

/// The parsed ignores, with paths made absolute.
#[derive(Debug, Default)]
pub struct LintConfig {
    source: Option<PathBuf>,
    except: Vec<String>,
    ignore: Vec<PathBuf>,
    ignore_only: Vec<(String, PathBuf)>,
}

impl LintConfig {
    /// Reads `explicit`, else `eventctl.toml` in the current directory if it exists, else
    /// nothing is ignored.
    pub fn discover(explicit: Option<&Path>) -> Result<LintConfig, String> {
        match explicit {
            Some(path) => LintConfig::load(path),
            None if Path::new(FILE_NAME).is_file() => LintConfig::load(Path::new(FILE_NAME)),
            None => Ok(LintConfig::default()),
        }
    }

    /// Reads and checks one configuration file.
    pub fn load(path: &Path) -> Result<LintConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let rule = |r: &String| {
            if RULES.contains(&r.as_str()) {
                Ok(r.clone())
            } else {
                Err(format!(
                    "{}: unknown lint rule `{r}` (rules: {})",
                    path.display(),
                    RULES.join(", ")
                ))
            }
        };
        let resolve = |p: &PathBuf| {
            base.join(p).canonicalize().map_err(|_| {
                format!(
                    "{}: path `{}` does not exist (paths are relative to the file)",
                    path.display(),
                    p.display()
                )
            })
        };
        let mut config = LintConfig {
            source: Some(path.to_path_buf()),
            except: file
                .lint
                .except
                .iter()
                .map(rule)
                .collect::<Result<_, _>>()?,
            ignore: file
                .lint
                .ignore
                .iter()
                .map(resolve)
                .collect::<Result<_, _>>()?,
            ignore_only: Vec::new(),
        };
        for (r, paths) in &file.lint.ignore_only {
            let r = rule(r)?;
            for p in paths {
                config.ignore_only.push((r.clone(), resolve(p)?));
            }
        }
        Ok(config)
    }

    /// Whether a finding of `rule` in `file` is ignored.
    pub fn ignores(&self, rule: &str, file: &Path) -> bool {
        if self.except.iter().any(|r| r == rule) {
            return true;
        }
        if self.ignore.is_empty() && self.ignore_only.is_empty() {
            return false;
        }
        let Ok(file) = file.canonicalize() else {
            return false;
        };
        self.ignore.iter().any(|p| file.starts_with(p))
            || self
                .ignore_only
                .iter()
                .any(|(r, p)| r == rule && file.starts_with(p))
    }

    /// The file the ignores came from, for messages.
    pub fn source(&self) -> String {
        self.source
            .as_ref()
            .map_or_else(|| FILE_NAME.to_owned(), |p| p.display().to_string())
    }
}
