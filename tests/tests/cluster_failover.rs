//! Failover on the 3-broker cluster of `scripts/kafka-local start --brokers 3`, topics with
//! replication factor 3 and `min.insync.replicas=2` (`create-topics.sh --env cluster`). Each
//! test does real damage to the cluster and counts events exactly:
//!
//! - the leader of a partition is SIGKILLed while 50,000 events are published over 1,000 keys:
//!   0 lost, 0 duplicates (the idempotent producer's retries cross the failover), per-key order;
//! - the leader is frozen (SIGSTOP) longer than its ZooKeeper session, then resumed: same checks;
//! - two of three brokers die, so `min.insync.replicas` cannot be met: the producer spools,
//!   loses nothing and drains when they return;
//! - one of three consumer instances (separate processes) of a group is SIGKILLed mid-stream:
//!   0 lost (committed but not handled), duplicates counted;
//! - every broker is restarted in turn while producing and consuming: 0 lost.
//!
//! The maximum `publish()` latency and the time until deliveries resume are printed, never
//! asserted. Built only with `--features cluster`; `scripts/test` runs it against the cluster
//! (`KAFKA_CLUSTER_BOOTSTRAP_SERVERS`), one test at a time:
//! `cargo test -p pmp-e2e-tests --features cluster --test cluster_failover -- --test-threads=1`.

mod cluster_support;
mod e2e_support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster_support::{cluster, verify, wait_for, Cluster, Heal, Load};
use e2e_support::run_name;
use pmp_e2e_tests::fault_lock;
use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
use pmp_event_runtime::{EventPayload, KafkaConfig};
use pmp_events::{AnyEvent, PatientDeletedV1};
use uuid::Uuid;

const TOPIC: &str = PatientDeletedV1::TOPIC;

/// Publish 50,000 events over 1,000 keys; at 15,000 apply `fault` to the leader of partition
/// 0, then `recover` it once `hold` has passed; check 0 lost, 0 duplicates, per-key order.
async fn leader_fault(name: &str, fault: &str, recover: &str, hold: Duration) {
    let c = cluster();
    let _heal = Heal(&c);
    c.ensure_topics();
    c.wait_in_sync(TOPIC);
    let run = run_name(name);
    let spool = tempfile::tempdir().unwrap();
    let mut load = Load::start(&c.bootstrap, &run, spool.path(), |k| k, 50_000, 1_000, 5);
    load.wait_count(15_000);
    let leader = c.leader_of(TOPIC, 0);
    let fault_at = Instant::now();
    c.kafka_local(&[fault, &leader.to_string()]);
    tokio::time::sleep(hold).await;
    c.kafka_local(&[recover, &leader.to_string()]);
    let published = load.finish();
    assert_eq!(published.len(), 50_000);
    load.wait_settled();
    let gap = load.delivery_gap(0, fault_at);
    let spooled = load.producer.metrics().spooled;
    let v = tokio::task::spawn_blocking({
        let (c, run) = (c.clone(), run.clone());
        move || verify(&c, TOPIC, &run, &published, true)
    })
    .await
    .unwrap();
    eprintln!(
        "{name}: broker {leader} ({fault}, {recover} after {hold:?}): published {}, read back {}, \
         duplicates {}, spooled {spooled}; max publish() {:?}; deliveries to partition 0 \
         resumed after {gap:?}",
        v.published,
        v.records,
        v.duplicates,
        load.max_publish()
    );
    load.producer.shutdown(Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)] // the lock serializes whole tests on purpose
