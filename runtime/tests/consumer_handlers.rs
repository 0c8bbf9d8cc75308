//! Handler outcomes on a mock cluster: transient errors retried in order, panics and
//! permanent errors dead-lettered with the consumer alive, unhandled-event policies, dedup.

mod consumer_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass, HandlerError, UnhandledPolicy};
use serde_json::json;

fn created(id: u32) -> serde_json::Value {
    json!({"id": id, "code": "12345", "status": "open"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_retried_in_order_panic_and_permanent_dead_lettered() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let recs: Vec<Rec> = (1..=7)
        .map(|id| event(0, "test.created", 1, created(id)).1)
        .collect();
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let attempts: Arc<Mutex<HashMap<u32, u32>>> = Arc::default();
    let (h, a) = (handled.clone(), attempts.clone());
    let consumer =
        ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "handlers", &[TOPIC_EVENTS]))
            .on::<CreatedV1, _, _>(move |e| {
                let (h, a) = (h.clone(), a.clone());
                async move {
                    let id = e.payload.id;
                    let n = {
                        let mut a = a.lock().unwrap();
                        let n = a.entry(id).or_default();
                        *n += 1;
                        *n
                    };
                    match id {
                        2 if n <= 2 => return Err(HandlerError::transient("database busy")),
                        3 => panic!("handler bug"),
                        4 => return Err(HandlerError::permanent("patient unknown")),
                        5 => return Err(HandlerError::transient("still busy")),
                        _ => {}
                    }
                    h.lock().unwrap().push(id);
                    Ok(())
                }
            })
            .start()
            .unwrap();

    let dead = read_dlq(&bootstrap, "test-events.dlq", 3, Duration::from_secs(60)).await;
    wait_committed(&consumer, &ends).await;
    assert!(
        consumer.is_running(),
        "a panicking handler must not stop the consumer"
    );

    assert_eq!(
        *handled.lock().unwrap(),
        vec![1, 2, 6, 7],
        "each handled once, in order"
    );
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts[&2], 3);
    assert_eq!(attempts[&3], 1, "panics are not retried");
    assert_eq!(attempts[&4], 1, "permanent errors are not retried");
    assert_eq!(attempts[&5], 4, "1 attempt + max_retries 3");

    let classes: Vec<(&str, i64)> = dead.iter().map(|d| (d.class(), d.source().2)).collect();
    assert_eq!(
        classes,
        vec![
            ("handler_panic", produced[2].1),
            ("handler_permanent", produced[3].1),
            ("retries_exhausted", produced[4].1)
        ]
    );
    assert!(dead[1].headers["dlq.error"].contains("patient unknown"));
    assert_eq!(dead[0].value, recs[2].value, "original bytes kept");
    // Original headers are kept next to the dlq.* ones.
    assert_eq!(dead[0].headers["event_type"], "test.created");

    let m = consumer.metrics();
    assert_eq!(m.retries, 2 + 3);
    assert_eq!(m.processed[&("test.created".to_owned(), 1)], 4);
    assert_eq!(m.dead_lettered[&FailureClass::HandlerPanic], 1);
    assert_eq!(m.dead_lettered[&FailureClass::RetriesExhausted], 1);
    let report = consumer.shutdown(Duration::from_secs(10)).await;
    assert!(report.drained && report.committed, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhandled_events_skipped_or_dead_lettered_and_duplicates_skipped() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let (_, first) = event(0, "test.created", 1, created(1));
    let recs = vec![
        first.clone(),
        event(0, "test.deleted", 1, json!({"id": 1})).1,
        first, // a redelivered duplicate: same event_id
        event(
            0,
            "test.created",
            2,
            json!({"id": 2, "code": "12345", "status": "open"}),
        )
        .1,
    ];
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    for (group, policy) in [
        ("skip", UnhandledPolicy::Skip),
        ("dead-letter", UnhandledPolicy::DeadLetter),
    ] {
        let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
        let h = handled.clone();
        let mut cfg = config(&bootstrap, group, &[TOPIC_EVENTS]);
        cfg.unhandled = policy;
        cfg.dedup_window = 100;
        let consumer = ConsumerBuilder::<TestEvent>::new(cfg)
            .on::<CreatedV1, _, _>(move |e| {
                let h = h.clone();
                async move {
                    h.lock().unwrap().push(e.payload.id);
                    Ok(())
                }
            })
            .start()
            .unwrap();
        wait_committed(&consumer, &ends).await;
        assert_eq!(*handled.lock().unwrap(), vec![1], "{group}");
        let m = consumer.metrics();
        assert_eq!(m.duplicates, 1, "{group}");
        match policy {
            UnhandledPolicy::Skip => {
                assert_eq!(m.skipped_unhandled, 2);
                assert_eq!(m.dead_lettered_total(), 0);
            }
            UnhandledPolicy::DeadLetter => {
                assert_eq!(m.skipped_unhandled, 0);
                assert_eq!(m.dead_lettered[&FailureClass::Unhandled], 2);
                let dead =
                    read_dlq(&bootstrap, "test-events.dlq", 2, Duration::from_secs(30)).await;
                let src: Vec<(&str, i64)> =
                    dead.iter().map(|d| (d.class(), d.source().2)).collect();
                assert_eq!(
                    src,
                    vec![("unhandled", produced[1].1), ("unhandled", produced[3].1)]
                );
            }
        }
        consumer.shutdown(Duration::from_secs(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_outside_the_event_set_and_bad_config_fail_at_start() {
    use pmp_event_runtime::consumer::ConsumerError;
    let mut cfg = config("127.0.0.1:1", "g", &[]);
    let e = ConsumerBuilder::<TestEvent>::new(cfg.clone())
        .start()
        .err()
        .unwrap();
    assert!(matches!(e, ConsumerError::NoTopics), "{e}");
    let e = ConsumerBuilder::<TestEvent>::new(cfg.clone())
        .event_types(["test.nope"])
        .start()
        .err()
        .unwrap();
    assert!(matches!(e, ConsumerError::UnknownEventType(_)), "{e}");
    cfg.dead_letter_suffix.clear();
    let e = ConsumerBuilder::<TestEvent>::new(cfg)
        .event_types(["test.created"])
        .start()
        .err()
        .unwrap();
    assert!(matches!(e, ConsumerError::Config(_)), "{e}");
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Stranger {
    id: u32,
}

impl pmp_event_runtime::EventPayload for Stranger {
    const INFO: &'static pmp_event_runtime::SchemaInfo = &pmp_event_runtime::SchemaInfo {
        event_type: "test.stranger",
        version: 1,
        kind: pmp_event_runtime::EventKind::Event,
        topic: TOPIC_EVENTS,
        key_field: "id",
        schema_id: "https://pmp.example/schemas/events/test.stranger/v1.json",
        compatibility: "BACKWARD",
        schema_json: "{}",
    };
    fn partition_key(&self) -> String {
        self.id.to_string()
    }
}

#[tokio::test]
async fn handler_for_a_type_outside_the_set_is_refused() {
    use pmp_event_runtime::consumer::ConsumerError;
    let e = ConsumerBuilder::<TestEvent>::new(config("127.0.0.1:1", "g", &[TOPIC_EVENTS]))
        .on::<Stranger, _, _>(|_| async { Ok(()) })
        .start()
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            ConsumerError::HandlerNotInSet {
                event_type: "test.stranger",
                version: 1
            }
        ),
        "{e}"
    );
}

/// Partitions are handled concurrently, each in order: while the handler is stuck on a
/// message of partition 0 (a slow dependency, or retries), messages that arrive on
/// partition 1 are handled; once partition 0 is released, its messages follow in offset
/// order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_partition_does_not_hold_back_the_others() {
    let cluster = cluster(&[(TOPIC_EVENTS, 2)]);
    let bootstrap = cluster.bootstrap_servers();
    let kafka = producer(&bootstrap);
    // Partition 0: ids 1..=1000, and the handler blocks on id 1 until released. That is
    // more than its lane buffers, so the lane fills up and partition 0 must be paused
    // rather than stall receiving for partition 1.
    let p0: Vec<Rec> = (1..=1000u32)
        .map(|id| event(0, "test.created", 1, created(id)).1)
        .collect();
    let mut produced = produce(&kafka, TOPIC_EVENTS, &p0).await;

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let (entered_tx, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let (h, r) = (handled.clone(), release.clone());
    let consumer = ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "lanes", &[TOPIC_EVENTS]))
        .on::<CreatedV1, _, _>(move |e| {
            let (h, r, entered) = (h.clone(), r.clone(), entered_tx.clone());
            async move {
                if e.payload.id == 1 {
                    let _ = entered.send(());
                    r.notified().await;
                }
                h.lock().unwrap().push(e.payload.id);
                Ok(())
            }
        })
        .start()
        .unwrap();

    // Only once partition 0 is stuck do partition 1's messages exist.
    tokio::time::timeout(Duration::from_secs(60), entered_rx.recv())
        .await
        .expect("the handler never got partition 0's first message");
    let p1: Vec<Rec> = (5001..=5005u32)
        .map(|id| event(1, "test.created", 1, created(id)).1)
        .collect();
    produced.extend(produce(&kafka, TOPIC_EVENTS, &p1).await);
    let ends = ends(TOPIC_EVENTS, &produced);

    wait_for(
        "partition 1 handled while partition 0 is stuck (not held back by it)",
        Duration::from_secs(60),
        || handled.lock().unwrap().clone(),
        |h| (5001..=5005).all(|id| h.contains(&id)),
    )
    .await;
    assert!(
        handled.lock().unwrap().iter().all(|id| *id > 5000),
        "partition 0 must wait for its first message: {:?}",
        handled.lock().unwrap()
    );
    release.notify_one();
    wait_committed(&consumer, &ends).await;
    let handled = handled.lock().unwrap().clone();
    let p0: Vec<u32> = handled.iter().copied().filter(|id| *id < 5000).collect();
    let p1: Vec<u32> = handled.iter().copied().filter(|id| *id > 5000).collect();
    assert_eq!(
        p0,
        (1..=1000).collect::<Vec<u32>>(),
        "partition 0 in offset order, once each"
    );
    assert_eq!(
        p1,
        vec![5001, 5002, 5003, 5004, 5005],
        "partition 1 in offset order, once each"
    );
    consumer.shutdown(Duration::from_secs(10)).await;
}
