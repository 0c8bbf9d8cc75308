//! `eventctl lint`: catalog conventions (see `pmp_event_codegen::lint` for the rules).
//!
//! Exit codes: 0 no errors (warnings allowed unless `--deny-warnings`), 1 findings, 2 input error.

use clap::ValueEnum;
use pmp_event_codegen::lint::{lint_dir, Severity};
use std::path::PathBuf;

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Human-readable.
    #[default]
    Text,
    /// JSON array of findings.
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Runs `eventctl lint`; returns the exit code.
pub fn run(args: Args) -> i32 {
    if !args.schemas.is_dir() {
        eprintln!(
            "eventctl lint: schema directory {} does not exist",
            args.schemas.display()
        );
        return 2;
    }
    let findings = match lint_dir(&args.schemas) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("eventctl lint: {e}");
            return 2;
        }
    };
    let word = |s: Severity| {
        if s == Severity::Error {
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
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            println!(
                "{} error(s), {} warning(s)",
                errors,
                findings.len() - errors
            );
        }
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&findings).unwrap_or_default()
        ),
        Format::Github => {
            for f in &findings {
                let file = f
                    .file
                    .to_string_lossy()
                    .replace(',', "%2C")
                    .replace(':', "%3A");
                println!(
                    "::{} file={file},line={},col={},title={}::{}",
                    word(f.severity),
                    f.line,
                    f.col,
                    f.rule,
                    f.message.replace('\n', "%0A")
                );
            }
        }
    }
    let failing = findings
        .iter()
        .any(|f| f.severity == Severity::Error || args.deny_warnings);
    i32::from(failing)
}
