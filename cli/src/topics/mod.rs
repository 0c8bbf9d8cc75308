//! `eventctl topics`: render, check and apply the topic setup of `schemas/topics.json`.
//!
//! - `eventctl topics render [--format sh]` prints `docker/kafka/create-topics.sh`.
//! - `eventctl topics check [--script docker/kafka/create-topics.sh]` exits 1 when the committed
//!   script differs from the rendering (CI runs it so the script never goes stale).
//! - `eventctl topics apply --bootstrap-servers HOST:PORT` creates the same topics, partitions and
//!   configs through the rdkafka admin client, for hosts without Kafka's shell tools. Existing
//!   topics are left alone (idempotent), but one whose partition count differs is reported and
//!   makes the command exit 1. It needs librdkafka, so it is compiled only with the `kafka`
//!   feature (`cargo install --path cli --features kafka`); without it, it exits 2 naming the
//!   feature. `--env NAME` picks the catalog environment whose replication factor and
//!   `min.insync.replicas` every topic gets (default: `KAFKA_TOPICS_ENV`, then the catalog's
//!   default).
//!
//! The flags of earlier releases still work: `eventctl topics [--format sh]` renders and
//! `eventctl topics --check [--script ...]` checks.
//!
//! Exit codes: 0 success, 1 the check found a difference or Kafka refused, 2 usage or input error.

use std::path::{Path, PathBuf};

use pmp_event_codegen::topics::{render_create_topics_sh, TopicCatalog};

#[cfg(feature = "kafka")]
mod apply;

/// The script `check` compares by default.
const DEFAULT_SCRIPT: &str = "docker/kafka/create-topics.sh";

/// Arguments of `eventctl topics`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The topic catalog.
    #[arg(long, default_value = "schemas/topics.json", global = true)]
    pub topics: PathBuf,
    /// Earlier form of `topics render --format`.
    #[arg(long, value_enum, default_value_t = Format::Sh, hide = true)]
    pub format: Format,
    /// Earlier form of `topics check`.
    #[arg(long, hide = true)]
    pub check: bool,
    /// Earlier form of `topics check --script`.
    #[arg(long, default_value = DEFAULT_SCRIPT, hide = true)]
    pub script: PathBuf,
    /// What to do (default: render).
    #[command(subcommand)]
    pub action: Option<Action>,
}

/// Rendering formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A bash script driving `kafka-topics` (the `kafka-setup` container's `create-topics.sh`).
    Sh,
}

/// Subcommands of `eventctl topics`.
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Print the topic setup script.
    Render(RenderArgs),
    /// Exit 1 when the committed script differs from the rendering.
    Check(CheckArgs),
    /// Create every topic and dead-letter topic through the Kafka admin API (idempotent;
    /// needs the `kafka` feature).
    Apply(ApplyArgs),
}

/// Arguments of `eventctl topics render`.
#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Sh)]
    pub format: Format,
}

/// Arguments of `eventctl topics check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The committed script to compare.
    #[arg(long, default_value = DEFAULT_SCRIPT)]
    pub script: PathBuf,
}

/// Arguments of `eventctl topics apply`.
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// Broker list; defaults to KAFKA_BOOTSTRAP_SERVERS.
    #[arg(long)]
    pub bootstrap_servers: Option<String>,
    /// Environment of the catalog (replication factor and min.insync.replicas of every topic);
    /// defaults to KAFKA_TOPICS_ENV, then the catalog's default environment.
    #[arg(long = "env", value_name = "NAME")]
    pub environment: Option<String>,
    /// Replication factor of every topic; defaults to KAFKA_REPLICATION_FACTOR, then the
    /// environment's.
    #[arg(long)]
    pub replication_factor: Option<i32>,
    /// Extra librdkafka client property (repeatable), e.g. `-X security.protocol=SASL_SSL`.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
    /// How long to wait for the broker, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
}

/// Run `eventctl topics`; returns the exit code.
pub fn run(args: Args) -> i32 {
    if args.topics.is_dir() {
        eprintln!(
            "eventctl topics: {} is a directory, expected a file (the topic catalog, e.g. schemas/topics.json)",
            args.topics.display()
        );
        return 2;
    }
    let catalog = match TopicCatalog::load(&args.topics) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eventctl topics: {e}");
            return 2;
        }
    };
    match args.action {
        Some(Action::Apply(apply)) => run_apply(&catalog, apply),
        Some(Action::Check(check)) => run_check(&catalog, &args.topics, &check.script),
        None if args.check => run_check(&catalog, &args.topics, &args.script),
        Some(Action::Render(RenderArgs { format: Format::Sh })) | None => {
            print!(
                "{}",
                render_create_topics_sh(&catalog, &source_name(&args.topics))
            );
            0
        }
    }
}

#[cfg(feature = "kafka")]
fn run_apply(catalog: &TopicCatalog, args: ApplyArgs) -> i32 {
    apply::run(catalog, args)
}

