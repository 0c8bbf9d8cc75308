//! `eventctl topics apply`: the catalog's topics through the Kafka admin API (feature `kafka`).

use std::time::Duration;

use pmp_event_codegen::topics::{ResolvedTopic, TopicCatalog};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;

use super::ApplyArgs;

/// Runs `eventctl topics apply`; returns the exit code.
pub fn run(catalog: &TopicCatalog, args: ApplyArgs) -> i32 {
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
