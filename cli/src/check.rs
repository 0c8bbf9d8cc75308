//! `eventctl check`: the whole schema catalog against its own version chains and, with
//! `--against REF`, against the catalog at a git revision.
//!
//! Baseline files are read with `git ls-tree -r REF -- <dir>` and `git cat-file blob REF:path`
//! from the repository that contains `--schemas`; nothing in the working tree is touched.
//! A `REF` that does not name a commit is a usage error (exit 2) with a clear message.
//! Exit codes: 0 all compatible, 1 problems found (unknown verdicts count unless
//! `--allow-unknown`), 2 usage or input error.

use crate::compat::{print_github_finding, render_finding, verdict_word, PolicyArg};
use crate::output::{gh_escape, read_catalog, Summary};
use clap::ValueEnum;
use pmp_event_codegen::compat::catalog::{check_catalog, CatalogReport};
use pmp_event_codegen::compat::{Policy, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// Arguments of `eventctl check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Schema directory.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
    /// Git revision whose schemas are the released baseline.
    #[arg(long, value_name = "GIT_REF")]
    pub against: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    pub format: Format,
    /// How open objects are read.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PolicyArg::Strict)]
    pub policy: PolicyArg,
    /// Do not fail on unknown verdicts.
    #[arg(long)]
    pub allow_unknown: bool,
}

/// Runs `eventctl check`; returns the exit code.
pub fn run(args: Args) -> i32 {
    let current = match read_catalog("check", &args.schemas, args.against.is_some()) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let baseline = match &args.against {
        None => None,
        Some(r) => match read_baseline(&args.schemas, r) {
            Ok(b) => Some(b),
            Err(msg) => {
                eprintln!("eventctl check: {msg}");
                return 2;
            }
        },
    };
    let policy: Policy = args.policy.into();
    let report = match check_catalog(
        &args.schemas,
        &current,
        args.against.as_deref().zip(baseline.as_ref()),
        policy,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventctl check: {e}");
            return 2;
        }
    };
    match args.format {
        Format::Text => print_text(&report, args.allow_unknown),
        Format::Json => print_json(&report, args.allow_unknown, current.len()),
        Format::Github => print_github(&report, args.allow_unknown),
    }
    exit_code(&report, args.allow_unknown)
}

fn exit_code(report: &CatalogReport, allow_unknown: bool) -> i32 {
    match report.verdict() {
        Verdict::Compatible => 0,
        Verdict::Unknown if allow_unknown => 0,
        _ => 1,
    }
}

/// The report with a `summary` object: verdict, problems and comparisons by verdict.
fn print_json(r: &CatalogReport, allow_unknown: bool, files: usize) {
    let count = |v: Verdict| {
        r.comparisons
            .iter()
            .filter(|c| c.report.verdict == v)
            .count()
    };
    let (incompatible, unknown) = (count(Verdict::Incompatible), count(Verdict::Unknown));
    let failed = exit_code(r, allow_unknown) != 0;
    let (errors, warnings) = if allow_unknown {
        (incompatible + r.problems.len(), unknown)
    } else {
        (incompatible + unknown + r.problems.len(), 0)
    };
    let mut doc = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = doc.as_object_mut() {
        let mut summary =
            serde_json::to_value(Summary::new(failed, errors, warnings, files)).unwrap_or_default();
        if let Some(sm) = summary.as_object_mut() {
            sm.insert("comparisons".into(), r.comparisons.len().into());
            sm.insert("compatible".into(), count(Verdict::Compatible).into());
            sm.insert("incompatible".into(), incompatible.into());
            sm.insert("unknown".into(), unknown.into());
            sm.insert("problems".into(), r.problems.len().into());
        }
        o.insert("summary".into(), summary);
    }
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

fn print_text(r: &CatalogReport, allow_unknown: bool) {
    for p in &r.problems {
        println!(
            "error[{}] {}:{}:{}: {}",
            p.rule,
            p.file.display(),
            p.line,
            p.col,
            p.message
        );
    }
    for c in &r.comparisons {
        if c.report.verdict == Verdict::Compatible {
            continue;
        }
        println!(
            "{} ({}): {}",
            c.label,
            c.level.name(),
            verdict_word(c.report.verdict)
        );
        for f in &c.report.findings {
            print!("{}", render_finding(f));
        }
    }
    let bad = r
        .comparisons
        .iter()
        .filter(|c| c.report.verdict == Verdict::Incompatible)
        .count();
    let unknown = r
        .comparisons
        .iter()
        .filter(|c| c.report.verdict == Verdict::Unknown)
        .count();
    println!(
        "{} comparison(s): {} incompatible, {} unknown{}; {} other problem(s)",
        r.comparisons.len(),
        bad,
        unknown,
        if allow_unknown && unknown > 0 {
            " (allowed)"
        } else {
            ""
        },
        r.problems.len()
    );
}

fn print_github(r: &CatalogReport, allow_unknown: bool) {
    for p in &r.problems {
        println!(
            "::error file={},line={},col={},title={}::{}",
            gh_escape(&p.file.to_string_lossy(), true),
            p.line,
            p.col,
            gh_escape(p.rule, true),
            gh_escape(&p.message, false)
        );
    }
    for c in &r.comparisons {
        let context = format!("{} ({}): ", c.label, c.level.name());
        for f in &c.report.findings {
            print_github_finding(f, &context, allow_unknown);
        }
    }
}

fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {}", e.kind()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().next().unwrap_or("git failed").to_string());
    }
    Ok(out.stdout)
}

/// Files under `dir` as they were at `rev`, keyed like the working-tree files.
fn read_baseline(dir: &Path, rev: &str) -> Result<BTreeMap<PathBuf, String>, String> {
    let abs = dir
        .canonicalize()
        .map_err(|e| format!("{}: {}", dir.display(), e.kind()))?;
    let top = git(&abs, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("{} is not inside a git repository ({e})", dir.display()))?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim().to_string());
    let top = top.canonicalize().unwrap_or(top);
    if rev.starts_with('-')
        || git(
            &top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .is_err()
    {
        return Err(format!(
            "git ref `{rev}` does not exist (or is not a commit) in {}",
            top.display()
        ));
    }
    let rel = abs.strip_prefix(&top).map_err(|_| {
        format!(
            "{} is outside the repository {}",
            dir.display(),
            top.display()
        )
    })?;
    let rel_s = rel.to_string_lossy().replace('\\', "/");
    let listing = git(
        &top,
        &[
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            rev,
            "--",
            if rel_s.is_empty() { "." } else { &rel_s },
        ],
    )?;
    let mut out = BTreeMap::new();
    for name in listing.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let blob = git(&top, &["cat-file", "blob", &format!("{rev}:{name}")])?;
        let text = String::from_utf8(blob).map_err(|_| format!("{name} at {rev} is not UTF-8"))?;
        let below = Path::new(&name)
            .strip_prefix(rel)
            .unwrap_or(Path::new(&name))
            .to_path_buf();
        out.insert(dir.join(below), text);
    }
    Ok(out)
}
