//! `docker/kafka/create-topics.sh` against the real broker of `scripts/kafka-local`: run twice
//! (idempotent), then every topic and dead-letter topic checked through the admin API for
//! partitions, replication factor and configs, as `schemas/topics.json` declares them.
//!
//! Needs `eval "$(scripts/kafka-local env)"`; fails when the broker is missing.

use std::collections::BTreeMap;
use std::time::Duration;

use pmp_e2e_tests::{broker, repo_root, run_script_against};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use serde_json::Value;

/// What topics.json declares, read independently of the generator: name -> (partitions, configs).
fn expected_topics() -> BTreeMap<String, (usize, BTreeMap<String, String>)> {
    let text = std::fs::read_to_string(repo_root().join("schemas/topics.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let configs = |c: &Value| -> BTreeMap<String, String> {
        c.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let dl = &v["dead_letter"];
    let suffix = dl["suffix"].as_str().unwrap();
    let mut out = BTreeMap::new();
    for t in v["topics"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        out.insert(
            name.to_owned(),
            (
                t["partitions"].as_u64().unwrap() as usize,
                configs(&t["config"]),
            ),
        );
        out.insert(
            format!("{name}{suffix}"),
            (
                dl["partitions"].as_u64().unwrap() as usize,
                configs(&dl["config"]),
            ),
        );
    }
    out
}

/// `TopicId` per topic from the script's closing `--describe` output.
fn topic_ids(describe: &str) -> BTreeMap<String, String> {
    describe
        .lines()
        .filter(|l| l.starts_with("Topic: "))
        .filter_map(|l| {
            let mut name = None;
            let mut id = None;
            for field in l.split('\t') {
                if let Some(n) = field.strip_prefix("Topic: ") {
                    name = Some(n.trim().to_owned());
                }
                if let Some(i) = field.strip_prefix("TopicId: ") {
                    id = Some(i.trim().to_owned());
                }
            }
            Some((name?, id?))
        })
        .collect()
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client")
}

#[test]
fn create_topics_twice_then_partitions_and_configs_match_the_catalog() {
    let broker = broker();
    let expected = expected_topics();

    let first = broker.run_create_topics(&[]);
    let first_out = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "first run failed:\n{first_out}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = broker.run_create_topics(&[]);
    let second_out = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(
        second.status.success(),
        "second run must succeed too (--if-not-exists):\n{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // The script describes every topic at the end, and the second run recreated nothing.
    let ids_first = topic_ids(&first_out);
    let ids_second = topic_ids(&second_out);
    for name in expected.keys() {
        assert!(
            ids_first.contains_key(name),
            "first run did not describe {name}:\n{first_out}"
        );
    }
    for (name, id) in &ids_first {
        if expected.contains_key(name) {
            assert_eq!(
                ids_second.get(name),
                Some(id),
                "topic {name} was recreated by the second run"
            );
        }
    }

    let admin = admin(&broker.bootstrap);
    let metadata = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(15))
        .expect("metadata from the local broker");
    for (name, (partitions, _)) in &expected {
        let t = metadata
            .topics()
            .iter()
            .find(|t| t.name() == name)
            .unwrap_or_else(|| panic!("topic {name} does not exist after create-topics.sh"));
        assert_eq!(t.partitions().len(), *partitions, "partitions of {name}");
        for p in t.partitions() {
            assert_eq!(
                p.replicas().len(),
                1,
                "replication factor of {name} (KAFKA_REPLICATION_FACTOR unset)"
            );
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let names: Vec<&String> = expected.keys().collect();
    let specs: Vec<ResourceSpecifier<'_>> =
        names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let results = rt
        .block_on(admin.describe_configs(
            specs.iter(),
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(15))),
        ))
        .expect("describe configs");
    assert_eq!(results.len(), names.len());
    for (name, result) in names.iter().zip(results) {
        let resource = result.unwrap_or_else(|e| panic!("describe configs of {name}: {e}"));
        let (_, want) = &expected[*name];
        assert!(
            !want.is_empty(),
            "the catalog gives {name} configs to check"
        );
        for (key, value) in want {
            let entry = resource
                .get(key)
                .unwrap_or_else(|| panic!("{name} has no config {key}"));
            assert_eq!(entry.value.as_deref(), Some(value.as_str()), "{name} {key}");
            assert!(
                !entry.is_default,
                "{name} {key} must be set on the topic, not inherited"
            );
        }
    }
}

#[test]
fn a_failing_create_exits_non_zero_and_creates_nothing() {
    let broker = broker();
    // A replication factor the single local broker cannot satisfy, on a topic that does not
    // exist yet, so --if-not-exists cannot hide the failure.
    let dir = tempfile::tempdir().unwrap();
    let topic = format!("infra-test-{}", uuid::Uuid::new_v4().simple());
    let catalog_path = dir.path().join("topics.json");
    std::fs::write(
        &catalog_path,
        format!(
            r#"{{"dead_letter": {{"suffix": ".dlq", "partitions": 1}},
               "topics": [{{"name": "{topic}", "partitions": 2}}]}}"#
        ),
    )
    .unwrap();
    let catalog = pmp_event_codegen::topics::TopicCatalog::load(&catalog_path).unwrap();
    let script = dir.path().join("create-topics.sh");
    std::fs::write(
        &script,
        pmp_event_codegen::topics::render_create_topics_sh(&catalog, "topics.json"),
    )
    .unwrap();

    let out = run_script_against(&broker, &script, &[("KAFKA_REPLICATION_FACTOR", "3")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "RF 3 on one broker must fail the script"
    );
    assert!(
        stderr.contains(&format!("could not create topic {topic}")),
        "{stderr}"
    );

    let metadata = admin(&broker.bootstrap)
        .inner()
        .fetch_metadata(None, Duration::from_secs(15))
        .unwrap();
    assert!(
        metadata.topics().iter().all(|t| t.name() != topic),
        "the failed topic must not exist"
    );
}

#[test]
fn an_unreachable_broker_fails_after_the_bounded_wait() {
    let mut broker = broker();
    broker.bootstrap = "127.0.0.1:1".to_owned();
    let out = broker.run_create_topics(&[
        ("KAFKA_SETUP_RETRIES", "2"),
        ("KAFKA_SETUP_RETRY_DELAY", "0"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not reachable after 2 attempts"),
        "{stderr}"
    );
}

#[test]
fn a_bad_replication_factor_is_refused_before_contacting_kafka() {
    let broker = broker();
    let out = broker.run_create_topics(&[("KAFKA_REPLICATION_FACTOR", "two")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("REPLICATION_FACTOR must be a positive integer"),
        "{stderr}"
    );
}
