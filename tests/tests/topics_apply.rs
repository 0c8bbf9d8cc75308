//! `eventctl topics apply` against the real broker of `scripts/kafka-local`: creates topics and
//! dead-letter topics with the catalog's partitions and configs, is idempotent, and reports an
//! existing topic whose partition count differs from the catalog.
//!
//! Runs the `eventctl` binary through `cargo run --features kafka` (it lives in another package;
//! `topics apply` is behind that feature).

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use pmp_e2e_tests::{broker, repo_root};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

fn eventctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .current_dir(repo_root())
        .args([
            "run",
            "-q",
            "-p",
            "pmp-eventctl",
            "--features",
            "kafka",
            "--",
        ])
        .args(args)
        .env_remove("KAFKA_REPLICATION_FACTOR")
        .output()
        .expect("cargo run eventctl")
}

fn catalog(path: &Path, topic: &str, partitions: u32) {
    std::fs::write(
        path,
        format!(
            r#"{{"dead_letter": {{"suffix": ".dlq", "partitions": 1,
                                 "config": {{"retention.ms": "2592000000"}}}},
               "topics": [{{"name": "{topic}", "partitions": {partitions},
                            "config": {{"cleanup.policy": "delete", "retention.ms": "604800000"}}}}]}}"#
        ),
    )
    .unwrap();
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn apply_creates_idempotently_and_reports_partition_drift() {
    let b = broker();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topics.json");
    let topic = format!("infra-apply-{}", uuid::Uuid::new_v4().simple());
    let dlq = format!("{topic}.dlq");
    catalog(&path, &topic, 2);
    let path_s = path.to_str().unwrap();
    let apply = [
        "topics",
        "--topics",
        path_s,
        "apply",
        "--bootstrap-servers",
        b.bootstrap.as_str(),
    ];

    let first = eventctl(&apply);
    assert!(first.status.success(), "{}", text(&first));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains(&format!("created {topic}\n")),
        "{}",
        text(&first)
    );
    assert!(
        out.contains(&format!("created {dlq}\n")),
        "{}",
        text(&first)
    );

    let second = eventctl(&apply);
    assert!(
        second.status.success(),
        "second apply must succeed: {}",
        text(&second)
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains(&format!("exists  {topic}\n")));

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &b.bootstrap)
        .create()
        .unwrap();
    let md = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(15))
        .unwrap();
    let partitions = |name: &str| {
        md.topics()
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.partitions().len())
    };
    assert_eq!(partitions(&topic), Some(2));
    assert_eq!(partitions(&dlq), Some(1));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let specs = [
        ResourceSpecifier::Topic(&topic),
        ResourceSpecifier::Topic(&dlq),
    ];
    let configs = rt
        .block_on(admin.describe_configs(specs.iter(), &AdminOptions::new()))
        .unwrap();
    let get = |i: usize, key: &str| {
        let r = configs[i].as_ref().unwrap();
        r.get(key).and_then(|e| e.value.clone())
    };
    assert_eq!(get(0, "retention.ms").as_deref(), Some("604800000"));
    assert_eq!(get(0, "cleanup.policy").as_deref(), Some("delete"));
    assert_eq!(get(1, "retention.ms").as_deref(), Some("2592000000"));

    // The catalog now asks for more partitions than the existing topic has.
    catalog(&path, &topic, 4);
    let drift = eventctl(&apply);
    assert_eq!(drift.status.code(), Some(1), "{}", text(&drift));
    assert!(
        String::from_utf8_lossy(&drift.stderr).contains(&format!(
            "topic {topic} has 2 partitions, the catalog says 4"
        )),
        "{}",
        text(&drift)
    );

    let names = [topic.as_str(), dlq.as_str()];
    let _ = rt.block_on(admin.delete_topics(&names, &AdminOptions::new()));
}

#[test]
fn apply_to_an_unreachable_broker_fails() {
    let _b = broker();
    let o = eventctl(&[
        "topics",
        "apply",
        "--bootstrap-servers",
        "127.0.0.1:1",
        "--timeout-secs",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("broker not reachable"),
        "{}",
        text(&o)
    );
}
