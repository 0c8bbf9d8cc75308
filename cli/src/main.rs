//! `eventctl`: the schema catalog's command line.
//!
//! Exit codes: 0 success, 1 a check found problems, 2 usage or input error.

use clap::{CommandFactory, Parser, Subcommand};

mod asyncapi;
mod check;
mod compat;
mod docs;
mod generate;
mod lint;
mod lint_config;
mod new;
mod output;
mod topics;

#[derive(Parser)]
#[command(name = "eventctl", version, about = "Schema-first event catalog tool")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate Rust from schemas: exactly what build.rs writes (exit 0 ok, 1 schema problem, 2 error).
    Generate(generate::Args),
    /// Render, check or apply the topic setup of schemas/topics.json.
    Topics(topics::Args),
    /// Compatibility of two schema files (exit 0 compatible, 1 incompatible/unknown, 2 error).
    Compat(compat::Args),
    /// Check the whole catalog: version chains and, with --against, a git baseline.
    Check(check::Args),
    /// Lint the catalog's conventions (naming, $id, titles, topics, keys, x-pii, open objects).
    Lint(lint::Args),
    /// Write the catalog as an AsyncAPI 3.0 document (YAML or JSON).
    Asyncapi(asyncapi::Args),
    /// Write the static HTML event catalog (opens from file://).
    Docs(docs::Args),
    /// Scaffold a standalone service crate: schemas, build.rs, producer, consumer, tests, Dockerfile.
    New(new::Args),
    /// Print a shell completion script (e.g. `eventctl completions bash > /etc/bash_completion.d/eventctl`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => match cli.cmd {
            Cmd::Generate(args) => generate::run(args),
            Cmd::Topics(args) => topics::run(args),
            Cmd::Compat(args) => compat::run(args),
            Cmd::Check(args) => check::run(args),
            Cmd::Lint(args) => lint::run(args),
            Cmd::Asyncapi(args) => asyncapi::run(args),
            Cmd::Docs(args) => docs::run(args),
            Cmd::New(args) => new::run(args),
            Cmd::Completions { shell } => {
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "eventctl",
                    &mut std::io::stdout(),
                );
                0
            }
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
