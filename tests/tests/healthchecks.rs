//! The compose healthcheck scripts (`docker/healthcheck/*.sh`) against the real ZooKeeper and
//! broker of `scripts/kafka-local`: they succeed while the service serves and fail once it is
//! killed, and succeed again after a restart.
//!
//! Kills and restarts the cluster: run with `--test-threads=1` (as `scripts/test` does); the
//! steps also hold [`fault_lock`], and a guard restarts the cluster if a step panics.

use std::process::{Command, Output};

use pmp_e2e_tests::{broker, fault_lock, repo_root, LocalBroker};

fn zookeeper_check(address: &str) -> Output {
    let (host, port) = address.rsplit_once(':').expect("host:port");
    Command::new("bash")
        .arg(repo_root().join("docker/healthcheck/zookeeper-healthcheck.sh"))
        .args([host, port])
        .output()
        .unwrap()
}

fn kafka_check(b: &LocalBroker) -> Output {
    Command::new("bash")
        .arg(repo_root().join("docker/healthcheck/kafka-healthcheck.sh"))
        .arg(&b.bootstrap)
        .env("KAFKA_TOPICS_CMD", &b.topics_cmd)
        .output()
        .unwrap()
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Restarts whatever is down when a test step panics, so later tests find a running cluster.
struct RestartOnDrop<'a>(&'a LocalBroker);

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new(&self.0.script).arg("restart").status();
        }
    }
}

#[test]
fn zookeeper_check_rejects_a_port_that_is_not_zookeeper() {
    let b = broker();
    // The broker's port accepts connections but does not answer `srvr`.
    let o = zookeeper_check(&b.bootstrap);
    assert!(!o.status.success(), "{}", describe(&o));
}

#[test]
fn healthchecks_follow_the_broker_and_zookeeper_up_and_down() {
    let _lock = fault_lock();
    let b = broker();
    let _guard = RestartOnDrop(&b);

    let o = zookeeper_check(&b.zookeeper);
    assert!(o.status.success(), "ZooKeeper up: {}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Mode: standalone"),
        "{}",
        describe(&o)
    );
    let o = kafka_check(&b);
    assert!(o.status.success(), "broker up: {}", describe(&o));

    b.kafka_local(&["kill", "broker"]);
    let o = kafka_check(&b);
    assert_eq!(o.status.code(), Some(1), "broker killed: {}", describe(&o));
    let o = zookeeper_check(&b.zookeeper);
    assert!(o.status.success(), "ZooKeeper still up: {}", describe(&o));

    b.kafka_local(&["restart"]);
    let o = kafka_check(&b);
    assert!(o.status.success(), "broker restarted: {}", describe(&o));

    b.kafka_local(&["kill", "zookeeper"]);
    let o = zookeeper_check(&b.zookeeper);
    assert_eq!(
        o.status.code(),
        Some(1),
        "ZooKeeper killed: {}",
        describe(&o)
    );

    b.kafka_local(&["restart"]);
    let o = zookeeper_check(&b.zookeeper);
    assert!(o.status.success(), "ZooKeeper restarted: {}", describe(&o));
    let o = kafka_check(&b);
    assert!(
        o.status.success(),
        "broker serves after ZooKeeper came back: {}",
        describe(&o)
    );
}
