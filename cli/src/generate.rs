//! `eventctl generate`: write exactly what a `build.rs` calling
//! `pmp_event_codegen::Config` would write.
//!
//! - `--schemas DIR --out FILE`: the event catalog (payload types, `AnyEvent`, `SCHEMAS`, ...).
//! - `--schema FILE --out FILE`: one standalone JSON Schema (root type and `$defs`).
//! - `--out -` prints to stdout.
//!
//! Exit codes: 0 written, 1 a schema problem (printed as `path#/json/pointer: message`),
//! 2 usage or I/O error.

use std::io::Write;
use std::path::PathBuf;

use clap::ArgGroup;
use pmp_event_codegen::{Config, ErrorKind};

/// Arguments of `eventctl generate`.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("input").required(true).args(["schemas", "schema"])))]
pub struct Args {
    /// Schema directory (events/, commands/, common/, envelope.json).
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// One standalone JSON Schema file (no event registry).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Output Rust file (`-` for stdout). Written only when its content changes.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `eventctl generate`; returns the exit code.
pub fn run(args: Args) -> i32 {
    if let Some(dir) = args.schemas.as_ref().filter(|d| d.is_file()) {
        eprintln!(
            "eventctl generate: --schemas {} is a file, expected a directory (use --schema FILE for one schema)",
            dir.display()
        );
        return 2;
    }
    if let Some(file) = args.schema.as_ref().filter(|f| f.is_dir()) {
        eprintln!(
            "eventctl generate: --schema {} is a directory, expected a file (use --schemas DIR for a catalog)",
            file.display()
        );
        return 2;
    }
    let config = match (&args.schemas, &args.schema) {
        (Some(dir), None) => Config::new().schemas_dir(dir),
        (None, Some(file)) => Config::new().schema_file(file),
        _ => {
            eprintln!("eventctl generate: give exactly one of --schemas DIR or --schema FILE");
            return 2;
        }
    };
    let result = if args.out.as_os_str() == "-" {
        config.generate_to_string().map(|code| {
            let _ = std::io::stdout().write_all(code.as_bytes());
        })
    } else {
        config.write_to(&args.out)
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            match e.kind() {
                ErrorKind::Schema => 1,
                ErrorKind::Io | ErrorKind::Config => 2,
            }
        }
    }
}
