//! One oversized dead letter must not stall its partition (issue 10, part 1), on the real
//! broker with every topic at its default settings (`max.message.bytes` 1,048,588).
//!
//! A schema-violating record of 1,048,500 bytes fits the source topic, but its dead letter
//! (the same value plus the `dlq.*` headers) does not fit the dead-letter topic. The old
//! consumer retried that publish forever: nothing after the record was handled or committed,
//! and a restart stopped at it again. Now:
//! - with the default size guard the record is dead-lettered as `oversized`, without the
//!   value, before it is even parsed;
//! - with a guard raised past it, the DLQ topic refuses the full dead letter (a permanent
//!   error) and the consumer sends it without the value, keeping the class
//!   `schema_violation`.
//!
//! In both cases the good records after it are handled and committed.

mod e2e_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{dead_letters, examples, run_name, WAIT};
use pmp_e2e_tests::broker;
use pmp_event_runtime::consumer::{
    Consumer, ConsumerBuilder, ConsumerConfig, FailureClass, DEFAULT_MAX_MESSAGE_BYTES,
};
use pmp_event_runtime::{EventPayload, KafkaConfig};
use pmp_events::{AnyEvent, PatientCreatedV1};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::json;
use uuid::Uuid;

/// Size of the bad record's value, as in the issue.
const BAD_SIZE: usize = 1_048_500;

/// Create `names` with one partition and no config overrides (broker defaults).
async fn create_default_topics(bootstrap: &str, names: &[&str]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, 1, TopicReplication::Fixed(1)))
        .collect();
    let results = admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .expect("create topics");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
    // The DLQ topic really has the broker default limit.
    let dlq = names[1];
    let configs = admin
        .describe_configs(&[ResourceSpecifier::Topic(dlq)], &AdminOptions::new())
        .await
        .expect("describe configs");
    let limit = configs[0]
        .as_ref()
        .expect("dlq config")
        .get("max.message.bytes")
        .and_then(|e| e.value.clone());
    assert_eq!(limit.as_deref(), Some("1048588"), "{dlq} max.message.bytes");
}

/// A `patient.created` v1 envelope with an undeclared property that pads it to exactly
/// `BAD_SIZE` bytes: valid JSON and a valid envelope, but a schema violation.
fn bad_record(producer: &str) -> Vec<u8> {
    let mut payload = examples(PatientCreatedV1::INFO)[0].clone();
    payload["padding"] = json!("");
    let envelope = |pad: usize| {
        let mut p = payload.clone();
        p["padding"] = json!("x".repeat(pad));
        json!({
            "event_id": Uuid::now_v7(), "event_type": "patient.created", "version": 1,
            "timestamp": "2026-11-28T06:00:00Z", "producer": producer, "payload": p,
        })
        .to_string()
        .into_bytes()
    };
    let base = envelope(0).len();
    let bytes = envelope(BAD_SIZE - base);
    assert_eq!(bytes.len(), BAD_SIZE);
    bytes
}

fn good_record(producer: &str, n: usize) -> (Uuid, Vec<u8>) {
    let id = Uuid::now_v7();
    let payload = examples(PatientCreatedV1::INFO)[n % 2].clone();
    let bytes = json!({
        "event_id": id, "event_type": "patient.created", "version": 1,
        "timestamp": "2026-11-28T06:00:00Z", "producer": producer, "payload": payload,
    })
    .to_string()
    .into_bytes();
    (id, bytes)
}

fn start(
    bootstrap: &str,
    topic: &str,
    group: &str,
    max_message_bytes: usize,
    handled: &Arc<Mutex<Vec<Uuid>>>,
) -> Consumer {
    let mut cfg = ConsumerConfig::new(KafkaConfig::new(bootstrap), group);
    cfg.topics = vec![topic.to_owned()];
    cfg.max_message_bytes = max_message_bytes;
    cfg.commit_interval = Duration::from_millis(200);
    cfg.dlq_delivery_timeout = Duration::from_secs(10);
    let sink = Arc::clone(handled);
    ConsumerBuilder::<AnyEvent>::new(cfg)
        .on::<PatientCreatedV1, _, _>(move |e| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(e.event_id);
                Ok(())
            }
        })
        .start()
        .expect("consumer starts")
}

