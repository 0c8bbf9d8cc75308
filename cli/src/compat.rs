//! `eventctl compat OLD.json NEW.json`: compatibility of two schema files.
//!
//! Exit codes: 0 compatible (or unknown with `--allow-unknown`), 1 incompatible or unknown,
//! 2 usage or input error (unreadable file, invalid JSON, unresolvable `$ref`).

use clap::ValueEnum;
use pmp_event_codegen::compat::{compare_files, Finding, Level, Policy, Report, Side, Verdict};
use std::path::PathBuf;

use crate::output::{gh_escape, Summary};

/// Compatibility level for a single pair.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PairLevel {
    /// New schema reads everything the old one accepts.
    Backward,
    /// Old schema reads everything the new one accepts.
    Forward,
    /// Both.
    Full,
}

/// Policy for open objects.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum PolicyArg {
    /// Open objects may already carry undeclared properties of any value (default).
    #[default]
    Strict,
    /// Producers never emit undeclared properties.
    Lenient,
}

impl From<PolicyArg> for Policy {
    fn from(p: PolicyArg) -> Policy {
        match p {
            PolicyArg::Strict => Policy::Strict,
            PolicyArg::Lenient => Policy::Lenient,
        }
    }
}

/// Output format of `compat`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON document with a `summary` (verdict, counts).
    Json,
    /// GitHub Actions workflow commands (`::error file=...`), one per finding, at the new file.
    Github,
}

/// Arguments of `eventctl compat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old (released) schema file.
    pub old: PathBuf,
    /// The new schema file.
    pub new: PathBuf,
    /// Level to check.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PairLevel::Backward)]
    pub level: PairLevel,
    /// How open objects are read.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PolicyArg::Strict)]
    pub policy: PolicyArg,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    pub format: Format,
    /// Do not fail when the verdict is unknown.
    #[arg(long)]
    pub allow_unknown: bool,
}

/// Runs `eventctl compat`; returns the exit code.
pub fn run(args: Args) -> i32 {
    let level = match args.level {
        PairLevel::Backward => Level::Backward,
        PairLevel::Forward => Level::Forward,
        PairLevel::Full => Level::Full,
    };
    let report = match compare_files(&args.old, &args.new, level, args.policy.into()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventctl compat: {e}");
            return 2;
        }
    };
    match args.format {
        Format::Text => {
            println!(
                "{}: {} → {} ({}, {})",
                verdict_word(report.verdict),
                args.old.display(),
                args.new.display(),
                level.name(),
                policy_word(args.policy.into())
            );
            for f in &report.findings {
                print!("{}", render_finding(f));
            }
        }
        Format::Json => {
            let incompatible = report
                .findings
                .iter()
                .filter(|f| f.verdict == Verdict::Incompatible)
                .count();
            let unknown = report.findings.len() - incompatible;
            let (errors, warnings) = if args.allow_unknown {
                (incompatible, unknown)
            } else {
                (incompatible + unknown, 0)
            };
            let failed = exit_code(&report, args.allow_unknown) != 0;
            let doc = serde_json::json!({
                "old": args.old, "new": args.new, "level": level, "policy": Policy::from(args.policy),
                "verdict": report.verdict, "findings": report.findings,
                "summary": Summary::new(failed, errors, warnings, 2),
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Github => print_github(&report, args.allow_unknown),
    }
    exit_code(&report, args.allow_unknown)
}

fn print_github(report: &Report, allow_unknown: bool) {
    for f in &report.findings {
        print_github_finding(f, "", allow_unknown);
    }
}

/// One finding as a GitHub workflow command at the new file's position; `context` prefixes
/// the message (e.g. `patient.created v1 → v2 (BACKWARD): `).
pub fn print_github_finding(f: &Finding, context: &str, allow_unknown: bool) {
    let kind = if f.verdict == Verdict::Incompatible || !allow_unknown {
        "error"
    } else {
        "warning"
    };
    let mut msg = format!("{context}{} [old {}]", f.message, f.old);
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

/// 0 compatible, 1 incompatible or (unless allowed) unknown.
pub fn exit_code(report: &Report, allow_unknown: bool) -> i32 {
    match report.verdict {
        Verdict::Compatible => 0,
        Verdict::Unknown if allow_unknown => 0,
        _ => 1,
    }
}

/// `compatible` / `incompatible` / `unknown`.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Compatible => "compatible",
        Verdict::Incompatible => "incompatible",
        Verdict::Unknown => "unknown",
    }
}

fn policy_word(p: Policy) -> &'static str {
    match p {
        Policy::Strict => "strict",
        Policy::Lenient => "lenient",
    }
}

/// Multi-line text block for one finding.
pub fn render_finding(f: &Finding) -> String {
    let mut s = format!(
        "{}[{}] {}: {}\n  old: {}\n  new: {}\n",
        if f.verdict == Verdict::Incompatible {
            "error"
        } else {
            "unknown"
        },
        f.rule,
        match f.direction {
            pmp_event_codegen::compat::Direction::Backward => "backward",
            pmp_event_codegen::compat::Direction::Forward => "forward",
        },
        f.message,
        f.old,
        f.new
    );
    if let Some(cx) = &f.counterexample {
        let (ok, bad) = match cx.valid_under {
            Side::Old => ("old", "new"),
            Side::New => ("new", "old"),
        };
        // Counterexamples are synthetic documents built by the checker, never payload data.
        s.push_str(&format!(
            "  counterexample (valid under {ok}, rejected by {bad}): {}\n",
            cx.document
        ));
    }
    s
}
