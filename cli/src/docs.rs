//! `eventctl docs`: the static HTML event catalog (see `pmp_event_catalog::site`).
//!
//! Exit codes: 0 written, 1 the catalog has a schema/topics/services problem, 2 usage or
//! I/O error.

use pmp_event_catalog::{write_site, EventCatalog};
use std::path::PathBuf;

/// Arguments of `eventctl docs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Schema directory.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
    /// Output directory (created; files of earlier runs are overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `eventctl docs`; returns the exit code.
pub fn run(args: Args) -> i32 {
    let catalog = match EventCatalog::load(&args.schemas) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eventctl docs: {e}");
            return crate::asyncapi::load_exit_code(&e);
        }
    };
    match write_site(&catalog, &args.out) {
        Ok(pages) => {
            eprintln!(
                "eventctl docs: wrote {pages} page(s) to {} (open {}/index.html)",
                args.out.display(),
                args.out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("eventctl docs: {e}");
            crate::asyncapi::load_exit_code(&e)
        }
    }
}
