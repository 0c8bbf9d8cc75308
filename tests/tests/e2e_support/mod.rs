//! Shared pieces of the end-to-end tests: the catalog's examples as typed events, publishing
//! any catalog event through the robust producer, and a raw read-back of a topic.
//!
//! Runs share the broker's topics with every earlier run, so each run publishes under its own
//! `producer` name ([`run_name`]) and read-backs keep only the records of that name.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use pmp_event_runtime::producer::{DeliveryHandle, ProducerConfig, PublishError, RobustProducer};
use pmp_event_runtime::{EventSet, KafkaConfig, RawEnvelope, SchemaInfo};
use pmp_events::AnyEvent;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use uuid::Uuid;

/// Upper bound of every wait in these tests: a guard against hangs, not a timing assertion.
pub const WAIT: Duration = Duration::from_secs(180);

/// A name unique to this run, e.g. `e2e-catalog-<uuid>`.
pub fn run_name(what: &str) -> String {
    format!("e2e-{what}-{}", Uuid::new_v4().simple())
}

/// The root `examples` of a schema (the catalog requires at least two).
pub fn examples(info: &SchemaInfo) -> Vec<Value> {
    let schema: Value = serde_json::from_str(info.schema_json).expect("bundled schema is JSON");
    let ex = schema["examples"].as_array().cloned().unwrap_or_default();
    assert!(
        ex.len() >= 2,
        "{} v{} has fewer than two examples",
        info.event_type,
        info.version
    );
    ex
}

/// `payload` in a fresh envelope of `info`'s type and version from `producer`, decoded into
/// its typed variant.
pub fn typed_event(info: &SchemaInfo, payload: Value, producer: &str) -> AnyEvent {
    let bytes = json!({
        "event_id": Uuid::now_v7(),
        "event_type": info.event_type,
        "version": info.version,
        "timestamp": "2026-11-28T06:00:00Z",
        "producer": producer,
        "payload": payload,
    })
    .to_string();
    AnyEvent::decode(bytes.as_bytes()).unwrap_or_else(|e| {
        panic!(
            "example of {} v{} does not decode: {e}",
            info.event_type, info.version
        )
    })
}

/// The envelope's `event_id` of any catalog event.
pub fn event_id(e: &AnyEvent) -> Uuid {
    e.event_id()
}

/// The envelope's `producer` and the payload as JSON.
pub fn producer_and_payload(e: &AnyEvent) -> (String, Value) {
    let envelope: Value =
        serde_json::from_slice(&e.to_json().expect("event serializes")).expect("envelope JSON");
    (
        envelope["producer"].as_str().unwrap_or_default().to_owned(),
        envelope["payload"].clone(),
    )
}

/// Publish any catalog event with its own envelope (`event_id` and `producer` kept), through
/// the generated set's own accessors: no list of event types here.
pub fn publish_any(p: &RobustProducer, e: AnyEvent) -> Result<DeliveryHandle, PublishError> {
    let envelope = e.to_json().expect("event serializes");
    p.publish_serialized(e.info(), e.partition_key(), e.event_id(), envelope)
}

/// A robust producer on the local broker with its spool in `dir`; short reconnection
/// backoff so a restarted broker is found soon.
pub fn robust_producer(bootstrap: &str, service: &str, dir: &Path) -> RobustProducer {
    let cfg = ProducerConfig::new(service, KafkaConfig::new(bootstrap), dir)
        .with_backoff(Duration::from_millis(100), Duration::from_secs(2));
    RobustProducer::new(cfg).expect("producer config")
}

/// One record read back from a topic.
#[derive(Debug, Clone)]
pub struct ReadBack {
    /// Partition of the record.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
    /// The record key.
    pub key: Option<Vec<u8>>,
    /// The envelope.
    pub envelope: RawEnvelope,
}

/// Read `topic` (all `partitions`) from the beginning with a plain client, keeping the
/// envelopes whose `producer` is `producer`, until `done` holds for what was kept; panics
/// after [`WAIT`] naming what is still missing.
pub fn read_back(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    producer: &str,
    mut done: impl FnMut(&[ReadBack]) -> Result<(), String>,
) -> Vec<ReadBack> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", run_name("verifier"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("verifier consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition list");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let until = Instant::now() + WAIT;
    // `done` may rebuild its view of everything read so far, so it is asked when the topic
    // is idle or every 1,024 records, not after every record (that was quadratic).
    let mut ask = true;
    loop {
        if ask || out.len() % 1024 == 0 {
            let missing = match done(&out) {
                Ok(()) => return out,
                Err(m) => m,
            };
            assert!(Instant::now() < until, "{topic}: {missing}");
        }
        ask = false;
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            ask = true;
            continue;
        };
        let msg = msg.unwrap_or_else(|e| panic!("{topic}: consume error {e}"));
        let Some(value) = msg.payload() else { continue };
        // Other runs and the dead-letter tests put records here that are no envelopes.
        let Ok(envelope) = RawEnvelope::parse(value) else {
            continue;
        };
        if envelope.producer != producer {
            continue;
        }
        let id_header = msg.headers().and_then(|h| {
            h.iter()
                .find(|h| h.key == "event_id")
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        });
        assert_eq!(
            id_header,
            Some(envelope.event_id.to_string()),
            "{topic}/{}/{}: event_id header",
            msg.partition(),
            msg.offset()
        );
        out.push(ReadBack {
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(<[u8]>::to_vec),
            envelope,
        });
    }
}

/// A `done` predicate for [`read_back`]: every id of `expected` was read.
pub fn all_of(expected: &HashSet<Uuid>) -> impl FnMut(&[ReadBack]) -> Result<(), String> + '_ {
    move |got| {
        let seen: HashSet<Uuid> = got.iter().map(|r| r.envelope.event_id).collect();
        let missing = expected.difference(&seen).count();
        if missing == 0 {
            Ok(())
        } else {
            Err(format!(
                "{missing} of {} events not read back",
                expected.len()
            ))
        }
    }
}

/// A dead letter as read back: value length and headers.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Length of the value; `None` for a dead letter without the value.
    pub value_len: Option<usize>,
    /// Every header (original and `dlq.*`), values as lossy UTF-8.
    pub headers: std::collections::BTreeMap<String, String>,
}

/// Read the dead-letter topic `dlq` (partition 0) from the beginning, keeping the records
/// whose `dlq.group` is `group`, until `done` holds for what was kept; panics after [`WAIT`].
pub fn dead_letters(
    bootstrap: &str,
    dlq: &str,
    group: &str,
    mut done: impl FnMut(&[DeadLetter]) -> bool,
) -> Vec<DeadLetter> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", run_name("dlq-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("dlq reader");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(dlq, 0, Offset::Beginning)
        .expect("partition list");
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let until = Instant::now() + WAIT;
    while !done(&out) {
        assert!(Instant::now() < until, "{dlq}: only {out:#?}");
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.unwrap_or_else(|e| panic!("{dlq}: consume error {e}"));
        let headers: std::collections::BTreeMap<String, String> = msg
            .headers()
            .iter()
            .flat_map(|h| h.iter())
            .map(|h| {
                (
                    h.key.to_owned(),
                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                )
            })
            .collect();
        if headers.get("dlq.group").map(String::as_str) == Some(group) {
            out.push(DeadLetter {
                value_len: msg.payload().map(<[u8]>::len),
                headers,
            });
        }
    }
    out
}
