//! Faults on the real broker of `scripts/kafka-local`:
//! - the broker is SIGKILLed mid-stream while a producer thread keeps publishing, then
//!   restarted: every accepted event is on the topic (event_id set equal), per-key order of
//!   first occurrences is kept, and a validating consumer that ran through the outage resumes
//!   and receives every event;
//! - bad records written with a plain rdkafka producer land in the real `<topic>.dlq`.
//!
//! Kills and restarts the broker: run with `--test-threads=1` (as `scripts/test` does); the
//! steps hold [`fault_lock`], and a guard restarts the broker if a step panics.

mod e2e_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{all_of, read_back, robust_producer, run_name, WAIT};
use pmp_e2e_tests::{broker, fault_lock, LocalBroker};
use pmp_event_runtime::consumer::{dlq_headers, ConsumerBuilder, ConsumerConfig, FailureClass};
use pmp_event_runtime::producer::ConnectionState;
use pmp_event_runtime::{EventPayload, KafkaConfig};
use pmp_events::{AnyEvent, PatientDeletedV1};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use uuid::Uuid;

/// Restarts whatever is down when a test step panics, so later tests find a running broker.
struct RestartOnDrop<'a>(&'a LocalBroker);

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new(&self.0.script).arg("restart").status();
        }
    }
}