async fn leader_sigkilled_mid_stream_loses_nothing_and_duplicates_nothing() {
    let _lock = fault_lock();
    // `restart` waits out the killed broker's ZooKeeper session itself.
    leader_fault("leader-kill", "kill", "restart", Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn leader_frozen_past_its_session_loses_nothing_and_duplicates_nothing() {
    let _lock = fault_lock();
    // ZooKeeper session of the brokers: 6 s (scripts/kafka-local).
    leader_fault("leader-pause", "pause", "resume", Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn too_few_in_sync_replicas_spools_and_drains_without_loss() {
    let _lock = fault_lock();
    let c = cluster();
    let _heal = Heal(&c);
    c.ensure_topics();
    c.wait_in_sync(TOPIC);
    let run = run_name("min-isr");
    let spool = tempfile::tempdir().unwrap();
    // A shorter delivery timeout than the default 30 s so librdkafka gives the events back
    // (and the producer spools them) within the outage.
    let mut load = Load::start(
        &c.bootstrap,
        &run,
        spool.path(),
        |k| k.set("message.timeout.ms", "8000"),
        usize::MAX,
        500,
        1,
    );
    load.wait_count(2_000);
    c.kafka_local(&["kill", "2"]);
    c.kafka_local(&["kill", "3"]);
    let down_at = Instant::now();
    let before = load.producer.metrics();
    // Keep publishing through the outage until the producer has spooled for a while.
    wait_for("events spooled while 2 of 3 brokers are down", || {
        load.producer.metrics().spooled > before.spooled + 500
            && down_at.elapsed() > Duration::from_secs(15)
    });
    let during = load.producer.metrics();
    let at_restart = load.count();
    c.kafka_local(&["restart"]);
    load.wait_count(at_restart + 1_000);
    let published = load.stop();
    load.wait_settled();
    let after = load.producer.metrics();
    assert!(after.drained > 0, "the spool drained: {after:?}");
    let v = tokio::task::spawn_blocking({
        let (c, run) = (c.clone(), run.clone());
        move || verify(&c, TOPIC, &run, &published, false)
    })
    .await
    .unwrap();
    eprintln!(
        "min-isr: 2 of 3 brokers down {:?}: published {}, spooled {} (depth {} at restart), \
         drained {}, read back {}, duplicates {}; max publish() {:?}",
        down_at.elapsed(),
        v.published,
        after.spooled,
        during.spool_depth,
        after.drained,
        v.records,
        v.duplicates,
        load.max_publish()
    );
    load.producer.shutdown(Duration::from_secs(20)).await;
}

/// A `cluster_consumer` process and the event ids it printed as handled.
struct Instance {
    child: Child,
    handled: Arc<Mutex<Vec<Uuid>>>,
    reader: std::thread::JoinHandle<()>,
}

fn spawn_consumer(c: &Cluster, group: &str, run: &str) -> Instance {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cluster_consumer"))
        .args([&c.bootstrap, group, run, "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cluster_consumer");
    let stdout = child.stdout.take().expect("stdout");
    let handled: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let reader = {
        let handled = handled.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix("handled ") {
                    handled.lock().unwrap().push(id.parse().expect("event id"));
                }
            }
        })
    };
    Instance {
        child,
        handled,
        reader,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn consumer_instance_sigkilled_mid_stream_loses_nothing() {
    let _lock = fault_lock();
    let c = cluster();
    let _heal = Heal(&c);
    c.ensure_topics();
    c.wait_in_sync(TOPIC);
    let run = run_name("consumer-kill");
    let spool = tempfile::tempdir().unwrap();
    let mut load = Load::start(&c.bootstrap, &run, spool.path(), |k| k, 9_000, 900, 50);
    let published = load.finish();
    load.wait_settled();
    load.producer.shutdown(Duration::from_secs(20)).await;
    let expected: HashSet<Uuid> = published.iter().map(|(_, id)| *id).collect();

    let mut instances: Vec<Instance> = (0..3).map(|_| spawn_consumer(&c, &run, &run)).collect();
    let total = |instances: &[Instance]| -> usize {
        instances
            .iter()
            .map(|i| i.handled.lock().unwrap().len())
            .sum()
    };
    wait_for("all three instances handling, 2,000 events handled", || {
        instances
            .iter()
            .all(|i| !i.handled.lock().unwrap().is_empty())
            && total(&instances) >= 2_000
    });
    let victim = &mut instances[0];
    victim.child.kill().expect("SIGKILL the consumer instance");
    victim.child.wait().expect("reap");
    let killed_at = Instant::now();
    let handled_by_victim = victim.handled.lock().unwrap().len();
    wait_for("every event handled by the group", || {
        let seen: HashSet<Uuid> = instances
            .iter()
            .flat_map(|i| i.handled.lock().unwrap().clone())
            .collect();
        expected.is_subset(&seen)
    });
    let resumed_after = killed_at.elapsed();
    for i in &mut instances[1..] {
        drop(i.child.stdin.take());
        let status = i.child.wait().expect("consumer exits");
        assert!(
            status.success(),
            "a surviving consumer instance failed: {status}"
        );
    }
    let mut all: Vec<Uuid> = Vec::new();
    for i in instances {
        i.reader.join().expect("reader thread");
        all.extend(i.handled.lock().unwrap().iter().copied());
    }
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert!(expected.is_subset(&unique), "events lost");
    assert!(unique.is_subset(&expected), "foreign events handled");
    let mut per_id: HashMap<Uuid, usize> = HashMap::new();
    for id in &all {
        *per_id.entry(*id).or_default() += 1;
    }
    eprintln!(
        "consumer-kill: {} events, handled {} times in all ({} duplicates); the killed \
         instance had handled {handled_by_victim}; the group finished {resumed_after:?} after \
         the kill",
        expected.len(),
        all.len(),
        all.len() - unique.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn rolling_restart_while_producing_and_consuming_loses_nothing() {
    let _lock = fault_lock();
    let c = cluster();
    let _heal = Heal(&c);
    c.ensure_topics();
    c.wait_in_sync(TOPIC);
    let run = run_name("rolling");
    let received: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let consumer = {
        let (sink, run) = (received.clone(), run.clone());
        ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(
            KafkaConfig::new(&c.bootstrap),
            run.clone(),
        ))
        .on::<PatientDeletedV1, _, _>(move |e| {
            let (sink, run) = (sink.clone(), run.clone());
            async move {
                if e.producer == run {
                    sink.lock().unwrap().push(e.event_id);
                }
                Ok(())
            }
        })
        .start()
        .expect("consumer starts")
    };
    let spool = tempfile::tempdir().unwrap();
    let mut load = Load::start(&c.bootstrap, &run, spool.path(), |k| k, usize::MAX, 500, 1);
    load.wait_count(1_000);
    for n in 1..=c.brokers.len() {
        c.kafka_local(&["stop", &n.to_string()]);
        c.kafka_local(&["restart", &n.to_string()]);
        c.wait_in_sync(TOPIC);
        let now = load.count();
        load.wait_count(now + 500);
    }
    let published = load.stop();
    load.wait_settled();
    let v = tokio::task::spawn_blocking({
        let (c, run, published) = (c.clone(), run.clone(), published.clone());
        move || verify(&c, TOPIC, &run, &published, false)
    })
    .await
    .unwrap();
    let expected: HashSet<Uuid> = published.iter().map(|(_, id)| *id).collect();
    wait_for("the consumer received every event", || {
        let got: HashSet<Uuid> = received.lock().unwrap().iter().copied().collect();
        expected.is_subset(&got)
    });
    let report = consumer.shutdown(Duration::from_secs(20)).await;
    assert!(report.drained, "{report:?}");
    let handled = received.lock().unwrap().len();
    eprintln!(
        "rolling: published {}, on the topic {} ({} duplicates), consumed {handled} ({} \
         duplicates); max publish() {:?}",
        v.published,
        v.records,
        v.duplicates,
        handled - expected.len(),
        load.max_publish()
    );
    load.producer.shutdown(Duration::from_secs(20)).await;
}
