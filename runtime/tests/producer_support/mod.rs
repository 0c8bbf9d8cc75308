//! Shared helpers of the producer tests: a hand-written payload type, mock cluster setup,
//! and a verifier that consumes the topic back.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use pmp_event_runtime::producer::{
    ConnectionState, DeliveryHandle, Durability, ProducerConfig, RobustProducer,
};
use pmp_event_runtime::{EventKind, EventPayload, KafkaConfig, RawEnvelope, SchemaInfo};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const TOPIC: &str = "test-events";
// 16 partitions keep ~50k test events under the mock broker's 5 MB per-partition
// retention, so the verifier can read every event back.
pub const PARTITIONS: i32 = 16;

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/test.happened/v1.json",
  "type": "object",
  "additionalProperties": false,
  "required": ["entity_id", "n", "note"],
  "properties": {
    "entity_id": {"type": "string", "minLength": 1},
    "n": {"type": "integer", "minimum": 0},
    "note": {"type": "string", "maxLength": 200}
  }
}"#;

static INFO: SchemaInfo = SchemaInfo {
    event_type: "test.happened",
    version: 1,
    kind: EventKind::Event,
    topic: TOPIC,
    key_field: "entity_id",
    schema_id: "https://pmp.example/schemas/events/test.happened/v1.json",
    compatibility: "BACKWARD_TRANSITIVE",
    schema_json: SCHEMA,
};

/// A test event: `n` counts up per `entity_id`, so per-key order can be checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEvent {
    pub entity_id: String,
    pub n: u64,
    pub note: String,
}

impl EventPayload for TestEvent {
    const INFO: &'static SchemaInfo = &INFO;
    fn partition_key(&self) -> String {
        self.entity_id.clone()
    }
}

pub fn event(i: u64, keys: u64) -> TestEvent {
    TestEvent {
        entity_id: format!("entity-{}", i % keys),
        n: i / keys,
        note: "x".repeat(40),
    }
}

/// Log to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub fn mock_cluster() -> MockCluster<'static, DefaultProducerContext> {
    init_tracing();
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster
        .create_topic(TOPIC, PARTITIONS, 1)
        .expect("create topic");
    cluster
}

pub fn config(bootstrap: &str, dir: &Path) -> ProducerConfig {
    ProducerConfig::new("test-service", KafkaConfig::new(bootstrap), dir)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(1000))
}

pub fn write_ahead(cfg: ProducerConfig) -> ProducerConfig {
    cfg.with_durability(Durability::write_ahead())
}

/// Publish events `range` (keyed over `keys` entities); return handles.
pub fn publish_range(
    p: &RobustProducer,
    range: std::ops::Range<u64>,
    keys: u64,
) -> Vec<DeliveryHandle> {
    range
        .map(|i| p.publish(event(i, keys)).expect("publish accepted"))
        .collect()
}

/// Poll until `cond` holds; panic with `what` after a generous bound (a failure guard,
/// not a timing assertion).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub async fn wait_until_async(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until the producer has nothing left to send.
pub async fn wait_drained(p: &RobustProducer) {
    wait_until_async("spool drained and state Up", || {
        let m = p.metrics();
        m.spool_depth == 0 && m.state == ConnectionState::Up
    })
    .await;
}

#[derive(Debug, Clone)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub event_id: Uuid,
    pub entity_id: String,
    pub n: u64,
}

/// Read the topic from the beginning until every id in `expected` was seen.
pub fn consume_until(bootstrap: &str, expected: &HashSet<Uuid>) -> Vec<Consumed> {
    let total = expected.len();
    let mut found = 0;
    consume_while(bootstrap, |new_id| {
        if new_id.is_some_and(|id| expected.contains(&id)) {
            found += 1;
        }
        (found < total).then(|| format!("consumed {found} of {total} expected events"))
    })
}

/// Read the topic from the beginning until `n` distinct events were seen.
pub fn consume_distinct(bootstrap: &str, n: usize) -> Vec<Consumed> {
    let mut distinct = 0;
    consume_while(bootstrap, |new_id| {
        distinct += usize::from(new_id.is_some());
        (distinct < n).then(|| format!("consumed {distinct} of {n} events"))
    })
}

/// Consume while `missing` (told each newly seen id) says what is still missing; panics
/// with that after a bound.
fn consume_while(
    bootstrap: &str,
    mut missing: impl FnMut(Option<Uuid>) -> Option<String>,
) -> Vec<Consumed> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "verifier")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(TOPIC, p, Offset::Beginning)
            .expect("tpl");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let until = Instant::now() + Duration::from_secs(120);
    let mut last_new = None;
    while let Some(what) = missing(last_new.take()) {
        assert!(Instant::now() < until, "{what}");
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.expect("consume");
        let env = RawEnvelope::parse(msg.payload().expect("value")).expect("envelope");
        let headers = msg.headers().expect("headers");
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8(v.to_vec()).unwrap())
        };
        assert_eq!(header("event_id"), Some(env.event_id.to_string()));
        assert_eq!(header("event_type").as_deref(), Some("test.happened"));
        assert_eq!(header("version").as_deref(), Some("1"));
        assert_eq!(env.producer, "test-service");
        let payload: TestEvent = serde_json::from_value(env.payload).expect("payload");
        assert_eq!(
            msg.key(),
            Some(payload.entity_id.as_bytes()),
            "key is the partition key"
        );
        if seen.insert(env.event_id) {
            last_new = Some(env.event_id);
        }
        out.push(Consumed {
            partition: msg.partition(),
            offset: msg.offset(),
            event_id: env.event_id,
            entity_id: payload.entity_id,
            n: payload.n,
        });
    }
    out
}

/// The consumed ids equal `published`; per key, first occurrences come in publish order.
/// Returns the number of duplicates.
pub fn verify(published: &HashSet<Uuid>, consumed: &[Consumed]) -> usize {
    let ids: HashSet<Uuid> = consumed.iter().map(|c| c.event_id).collect();
    assert_eq!(ids.len(), published.len(), "distinct ids consumed");
    assert!(ids == *published, "consumed ids differ from published ids");
    check_key_order(consumed);
    consumed.len() - ids.len()
}

/// Per key (one key lives in one partition), first occurrences have increasing `n`.
pub fn check_key_order(consumed: &[Consumed]) {
    let mut by_partition: HashMap<i32, Vec<&Consumed>> = HashMap::new();
    for c in consumed {
        by_partition.entry(c.partition).or_default().push(c);
    }
    let mut first_seen = HashSet::new();
    let mut last_n: HashMap<&str, u64> = HashMap::new();
    for (_, mut msgs) in by_partition {
        msgs.sort_by_key(|c| c.offset);
        for c in msgs {
            if !first_seen.insert(c.event_id) {
                continue;
            }
            if let Some(prev) = last_n.get(c.entity_id.as_str()) {
                assert!(
                    c.n > *prev,
                    "order broken for {}: {} after {}",
                    c.entity_id,
                    c.n,
                    prev
                );
            }
            last_n.insert(&c.entity_id, c.n);
        }
    }
}

pub fn ids(handles: &[DeliveryHandle]) -> HashSet<Uuid> {
    handles.iter().map(|h| h.event_id()).collect()
}