/// Waits until `consumer` handled `expected` and committed up to `end` (a hang guard, not
/// a timing assertion: the old code never got there).
async fn wait_done(
    consumer: &Consumer,
    topic: &str,
    end: i64,
    handled: &Arc<Mutex<Vec<Uuid>>>,
    expected: &[Uuid],
) {
    let until = Instant::now() + Duration::from_secs(120).min(WAIT);
    loop {
        let m = consumer.metrics();
        let committed = m.committed_offsets.get(&(topic.to_owned(), 0)).copied();
        if handled.lock().unwrap().as_slice() == expected && committed == Some(end) {
            return;
        }
        assert!(
            Instant::now() < until,
            "partition stalled: handled {:?} of {expected:?}, committed {committed:?} of {end}; {m:#?}",
            handled.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_too_large_for_the_dlq_topic_does_not_stall_the_partition() {
    let b = broker();
    let run = run_name("dlq-size");
    let topic = run.clone();
    let dlq = format!("{topic}.dlq");
    create_default_topics(&b.bootstrap, &[&topic, &dlq]).await;

    // The bad record, then good ones behind it, all on the one partition. No headers and a
    // short key, so the record fits the topic's default limit.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &b.bootstrap)
        .set("message.max.bytes", "2000000")
        .create()
        .expect("producer");
    let mut records = vec![bad_record(&run)];
    let mut good = Vec::new();
    for n in 0..3 {
        let (id, bytes) = good_record(&run, n);
        good.push(id);
        records.push(bytes);
    }
    let mut bad_offset = None;
    let mut end = 0;
    for r in &records {
        let offset = producer
            .send(
                FutureRecord::<[u8], [u8]>::to(&topic)
                    .key(b"42")
                    .payload(r.as_slice()),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("the broker takes the record")
            .offset;
        bad_offset.get_or_insert(offset);
        end = offset + 1;
    }
    let bad_offset = bad_offset.expect("produced");

    // Default guard: `oversized`, value left out.
    const { assert!(BAD_SIZE > DEFAULT_MAX_MESSAGE_BYTES) };
    let group_default = format!("{run}-default-guard");
    let handled: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let consumer = start(
        &b.bootstrap,
        &topic,
        &group_default,
        DEFAULT_MAX_MESSAGE_BYTES,
        &handled,
    );
    wait_done(&consumer, &topic, end, &handled, &good).await;
    let m = consumer.metrics();
    assert_eq!(m.dead_lettered.get(&FailureClass::Oversized), Some(&1));
    assert!(m.dlq_unwritable.is_empty());
    consumer.shutdown(Duration::from_secs(10)).await;

    // A guard raised past the record: it is parsed, violates its schema, and the DLQ topic
    // refuses the full dead letter; it goes again without the value.
    let group_raised = format!("{run}-raised-guard");
    let handled: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let consumer = start(&b.bootstrap, &topic, &group_raised, 2 << 20, &handled);
    wait_done(&consumer, &topic, end, &handled, &good).await;
    let m = consumer.metrics();
    assert_eq!(
        m.dead_lettered.get(&FailureClass::SchemaViolation),
        Some(&1)
    );
    assert_eq!(m.dlq_value_dropped, 1, "{m:#?}");
    assert!(m.dlq_unwritable.is_empty());
    consumer.shutdown(Duration::from_secs(10)).await;

    for (group, class) in [
        (&group_default, "oversized"),
        (&group_raised, "schema_violation"),
    ] {
        let letters = dead_letters(&b.bootstrap, &dlq, group, |l| !l.is_empty());
        assert_eq!(letters.len(), 1, "{letters:?}");
        let l = &letters[0];
        assert_eq!(l.headers["dlq.class"], class, "{l:?}");
        assert_eq!(l.value_len, None, "{l:?}");
        assert_eq!(l.headers["dlq.original_size"], BAD_SIZE.to_string());
        assert_eq!(l.headers["dlq.source.offset"], bad_offset.to_string());
        if class == "schema_violation" {
            assert_eq!(l.headers["dlq.pointer"], "/payload");
        }
    }
}
