//! `eventctl topics`: render, check and apply the topic setup of `schemas/topics.json`.
//!
//! - `eventctl topics [--format sh]` prints `docker/kafka/create-topics.sh`.
//! - `eventctl topics --check [--script docker/kafka/create-topics.sh]` exits 1 when the committed
//!   script differs from the rendering (CI runs it so the script never goes stale).
//! - `eventctl topics apply --bootstrap-servers HOST:PORT` creates the same topics, partitions and
//!   configs through the rdkafka admin client, for hosts without Kafka's shell tools. Existing
//!   topics are left alone (idempotent), but one whose partition count differs is reported and
//!   makes the command exit 1. `--env NAME` picks the catalog environment whose replication
//!   factor and `min.insync.replicas` every topic gets (default: `KAFKA_TOPICS_ENV`, then the
//!   catalog's default).
//!
//! Exit codes: 0 success, 1 the check found a difference or Kafka refused, 2 usage or input error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pmp_event_codegen::topics::{render_create_topics_sh, ResolvedTopic, TopicCatalog};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;

/// Arguments of `eventctl topics`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The topic catalog.
    #[arg(long, default_value = "schemas/topics.json", global = true)]
    pub topics: PathBuf,
    /// Output format of the rendered topic setup.
    #[arg(long, value_enum, default_value_t = Format::Sh)]
    pub format: Format,
    /// Compare the committed script with the rendering instead of printing it.
    #[arg(long)]
    pub check: bool,
    /// The committed script that `--check` compares.
    #[arg(long, default_value = "docker/kafka/create-topics.sh")]
    pub script: PathBuf,
    /// Create the topics on a broker instead of rendering the script.
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
    /// Create every topic and dead-letter topic through the Kafka admin API (idempotent).
    Apply(ApplyArgs),
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
    let catalog = match TopicCatalog::load(&args.topics) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eventctl topics: {e}");
            return 2;
        }
    };
    match args.action {
        Some(Action::Apply(apply)) => run_apply(&catalog, apply),
        None if args.check => run_check(&catalog, &args.topics, &args.script),
        None => {
            let Format::Sh = args.format;
            print!(
                "{}",
                render_create_topics_sh(&catalog, &source_name(&args.topics))
            );
            0
        }
    }
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
                 `eventctl topics --format sh > {}`",
                script.display(),
                topics.display(),
                script.display()
            );
            1
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "{}: missing; generate it with `eventctl topics --format sh > {}`",
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

fn run_apply(catalog: &TopicCatalog, args: ApplyArgs) -> i32 {
    let bootstrap = match args
        .bootstrap_servers
        .clone()
        .or_else(|| std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok())
        .filter(|s| !s.trim().is_empty())
    {
        Some(b) => b,
        None => {
            eprintln!("eventctl topics apply: no broker: pass --bootstrap-servers or set KAFKA_BOOTSTRAP_SERVERS");
            return 2;
        }
    };
    let environment = args
        .environment
        .clone()
        .or_else(|| std::env::var("KAFKA_TOPICS_ENV").ok())
        .filter(|s| !s.trim().is_empty());
    let env = match catalog.environment(environment.as_deref()) {
        Ok(env) => env,
        Err(msg) => {
            eprintln!("eventctl topics apply: {msg}");
            return 2;
        }
    };
    let rf = match replication_factor(&args, env.replication_factor) {
        Ok(rf) if rf >= i32::from(env.min_insync_replicas) => rf,
        Ok(rf) => {
            eprintln!(
                "eventctl topics apply: replication factor {rf} is below the environment's min.insync.replicas {}",
                env.min_insync_replicas
            );
            return 2;
        }
        Err(msg) => {
            eprintln!("eventctl topics apply: {msg}");
            return 2;
        }
    };
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &bootstrap);
    for prop in &args.properties {
        match prop.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                config.set(k.trim(), v);
            }
            _ => {
                eprintln!("eventctl topics apply: -X takes KEY=VALUE (got a value without `=`)");
                return 2;
            }
        }
    }
    let admin: AdminClient<DefaultClientContext> = match config.create() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("eventctl topics apply: bad client configuration: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventctl topics apply: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let mut topics = catalog.resolved_topics();
    for t in &mut topics {
        t.config.insert(
            "min.insync.replicas".to_owned(),
            env.min_insync_replicas.to_string(),
        );
    }
    match runtime.block_on(apply(&admin, &topics, rf, timeout)) {
        Ok(0) => 0,
        Ok(_) => 1,
        Err(msg) => {
            eprintln!("eventctl topics apply: {msg}");
            1
        }
    }
}

fn replication_factor(args: &ApplyArgs, environment_rf: u16) -> Result<i32, String> {
    if let Some(rf) = args.replication_factor {
        return if rf >= 1 {
            Ok(rf)
        } else {
            Err("--replication-factor must be at least 1".to_owned())
        };
    }
    match std::env::var("KAFKA_REPLICATION_FACTOR") {
        Ok(s) if !s.trim().is_empty() => match s.trim().parse::<i32>() {
            Ok(rf) if rf >= 1 => Ok(rf),
            _ => Err("KAFKA_REPLICATION_FACTOR must be a positive integer".to_owned()),
        },
        _ => Ok(i32::from(environment_rf)),
    }
}

/// Create the topics; returns how many problems were reported, or an error when the broker
/// cannot be reached at all.
async fn apply(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[ResolvedTopic],
    rf: i32,
    timeout: Duration,
) -> Result<usize, String> {
    // Fail fast with a clear message when no broker answers.
    admin
        .inner()
        .fetch_metadata(None, timeout)
        .map_err(|e| format!("broker not reachable within {}s: {e}", timeout.as_secs()))?;

    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            let mut nt = NewTopic::new(&t.name, t.partitions as i32, TopicReplication::Fixed(rf));
            for (k, v) in &t.config {
                nt = nt.set(k, v);
            }
            nt
        })
        .collect();
    let opts = AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    let results = admin
        .create_topics(new_topics.iter(), &opts)
        .await
        .map_err(|e| format!("create topics request failed: {e}"))?;

    let mut problems = 0;
    for result in results {
        match result {
            Ok(name) => println!("created {name}"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => println!("exists  {name}"),
            Err((name, code)) => {
                eprintln!("eventctl topics apply: topic {name}: {code}");
                problems += 1;
            }
        }
    }

    // Existing topics are not changed; say so when they no longer match the catalog.
    let metadata = admin
        .inner()
        .fetch_metadata(None, timeout)
        .map_err(|e| format!("cannot read topic metadata: {e}"))?;
    for t in topics {
        match metadata.topics().iter().find(|m| m.name() == t.name) {
            Some(m) if m.partitions().len() == t.partitions as usize => {}
            Some(m) => {
                eprintln!(
                    "eventctl topics apply: topic {} has {} partitions, the catalog says {}",
                    t.name,
                    m.partitions().len(),
                    t.partitions
                );
                problems += 1;
            }
            None => {
                eprintln!(
                    "eventctl topics apply: topic {} missing after create",
                    t.name
                );
                problems += 1;
            }
        }
    }
    Ok(problems)
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
            "docker/kafka/create-topics.sh is stale: run `cargo run -p pmp-eventctl -- topics --format sh > docker/kafka/create-topics.sh`"
        );
    }

    #[test]
    fn first_difference_counts_lines_from_one() {
        assert_eq!(first_difference("a\nb\nc", "a\nx\nc"), 2);
        assert_eq!(first_difference("a", "a\nb"), 2);
    }

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
