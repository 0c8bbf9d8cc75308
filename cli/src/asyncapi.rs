//! `eventctl asyncapi`: the catalog as an AsyncAPI 3.0 document (see
//! `pmp_event_catalog::asyncapi` for the mapping).
//!
//! Exit codes: 0 written, 1 the catalog has a schema/topics/services problem, 2 usage or
//! I/O error.

use clap::ValueEnum;
use pmp_event_catalog::{asyncapi, CatalogError, EventCatalog};
use std::path::PathBuf;

/// Output format.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// YAML (the AsyncAPI ecosystem's usual form).
    #[default]
    Yaml,
    /// JSON.
    Json,
}

/// Arguments of `eventctl asyncapi`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Schema directory.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
}

/// Exit code for a catalog load failure: 2 when the directory itself is unreadable.
pub fn load_exit_code(e: &CatalogError) -> i32 {
    match e {
        CatalogError::Schema(s) if s.kind() != pmp_event_codegen::ErrorKind::Schema => 2,
        CatalogError::Write { .. } => 2,
        _ => 1,
    }
}

/// Runs `eventctl asyncapi`; returns the exit code.
pub fn run(args: Args) -> i32 {
    let catalog = match EventCatalog::load(&args.schemas) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eventctl asyncapi: {e}");
            return load_exit_code(&e);
        }
    };
    let doc = asyncapi(&catalog);
    let text = match args.format {
        Format::Yaml => doc.to_yaml(),
        Format::Json => doc.to_json(),
    };
    match &args.out {
        None => {
            print!("{text}");
            0
        }
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!(
                    "eventctl asyncapi: {}: cannot write: {}",
                    path.display(),
                    e.kind()
                );
                2
            }
        },
    }
}