fn partitions(bootstrap: &str, topic: &str) -> i32 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("metadata of {topic}: {e}"));
    let n = md.topics()[0].partitions().len() as i32;
    assert!(n > 0, "{topic} has no partitions: run create-topics.sh");
    n
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The fault lock serializes whole tests, each on its own runtime: holding it across awaits
// is the point.
#[allow(clippy::await_holding_lock)]
async fn broker_sigkill_mid_stream_loses_nothing_and_keeps_key_order() {
    let _lock = fault_lock();
    let b = broker();
    b.ensure_topics();
    let _guard = RestartOnDrop(&b);
    let topic = PatientDeletedV1::TOPIC;
    let parts = partitions(&b.bootstrap, topic);
    let run = run_name("kill");
    let spool = tempfile::tempdir().unwrap();

    // A validating consumer that lives through the outage.
    let received: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
    let sink = Arc::clone(&received);
    let run_filter = run.clone();
    let consumer = ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(
        KafkaConfig::new(&b.bootstrap),
        run.clone(),
    ))
    .on::<PatientDeletedV1, _, _>(move |e| {
        let sink = Arc::clone(&sink);
        let run = run_filter.clone();
        async move {
            if e.producer == run {
                sink.lock().unwrap().insert(e.event_id);
            }
            Ok(())
        }
    })
    .start()
    .expect("consumer starts");

    // Publisher thread: keeps publishing through kill and restart; every publish must be
    // accepted. Keys are unique to this run; per key, the publish order is recorded.
    let producer = Arc::new(robust_producer(&b.bootstrap, &run, spool.path()));
    let stop = Arc::new(AtomicBool::new(false));
    let published: Arc<Mutex<Vec<(u64, Uuid)>>> = Arc::default();
    let base = 1 + u64::from(Uuid::new_v4().as_fields().0) * 16;
    let publisher = {
        let (producer, stop, published) = (producer.clone(), stop.clone(), published.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let patient_id = base + i % 8;
                let h = producer
                    .publish(PatientDeletedV1 {
                        patient_id,
                        reason: None,
                    })
                    .unwrap_or_else(|e| panic!("publish {i} refused: {e}"));
                published.lock().unwrap().push((patient_id, h.event_id()));
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let count = || published.lock().unwrap().len();

    wait_for("300 events before the kill", || count() >= 300);
    b.kafka_local(&["kill", "broker"]);
    let at_kill = count();
    wait_for("300 events while the broker is down", || {
        count() >= at_kill + 300
    });
    b.kafka_local(&["restart"]);
    let at_restart = count();
    wait_for("300 events after the restart", || {
        count() >= at_restart + 300
    });
    stop.store(true, Ordering::SeqCst);
    publisher.join().expect("publisher thread");
    let published = std::mem::take(&mut *published.lock().unwrap());
    assert!(
        at_restart > at_kill,
        "no events accepted while the broker was down"
    );

    wait_for("spool drained and producer Up", || {
        let m = producer.metrics();
        m.spool_depth == 0 && m.state == ConnectionState::Up
    });
    let report = producer.shutdown(Duration::from_secs(20)).await;
    assert_eq!(report.spooled, 0, "{report:?}");

    // Every accepted event is on the topic, nothing else under this run's name.
    let expected: HashSet<Uuid> = published.iter().map(|(_, id)| *id).collect();
    assert_eq!(expected.len(), published.len());
    let (bootstrap, run2) = (b.bootstrap.clone(), run.clone());
    let expected2 = expected.clone();
    let records = tokio::task::spawn_blocking(move || {
        read_back(&bootstrap, topic, parts, &run2, all_of(&expected2))
    })
    .await
    .unwrap();
    let got: HashSet<Uuid> = records.iter().map(|r| r.envelope.event_id).collect();
    assert!(got == expected, "read back ids differ from published ids");

    // Per key: first occurrences, in partition offset order, follow publish order.
    let mut by_key_published: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (k, id) in &published {
        by_key_published.entry(*k).or_default().push(*id);
    }
    let mut ordered = records.clone();
    ordered.sort_by_key(|r| (r.partition, r.offset));
    let mut first = HashSet::new();
    let mut by_key_read: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for r in &ordered {
        let key: u64 = String::from_utf8_lossy(r.key.as_deref().expect("record key"))
            .parse()
            .expect("numeric key");
        assert_eq!(r.envelope.payload["patient_id"], key, "key is patient_id");
        if first.insert(r.envelope.event_id) {
            by_key_read
                .entry(key)
                .or_default()
                .push(r.envelope.event_id);
        }
    }
    for (k, ids) in &by_key_published {
        assert!(
            by_key_read.get(k) == Some(ids),
            "per-key order broken for patient {k}"
        );
    }

    // The consumer resumed after the restart and saw every event.
    wait_for("the consumer received every event", || {
        expected.is_subset(&received.lock().unwrap())
    });
    let c = consumer.shutdown(Duration::from_secs(20)).await;
    assert!(c.drained, "{c:?}");
    eprintln!(
        "published {} ({} while down), {} records read back ({} duplicates)",
        published.len(),
        at_restart - at_kill,
        records.len(),
        records.len() - got.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The fault lock serializes whole tests, each on its own runtime: holding it across awaits
// is the point.
#[allow(clippy::await_holding_lock)]
async fn bad_records_land_in_the_real_dead_letter_topic() {
    let _lock = fault_lock();
    let b = broker();
    b.ensure_topics();
    let topic = PatientDeletedV1::TOPIC;
    let dlq = format!("{topic}.dlq");
    let run = run_name("dlq");

    // Raw records, keyed with this run's name so only they are looked for in the DLQ.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &b.bootstrap)
        .create()
        .unwrap();
    let schema_violation = serde_json::json!({
        "event_id": Uuid::now_v7(), "event_type": "patient.deleted", "version": 1,
        "timestamp": "2026-11-28T06:00:00Z", "producer": run, "payload": {"patient_id": 0}
    })
    .to_string();
    let bad: Vec<(String, Vec<u8>, FailureClass)> = vec![
        (
            format!("{run}-json"),
            b"{\"event_id\": ".to_vec(),
            FailureClass::NotJson,
        ),
        (
            format!("{run}-schema"),
            schema_violation.into_bytes(),
            FailureClass::SchemaViolation,
        ),
        (
            format!("{run}-type"),
            br#"{"event_type":"patient.teleported"}"#.to_vec(),
            FailureClass::NotEnvelope,
        ),
    ];
    for (key, value, _) in &bad {
        raw.send(
            FutureRecord::to(topic)
                .key(key)
                .payload(value)
                .headers(OwnedHeaders::new()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("raw record acknowledged");
    }

    let consumer = ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(
        KafkaConfig::new(&b.bootstrap),
        run.clone(),
    ))
    .on::<PatientDeletedV1, _, _>(|_| async { Ok(()) })
    .start()
    .expect("consumer starts");

    let (bootstrap, group) = (b.bootstrap.clone(), run.clone());
    let wanted: BTreeMap<String, FailureClass> =
        bad.iter().map(|(k, _, c)| (k.clone(), *c)).collect();
    let found = tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", run_name("dlq-reader"))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&dlq, 0, Offset::Beginning)
            .unwrap();
        c.assign(&tpl).unwrap();
        let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
        let until = Instant::now() + WAIT;
        while found.len() < wanted.len() {
            assert!(
                Instant::now() < until,
                "{dlq}: found {} of {} dead letters",
                found.len(),
                wanted.len()
            );
            let Some(m) = c.poll(Duration::from_millis(200)) else {
                continue;
            };
            let m = m.expect("consume dlq");
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            if !wanted.contains_key(&key) {
                continue;
            }
            let h = |name: &str| {
                m.headers()
                    .and_then(|hs| hs.iter().find(|x| x.key == name).and_then(|x| x.value))
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            if h(dlq_headers::GROUP) != group {
                continue;
            }
            assert_eq!(h(dlq_headers::SOURCE_TOPIC), topic, "{key}");
            found.insert(key, (h(dlq_headers::CLASS), h(dlq_headers::POINTER)));
        }
        (found, wanted)
    })
    .await
    .unwrap();
    let (found, wanted) = found;
    for (key, class) in &wanted {
        assert_eq!(found[key].0, class.as_str(), "class of {key}");
    }
    assert_eq!(found[&format!("{run}-schema")].1, "/payload/patient_id");
    let report = consumer.shutdown(Duration::from_secs(20)).await;
    assert!(report.drained, "{report:?}");
    assert!(report.committed, "{report:?}");
}