#[cfg(not(feature = "kafka"))]
fn run_apply(_catalog: &TopicCatalog, _args: ApplyArgs) -> i32 {
    eprintln!(
        "eventctl topics apply: this eventctl was built without the `kafka` feature (it needs \
         librdkafka); rebuild with `cargo install --path cli --features kafka`, or create the \
         topics with `eventctl topics render | bash`"
    );
    2
}

/// The catalog's name in the script header: the path as given, `/`-separated, without `./`.
fn source_name(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

fn run_check(catalog: &TopicCatalog, topics: &Path, script: &Path) -> i32 {
    let expected = render_create_topics_sh(catalog, &source_name(topics));
    match std::fs::read_to_string(script) {
        Ok(actual) if actual == expected => {
            println!("{}: up to date with {}", script.display(), topics.display());
            0
        }
        Ok(actual) => {
            let line = first_difference(&actual, &expected);
            eprintln!(
                "{}: differs from what {} gives (first difference at line {line}); regenerate with \
                 `eventctl topics render > {}`",
                script.display(),
                topics.display(),
                script.display()
            );
            1
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "{}: missing; generate it with `eventctl topics render > {}`",
                script.display(),
                script.display()
            );
            1
        }
        Err(e) => {
            eprintln!("{}: cannot read: {}", script.display(), e.kind());
            2
        }
    }
}

fn first_difference(a: &str, b: &str) -> usize {
    let mut la = a.lines();
    let mut lb = b.lines();
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return n,
            _ => return n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1,
        "config": {"retention.ms": "2592000000"}},
        "topics": [{"name": "a-events", "partitions": 2, "config": {"cleanup.policy": "delete"}}]}"#;

    fn args(dir: &Path, check: bool) -> Args {
        Args {
            topics: dir.join("topics.json"),
            format: Format::Sh,
            check,
            script: dir.join("create-topics.sh"),
            action: None,
        }
    }

    #[test]
    fn check_passes_on_fresh_script_and_fails_on_stale_or_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topics.json"), CATALOG).unwrap();
        assert_eq!(
            run(args(dir.path(), true)),
            1,
            "missing script must fail the check"
        );

        let catalog = TopicCatalog::load(&dir.path().join("topics.json")).unwrap();
        let script =
            render_create_topics_sh(&catalog, &source_name(&dir.path().join("topics.json")));
        std::fs::write(dir.path().join("create-topics.sh"), &script).unwrap();
        assert_eq!(run(args(dir.path(), true)), 0);

        std::fs::write(
            dir.path().join("create-topics.sh"),
            script.replace("a-events' 2", "a-events' 3"),
        )
        .unwrap();
        assert_eq!(
            run(args(dir.path(), true)),
            1,
            "stale script must fail the check"
        );
    }

    #[test]
    fn bad_catalog_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topics.json"), r#"{"topics": []}"#).unwrap();
        assert_eq!(run(args(dir.path(), false)), 2);
        assert_eq!(run(args(&dir.path().join("nowhere"), false)), 2);
    }

    #[test]
    fn the_committed_script_is_up_to_date() {
        // Same comparison CI makes with `eventctl topics --check`, from the repository root.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let catalog = TopicCatalog::load(&root.join("schemas/topics.json")).unwrap();
        let expected = render_create_topics_sh(&catalog, "schemas/topics.json");
        let actual = std::fs::read_to_string(root.join("docker/kafka/create-topics.sh")).unwrap();
        assert!(
            actual == expected,
            "docker/kafka/create-topics.sh is stale: run `cargo run -p pmp-eventctl -- topics render > docker/kafka/create-topics.sh`"
        );
    }

    #[test]
    fn first_difference_counts_lines_from_one() {
        assert_eq!(first_difference("a\nb\nc", "a\nx\nc"), 2);
        assert_eq!(first_difference("a", "a\nb"), 2);
    }

    #[cfg(feature = "kafka")]
    #[test]
    fn apply_without_broker_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topics.json"), CATALOG).unwrap();
        let catalog = TopicCatalog::load(&dir.path().join("topics.json")).unwrap();
        let apply = ApplyArgs {
            bootstrap_servers: Some("127.0.0.1:9".into()),
            environment: None,
            replication_factor: Some(0),
            properties: vec![],
            timeout_secs: 1,
        };
        assert_eq!(
            run_apply(&catalog, apply),
            2,
            "replication factor 0 is rejected before connecting"
        );
        let unknown_env = ApplyArgs {
            bootstrap_servers: Some("127.0.0.1:9".into()),
            environment: Some("prod".into()),
            replication_factor: None,
            properties: vec![],
            timeout_secs: 1,
        };
        assert_eq!(
            run_apply(&catalog, unknown_env),
            2,
            "an unknown environment is rejected before connecting"
        );
    }
}
