//! `eventctl`: the schema catalog's command line.
//!
//! Exit codes: 0 success, 1 a check found problems, 2 usage or input error.

use clap::{Parser, Subcommand};

mod topics;

#[derive(Parser)]
#[command(name = "eventctl", version, about = "Schema-first event catalog tool")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Render, check or apply the topic setup of schemas/topics.json.
    Topics(topics::Args),
}

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => match cli.cmd {
            Cmd::Topics(args) => topics::run(args),
        },
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                2
            } else {
                0
            }
        }
    };
    std::process::exit(code);
}
