//! Shared pieces of the runtime-level consumer tests: a small hand-written event set
//! (`test.created` v1 and v2, `test.deleted` v1) with schemas, a mock cluster, a raw record
//! producer and a dead-letter reader.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use pmp_event_runtime::consumer::{Consumer, ConsumerConfig, RetryPolicy};
use pmp_event_runtime::{
    DecodeError, Envelope, EventKind, EventPayload, EventSet, KafkaConfig, RawEnvelope, SchemaInfo,
};
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

pub const CREATED_V1_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/test.created/v1.json",
  "type": "object", "additionalProperties": false,
  "required": ["id", "code", "status"],
  "properties": {
    "id": {"type": "integer", "minimum": 1},
    "code": {"type": "string", "pattern": "^[0-9]{5}$"},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "name": {"type": "string", "maxLength": 100, "x-pii": true}
  }
}"#;

pub const CREATED_V2_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/test.created/v2.json",
  "type": "object", "additionalProperties": false,
  "required": ["id", "code", "status"],
  "properties": {
    "id": {"type": "integer", "minimum": 1},
    "code": {"type": "string", "pattern": "^[0-9]{5}$"},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "name": {"type": "string", "maxLength": 100, "x-pii": true},
    "insurance": {"type": "string", "enum": ["statutory", "private"]}
  }
}"#;

pub const DELETED_V1_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/test.deleted/v1.json",
  "type": "object", "additionalProperties": false,
  "required": ["id"],
  "properties": {"id": {"type": "integer", "minimum": 1}}
}"#;

pub const TOPIC_EVENTS: &str = "test-events";

const fn info(
    event_type: &'static str,
    version: u32,
    schema_id: &'static str,
    schema_json: &'static str,
) -> SchemaInfo {
    SchemaInfo {
        event_type,
        version,
        kind: EventKind::Event,
        topic: TOPIC_EVENTS,
        key_field: "id",
        schema_id,
        compatibility: "BACKWARD",
        schema_json,
    }
}

const CREATED_V1_INFO: SchemaInfo = info(
    "test.created",
    1,
    "https://pmp.example/schemas/events/test.created/v1.json",
    CREATED_V1_SCHEMA,
);
const CREATED_V2_INFO: SchemaInfo = info(
    "test.created",
    2,
    "https://pmp.example/schemas/events/test.created/v2.json",
    CREATED_V2_SCHEMA,
);
const DELETED_V1_INFO: SchemaInfo = info(
    "test.deleted",
    1,
    "https://pmp.example/schemas/events/test.deleted/v1.json",
    DELETED_V1_SCHEMA,
);
static SCHEMAS: [SchemaInfo; 3] = [CREATED_V1_INFO, CREATED_V2_INFO, DELETED_V1_INFO];

/// `id` is `u32` while the schema allows any integer ≥ 1: a payload can validate and still
/// fail typed deserialization, which is the `deserialize` class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedV1 {
    pub id: u32,
    pub code: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedV2 {
    pub id: u32,
    pub code: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedV1 {
    pub id: u32,
}

impl EventPayload for CreatedV1 {
    const INFO: &'static SchemaInfo = &CREATED_V1_INFO;
    fn partition_key(&self) -> String {
        self.id.to_string()
    }
}
impl EventPayload for CreatedV2 {
    const INFO: &'static SchemaInfo = &CREATED_V2_INFO;
    fn partition_key(&self) -> String {
        self.id.to_string()
    }
}
impl EventPayload for DeletedV1 {
    const INFO: &'static SchemaInfo = &DELETED_V1_INFO;
    fn partition_key(&self) -> String {
        self.id.to_string()
    }
}

/// The hand-written counterpart of the generated all-events enum.
#[derive(Debug, Clone)]
pub enum TestEvent {
    CreatedV1(Envelope<CreatedV1>),
    CreatedV2(Envelope<CreatedV2>),
    DeletedV1(Envelope<DeletedV1>),
}

impl TestEvent {
    pub fn event_id(&self) -> Uuid {
        match self {
            TestEvent::CreatedV1(e) => e.event_id,
            TestEvent::CreatedV2(e) => e.event_id,
            TestEvent::DeletedV1(e) => e.event_id,
        }
    }
}

impl EventSet for TestEvent {
    fn schemas() -> &'static [SchemaInfo] {
        &SCHEMAS
    }
    fn from_raw(raw: RawEnvelope) -> Result<Self, DecodeError> {
        match (raw.event_type.as_str(), raw.version) {
            ("test.created", 1) => raw.into_typed().map(TestEvent::CreatedV1),
            ("test.created", 2) => raw.into_typed().map(TestEvent::CreatedV2),
            ("test.deleted", 1) => raw.into_typed().map(TestEvent::DeletedV1),
            ("test.created" | "test.deleted", v) => Err(DecodeError::UnknownVersion {
                event_type: raw.event_type,
                version: v,
            }),
            _ => Err(DecodeError::UnknownEventType {
                event_type: raw.event_type,
            }),
        }
    }
    fn kind(&self) -> (&'static str, u32) {
        match self {
            TestEvent::CreatedV1(_) => ("test.created", 1),
            TestEvent::CreatedV2(_) => ("test.created", 2),
            TestEvent::DeletedV1(_) => ("test.deleted", 1),
        }
    }
}

/// A mock cluster with `topics` (name, partitions) and their `.dlq` topics (1 partition).
pub fn cluster(
    topics: &[(&str, i32)],
) -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let c = MockCluster::new(1).expect("mock cluster");
    for (t, p) in topics {
        c.create_topic(t, *p, 1).expect("create topic");
        c.create_topic(&format!("{t}.dlq"), 1, 1)
            .expect("create dlq topic");
    }
    c
}

