//! `eventctl lint`: catalog conventions (see `pmp_event_codegen::lint` for the rules), with
//! rule ignores from `eventctl.toml` (see [`crate::lint_config`]).
//!
//! Exit codes: 0 no errors (warnings allowed unless `--deny-warnings`), 1 findings or an empty
//! catalog, 2 input error.

use clap::ValueEnum;
use pmp_event_codegen::lint::{lint_files, Severity};
use std::path::PathBuf;

use crate::lint_config::LintConfig;
use crate::output::{gh_escape, read_catalog, Summary};

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON document: `findings` and a `summary` (verdict, counts).
    Json,
    /// GitHub Actions workflow commands.
    Github,
}

/// Arguments of `eventctl lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Schema directory.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    pub format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Configuration file with rule ignores (default: `eventctl.toml` in the current
    /// directory, when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs `eventctl lint`; returns the exit code.
pub fn run(args: Args) -> i32 {
    let config = match LintConfig::discover(args.config.as_deref()) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("eventctl lint: {msg}");
            return 2;
        }
    };
    let files = match read_catalog("lint", &args.schemas, false) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut findings = lint_files(&args.schemas, &files);
    let ignored = findings.len();
    findings.retain(|f| !config.ignores(f.rule, &f.file));
    let ignored = ignored - findings.len();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let failing = errors > 0 || (args.deny_warnings && warnings > 0);
    let word = |s: Severity| {
        if s == Severity::Error || args.deny_warnings {
            "error"
        } else {
            "warning"
        }
    };
    match args.format {
        Format::Text => {
            for f in &findings {
                println!(
                    "{}[{}] {}:{}:{} (#{}): {}",
                    word(f.severity),
                    f.rule,
                    f.file.display(),
                    f.line,
                    f.col,
                    f.pointer,
                    f.message
                );
            }
            let ignored = if ignored > 0 {
                format!(", {ignored} ignored by {}", config.source())
            } else {
                String::new()
            };
            println!("{errors} error(s), {warnings} warning(s){ignored}");
        }
        Format::Json => {
            let (e, w) = if args.deny_warnings {
                (errors + warnings, 0)
            } else {
                (errors, warnings)
            };
            let doc = serde_json::json!({
                "findings": findings,
                "summary": Summary::new(failing, e, w, files.len()),
                "ignored": ignored,
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Github => {
            for f in &findings {
                println!(
                    "::{} file={},line={},col={},title={}::{}",
                    word(f.severity),
                    gh_escape(&f.file.to_string_lossy(), true),
                    f.line,
                    f.col,
                    gh_escape(f.rule, true),
                    gh_escape(&f.message, false)
                );
            }
        }
    }
    i32::from(failing)
}
