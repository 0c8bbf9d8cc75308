//! Stopping mid-stream and restarting in the same group: every message is processed at
//! least once, no bad message is dead-lettered twice; and shutdown never hangs, even with
//! the broker gone.

mod consumer_support;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{Consumer, ConsumerBuilder};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::ClientConfig;
use serde_json::json;
use uuid::Uuid;

fn start(bootstrap: &str, seen: Arc<Mutex<Vec<Uuid>>>) -> Consumer {
    ConsumerBuilder::<TestEvent>::new(config(bootstrap, "restart", &[TOPIC_EVENTS]))
        .on_any(move |e: TestEvent| {
            let seen = seen.clone();
            async move {
                // Slow enough that the first consumer is stopped with work left.
                tokio::time::sleep(Duration::from_millis(5)).await;
                seen.lock().unwrap().push(e.event_id());
                Ok(())
            }
        })
        .start()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_same_group_processes_all_and_dead_letters_none_twice() {
    let cluster = cluster(&[(TOPIC_EVENTS, 3)]);
    let bootstrap = cluster.bootstrap_servers();
    let mut recs = Vec::new();
    let mut valid = Vec::new();
    let mut bad = 0usize;
    for i in 0..120u32 {
        let p = (i % 3) as i32;
        if i % 5 == 4 {
            recs.push(Rec::value(p, format!("garbage {i}")));
            bad += 1;
        } else {
            let (id, rec) = event(p, "test.deleted", 1, json!({"id": i + 1}));
            valid.push(id);
            recs.push(rec);
        }
    }
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let seen: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let first = start(&bootstrap, seen.clone());
    wait_for(
        "some progress",
        Duration::from_secs(60),
        || first.metrics(),
        |m| m.processed_total() >= 20 && m.dead_lettered_total() >= 2,
    )
    .await;
    let report = first.shutdown(Duration::from_secs(10)).await;
    assert!(report.committed && report.closed, "{report:?}");
    let after_first = seen.lock().unwrap().len();
    assert!(after_first < valid.len(), "stopped mid-stream");

    let second = start(&bootstrap, seen.clone());
    wait_for(
        "everything committed",
        Duration::from_secs(60),
        || second.metrics(),
        |m| covers(&m.stored_offsets, &ends) && covers(&m.committed_offsets, &ends),
    )
    .await;
    second.shutdown(Duration::from_secs(10)).await;

    let seen: HashSet<Uuid> = seen.lock().unwrap().iter().copied().collect();
    for id in &valid {
        assert!(seen.contains(id), "event {id} never processed");
    }
    let dead = read_dlq(&bootstrap, "test-events.dlq", bad, Duration::from_secs(30)).await;
    let mut sources = BTreeMap::new();
    for d in &dead {
        *sources.entry(d.source()).or_insert(0) += 1;
    }
    assert_eq!(sources.len(), bad);
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "watermarks")
        .create()
        .unwrap();
    let (_, high) = reader
        .fetch_watermarks("test-events.dlq", 0, Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        high as usize, bad,
        "a message was dead-lettered twice: {sources:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_with_the_broker_gone() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let recs = vec![
        event(0, "test.deleted", 1, json!({"id": 1})).1,
        Rec::value(0, b"garbage".to_vec()),
    ];
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let seen: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let consumer = start(&bootstrap, seen.clone());
    wait_for(
        "first event",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| m.processed_total() == 1 && m.dead_lettered_total() == 1,
    )
    .await;
    assert_eq!(produced.len(), 2);
    cluster.broker_down(1).unwrap();
    // The outer bound only detects a hang; the deadline is what shutdown promises.
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        consumer.shutdown(Duration::from_secs(2)),
    )
    .await
    .expect("shutdown hung with the broker down");
    assert!(report.drained, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_member_joining_mid_stream_loses_nothing() {
    let cluster = cluster(&[(TOPIC_EVENTS, 4)]);
    let bootstrap = cluster.bootstrap_servers();
    let mut recs = Vec::new();
    let mut valid = Vec::new();
    let mut bad = 0usize;
    for i in 0..1000u32 {
        let p = (i % 4) as i32;
        if i % 10 == 9 {
            recs.push(Rec::value(p, Vec::new()));
            bad += 1;
        } else {
            let (id, rec) = event(p, "test.deleted", 1, json!({"id": i + 1}));
            valid.push(id);
            recs.push(rec);
        }
    }
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let seen: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let first = start(&bootstrap, seen.clone());
    wait_for(
        "some progress",
        Duration::from_secs(60),
        || first.metrics(),
        |m| m.processed_total() >= 10,
    )
    .await;
    // Joining triggers a rebalance while the first member is mid-stream.
    let second = start(&bootstrap, seen.clone());
    let mut done = false;
    for _ in 0..600 {
        let committed =
            tokio::task::block_in_place(|| broker_committed(&bootstrap, "restart", &ends));
        if covers(&committed, &ends) {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "offsets never covered the topic");
    assert!(first.is_running() && second.is_running());
    let m2 = second.metrics();
    assert!(
        m2.processed_total() + m2.dead_lettered_total() > 0,
        "the second member never got a partition: {m2:?}"
    );
    let seen: HashSet<Uuid> = seen.lock().unwrap().iter().copied().collect();
    for id in &valid {
        assert!(seen.contains(id), "event {id} lost in the rebalance");
    }
    // At least once: every bad message is in the DLQ. A rebalance may replay messages the
    // first member handled while the coordinator refused its commits, so some may be there
    // twice (unlike a clean restart, where the final commit succeeds).
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "watermarks")
        .create()
        .unwrap();
    let (_, high) = reader
        .fetch_watermarks("test-events.dlq", 0, Duration::from_secs(10))
        .unwrap();
    assert!(high as usize >= bad);
    let dead = read_dlq(
        &bootstrap,
        "test-events.dlq",
        high as usize,
        Duration::from_secs(30),
    )
    .await;
    let sources: HashSet<_> = dead.iter().map(|d| d.source()).collect();
    assert_eq!(sources.len(), bad);
    first.shutdown(Duration::from_secs(10)).await;
    second.shutdown(Duration::from_secs(10)).await;
}