/// Consumer settings suited to tests: fast commits, short backoff.
pub fn config(bootstrap: &str, group: &str, topics: &[&str]) -> ConsumerConfig {
    // The mock cluster only notices a closed member when its session times out (it does not
    // act on LeaveGroup), so a restart in the same group waits for this.
    let kafka = KafkaConfig::new(bootstrap).set("session.timeout.ms", "6000");
    let mut cfg = ConsumerConfig::new(kafka, group);
    cfg.topics = topics.iter().map(|t| t.to_string()).collect();
    cfg.commit_interval = Duration::from_millis(100);
    cfg.retry = RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
    };
    cfg.dlq_delivery_timeout = Duration::from_secs(5);
    cfg
}

/// One record to produce.
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
}

impl Rec {
    pub fn value(partition: i32, value: impl Into<Vec<u8>>) -> Self {
        Rec {
            partition,
            key: Some(b"k".to_vec()),
            value: Some(value.into()),
            headers: vec![],
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// Envelope JSON around `payload`, with a fresh event id.
pub fn envelope(event_type: &str, version: u32, payload: Value) -> (Uuid, Vec<u8>) {
    let id = Uuid::now_v7();
    let v = json!({
        "event_id": id, "event_type": event_type, "version": version,
        "timestamp": "2024-05-01T10:00:00Z", "producer": "tests", "payload": payload,
    });
    (id, serde_json::to_vec(&v).unwrap())
}

/// A valid event as a record with the usual headers.
pub fn event(partition: i32, event_type: &str, version: u32, payload: Value) -> (Uuid, Rec) {
    let (id, bytes) = envelope(event_type, version, payload);
    let rec = Rec::value(partition, bytes)
        .header("event_type", event_type)
        .header("version", &version.to_string())
        .header("event_id", &id.to_string());
    (id, rec)
}

pub fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.max.bytes", "10000000")
        .create()
        .expect("producer")
}

/// Produce in order; returns each record's (partition, offset).
pub async fn produce(p: &FutureProducer, topic: &str, recs: &[Rec]) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    for r in recs {
        let mut hdrs = OwnedHeaders::new();
        for (k, v) in &r.headers {
            hdrs = hdrs.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut rec: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(topic).partition(r.partition).headers(hdrs);
        if let Some(k) = &r.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v.as_slice());
        }
        let d = p
            .send(rec, Timeout::After(Duration::from_secs(10)))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
        out.push((d.partition, d.offset));
    }
    out
}

/// A dead-letter record as read back.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: BTreeMap<String, String>,
}

impl DeadLetter {
    pub fn class(&self) -> &str {
        &self.headers["dlq.class"]
    }
    pub fn source(&self) -> (String, i32, i64) {
        (
            self.headers["dlq.source.topic"].clone(),
            self.headers["dlq.source.partition"].parse().unwrap(),
            self.headers["dlq.source.offset"].parse().unwrap(),
        )
    }
}

/// Read `topic` (partition 0) from the start until `n` records arrived; panics after `limit`
/// (the test is stuck, not slow).
pub async fn read_dlq(bootstrap: &str, topic: &str, n: usize, limit: Duration) -> Vec<DeadLetter> {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("dlq-reader-{}", Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create()
        .expect("dlq reader");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while out.len() < n {
        let m = match tokio::time::timeout_at(deadline, c.recv()).await {
            Ok(m) => m.expect("dlq recv"),
            Err(_) => panic!(
                "only {} of {n} dead letters arrived in {topic}: {out:#?}",
                out.len()
            ),
        };
        let mut headers = BTreeMap::new();
        if let Some(h) = m.headers() {
            for h in h.iter() {
                headers.insert(
                    h.key.to_owned(),
                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                );
            }
        }
        out.push(DeadLetter {
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers,
        });
    }
    out
}

/// Poll `f` over `state()` until it holds; panics with the last state after `limit`
/// (stuck, not slow).
pub async fn wait_for<T: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    state: impl Fn() -> T,
    f: impl Fn(&T) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let m = state();
        if f(&m) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("gave up waiting for {what}; state: {m:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 60 s) until the consumer's committed offsets cover `ends`.
pub async fn wait_committed(consumer: &Consumer, ends: &BTreeMap<(String, i32), i64>) {
    wait_for(
        "offsets committed",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| covers(&m.committed_offsets, ends),
    )
    .await;
}

/// Next offset per partition after the produced records.
pub fn ends(topic: &str, produced: &[(i32, i64)]) -> BTreeMap<(String, i32), i64> {
    let mut out = BTreeMap::new();
    for (p, o) in produced {
        let e = out.entry((topic.to_owned(), *p)).or_insert(0);
        *e = (*e).max(o + 1);
    }
    out
}

/// Whether every partition in `ends` has its end offset in `offsets`.
pub fn covers(offsets: &BTreeMap<(String, i32), i64>, ends: &BTreeMap<(String, i32), i64>) -> bool {
    ends.iter()
        .all(|(k, end)| offsets.get(k).is_some_and(|o| o >= end))
}

/// The committed offsets of `group` as the broker reports them.
pub fn broker_committed(
    bootstrap: &str,
    group: &str,
    ends: &BTreeMap<(String, i32), i64>,
) -> BTreeMap<(String, i32), i64> {
    let c: rdkafka::consumer::BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("offset reader");
    let mut tpl = TopicPartitionList::new();
    for (t, p) in ends.keys() {
        tpl.add_partition(t, *p);
    }
    let got = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    got.elements()
        .into_iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some(((e.topic().to_owned(), e.partition()), o)),
            _ => None,
        })
        .collect()
}
