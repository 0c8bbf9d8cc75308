//! `eventctl compat OLD.json NEW.json`: compatibility of two schema files.
//!
//! Exit codes: 0 compatible (or unknown with `--allow-unknown`), 1 incompatible or unknown,
//! 2 usage or input error (unreadable file, invalid JSON, unresolvable `$ref`).

use clap::ValueEnum;
use pmp_event_codegen::compat::{compare_files, Finding, Level, Policy, Report, Side, Verdict};
use std::path::PathBuf;

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
    /// One JSON document.
    Json,
}

/// Arguments of `eventctl compat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old (released) schema file.
    pub old: PathBuf,
    /// The new schema file.
    pub new: PathBuf,
    /// Level to check.
    #[arg(long, value_enum, default_value_t = PairLevel::Backward)]
    pub level: PairLevel,
    /// How open objects are read.
    #[arg(long, value_enum, default_value_t = PolicyArg::Strict)]
    pub policy: PolicyArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
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
            let doc = serde_json::json!({
                "old": args.old, "new": args.new, "level": level, "policy": Policy::from(args.policy),
                "verdict": report.verdict, "findings": report.findings,
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    exit_code(&report, args.allow_unknown)
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
