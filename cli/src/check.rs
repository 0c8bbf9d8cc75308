//! `eventctl check`: the whole schema catalog against its own version chains and, with
//! `--against REF`, against the catalog at a git revision.
//!
//! Baseline files are read with `git ls-tree -r REF -- <dir>` and `git cat-file blob REF:path`
//! from the repository that contains `--schemas`; nothing in the working tree is touched.
//! A `REF` that does not name a commit is a usage error (exit 2) with a clear message.
//! Exit codes: 0 all compatible, 1 problems found (unknown verdicts count unless
//! `--allow-unknown`), 2 usage or input error.

use crate::compat::{render_finding, verdict_word, PolicyArg};
use clap::ValueEnum;
use pmp_event_codegen::compat::catalog::{check_catalog, read_dir_files, CatalogReport};
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// How open objects are read.
    #[arg(long, value_enum, default_value_t = PolicyArg::Strict)]
    pub policy: PolicyArg,
    /// Do not fail on unknown verdicts.
    #[arg(long)]
    pub allow_unknown: bool,
}

/// Runs `eventctl check`; returns the exit code.
pub fn run(args: Args) -> i32 {
    if !args.schemas.is_dir() {
        eprintln!(
            "eventctl check: schema directory {} does not exist",
            args.schemas.display()
        );
        return 2;
    }
    let current = match read_dir_files(&args.schemas) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("eventctl check: {e}");
            return 2;
        }
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
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Github => print_github(&report, args.allow_unknown),
    }
    match report.verdict() {
        Verdict::Compatible => 0,
        Verdict::Unknown if args.allow_unknown => 0,
        _ => 1,
    }
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

/// GitHub workflow-command escaping for the message and property parts.
fn gh_escape(s: &str, property: bool) -> String {
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
        for f in &c.report.findings {
            let kind = if f.verdict == Verdict::Incompatible || !allow_unknown {
                "error"
            } else {
                "warning"
            };
            let mut msg = format!(
                "{} ({}): {} [old {}]",
                c.label,
                c.level.name(),
                f.message,
                f.old
            );
            if let Some(cx) = &f.counterexample {
                msg.push_str(&format!("\ncounterexample: {}", cx.document));
            }
            println!(
                "::{kind} file={},line={},col={},title={}::{}",
                gh_escape(&f.new.file.to_string_lossy(), true),
                f.new.line,
                f.new.col,
                gh_escape(f.rule, true),
                gh_escape(&msg, false)
            );
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
