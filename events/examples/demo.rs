//! The one-command demo: `cargo run --release --example demo`.
//!
//! Without `KAFKA_BOOTSTRAP_SERVERS` it starts librdkafka's embedded mock cluster, creates
//! every topic of `schemas/topics.json` (plus its dead-letter topic), and then:
//!
//! 1. publishes every example of every (event type, version) of the catalog, many times
//!    with varied keys, through the [`RobustProducer`] (validation before send on);
//! 2. takes every broker down while it keeps publishing, so events are spooled to disk;
//! 3. brings the brokers back, so the spool drains, and publishes some more;
//! 4. injects bad records with a raw rdkafka producer (not JSON, not UTF-8, unknown type,
//!    schema violations, header mismatch, ...);
//! 5. consumes everything with the validating consumer over `pmp_events::AnyEvent` and reads
//!    the dead-letter topics back.
//!
//! It ends with a summary table and exits 0 only if every count agrees: each published
//! event consumed, each bad record dead-lettered with the expected class, the spool empty.
//! With `KAFKA_BOOTSTRAP_SERVERS` (and the other `KAFKA_*` settings) it runs against that
//! cluster instead, creates missing topics, and skips the simulated outage.
//!
//! Payload values are never printed: only event types, counts and failure classes.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pmp_event_codegen::topics::TopicCatalog;
use pmp_event_runtime::consumer::{
    dlq_headers, ConsumerBuilder, ConsumerConfig, FailureClass, UnknownEventTypePolicy,
};
use pmp_event_runtime::producer::{
    ConnectionState, Delivery, ProducerConfig, ProducerMetrics, RobustProducer,
};
use pmp_event_runtime::{DecodeError, EventSet, KafkaConfig, RawEnvelope, SchemaInfo};
use pmp_events::{AnyEvent, SCHEMAS};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use uuid::Uuid;

/// Rounds over the catalog per phase (each round publishes every example of every schema).
const ROUNDS_BEFORE: u64 = 40;
const ROUNDS_DURING_OUTAGE: u64 = 30;
const ROUNDS_AFTER: u64 = 30;
/// Pause between rounds, so the outage spans many publishes and progress is visible.
const ROUND_PAUSE: Duration = Duration::from_millis(40);
/// Upper bound for everything to arrive once publishing is done.
const SETTLE_LIMIT: Duration = Duration::from_secs(40);
/// Bad records are injected this many times each.
const BAD_REPEAT: usize = 2;

type Fail = Box<dyn std::error::Error>;

/// Live counters shared with the progress line and the delivery tasks.
#[derive(Default)]
struct Counts {
    published: Vec<AtomicU64>,
    acked: Vec<AtomicU64>,
    spooled: Vec<AtomicU64>,
    failed: Vec<AtomicU64>,
    /// Consumed event ids of this run (kind index, times seen).
    consumed: Mutex<HashMap<Uuid, (usize, u64)>>,
    /// Dead letters of this run found in the DLQ topics: source (topic, partition, offset)
    /// to class.
    dead: Mutex<HashMap<(String, i32, i64), String>>,
}

impl Counts {
    fn new(kinds: usize) -> Self {
        let v = || (0..kinds).map(|_| AtomicU64::new(0)).collect();
        Counts {
            published: v(),
            acked: v(),
            spooled: v(),
            failed: v(),
            ..Counts::default()
        }
    }
}

fn sum(v: &[AtomicU64]) -> u64 {
    v.iter().map(|a| a.load(Ordering::Relaxed)).sum()
}

fn kind_index(event_type: &str, version: u32) -> Option<usize> {
    SCHEMAS
        .iter()
        .position(|s| s.event_type == event_type && s.version == version)
}

fn examples(info: &SchemaInfo) -> Result<Vec<Value>, Fail> {
    let schema: Value = serde_json::from_str(info.schema_json)?;
    let ex = schema["examples"].as_array().cloned().unwrap_or_default();
    if ex.is_empty() {
        return Err(format!("{} v{} has no examples", info.event_type, info.version).into());
    }
    Ok(ex)
}

/// The example with its partition key varied by `round`, so events spread over partitions.
fn vary_key(info: &SchemaInfo, example: &Value, round: u64) -> Value {
    let mut p = example.clone();
    if let Some(key) = p.get_mut(info.key_field) {
        match key {
            Value::Number(n) => {
                if let Some(i) = n.as_u64() {
                    *key = json!(i + round);
                }
            }
            Value::String(s) if Uuid::parse_str(s).is_ok() => {
                *key = json!(Uuid::new_v4().to_string());
            }
            _ => {}
        }
    }
    p
}

/// Turn a JSON payload into the typed envelope of its (type, version).
fn typed(info: &SchemaInfo, payload: Value) -> Result<AnyEvent, DecodeError> {
    AnyEvent::from_raw(RawEnvelope {
        event_id: Uuid::now_v7(),
        event_type: info.event_type.to_owned(),
        version: info.version,
        timestamp: chrono::Utc::now(),
        producer: String::new(),
        correlation_id: None,
        causation_id: None,
        payload,
    })
}

/// Publish one typed event; the exhaustive match makes a new catalog entry a compile error
/// here until the demo covers it.
fn publish(
    producer: &RobustProducer,
    event: AnyEvent,
) -> Result<pmp_event_runtime::producer::DeliveryHandle, pmp_event_runtime::producer::PublishError>
{
    macro_rules! each {
        ($($v:ident),* $(,)?) => {
            match event { $(AnyEvent::$v(e) => producer.publish_envelope(e),)* }
        };
    }
    each!(
        CommunicationCallScheduledV1,
        CommunicationEmailSentV1,
        EmailSendV1,
        GeocodingCalculateDistanceV1,
        MatchCreatedV1,
        MatchStatusChangedV1,
        PatientCreatedV1,
        PatientCreatedV2,
        PatientDeletedV1,
        PatientUpdatedV1,
        ScrapingRunV1,
        TherapistBlockedV1,
        TherapistCreatedV1,
        TherapistUnblockedV1,
        TherapistUpdatedV1,
    )
}

/// One round: every example of every schema, typed, published; delivery results counted
/// by a task per event.
fn publish_round(
    producer: &RobustProducer,
    catalog: &[(usize, &'static SchemaInfo, Vec<Value>)],
    round: u64,
    counts: &Arc<Counts>,
    published_ids: &mut HashMap<Uuid, usize>,
) -> Result<(), Fail> {
    for (k, info, exs) in catalog {
        for ex in exs {
            let event = typed(info, vary_key(info, ex, round)).map_err(|e| {
                format!(
                    "{} v{}: example does not decode: {e}",
                    info.event_type, info.version
                )
            })?;
            let handle = publish(producer, event).map_err(|e| {
                format!(
                    "{} v{}: publish refused: {e}",
                    info.event_type, info.version
                )
            })?;
            published_ids.insert(handle.event_id(), *k);
            counts.published[*k].fetch_add(1, Ordering::Relaxed);
            let (c, k) = (counts.clone(), *k);
            tokio::spawn(async move {
                let slot = match handle.await {
                    Ok(Delivery::Delivered { .. }) => &c.acked[k],
                    Ok(Delivery::Spooled) => &c.spooled[k],
                    Err(_) => &c.failed[k],
                };
                slot.fetch_add(1, Ordering::Relaxed);
            });
        }
    }
    Ok(())
}

/// Prints one live status line (or, off a terminal, one line per phase).
struct Progress {
    tty: bool,
    start: Instant,
}

impl Progress {
    fn show(&self, phase: &str, c: &Counts, m: &ProducerMetrics, bad: usize, final_line: bool) {
        let consumed = c.consumed.lock().map(|m| m.len()).unwrap_or(0);
        let dead = c.dead.lock().map(|m| m.len()).unwrap_or(0);
        let state = match m.state {
            ConnectionState::Up => "up",
            ConnectionState::Down { .. } => "DOWN",
            ConnectionState::Draining => "draining",
            ConnectionState::Connecting => "connecting",
        };
        let line = format!(
            "[{:>5.1}s] {phase:<14} published {:>5}  acked {:>5}  spooled {:>4} (depth {:>4})  consumed {consumed:>5}  dead letters {dead:>2}/{bad}  kafka {state}",
            self.start.elapsed().as_secs_f64(),
            sum(&c.published),
            sum(&c.acked),
            sum(&c.spooled),
            m.spool_depth,
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if final_line {
                let _ = writeln!(err);
            }
        } else if final_line {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// A bad record to inject, and the failure class the consumer must give it.
struct Bad {
    name: &'static str,
    class: FailureClass,
    topic: &'static str,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
}

fn raw_envelope(event_type: &str, version: u32, payload: Value) -> (Uuid, Vec<u8>) {
    let id = Uuid::new_v4();
    let body = json!({
        "event_id": id, "event_type": event_type, "version": version,
        "timestamp": chrono::Utc::now(), "producer": "pmp-demo-injector", "payload": payload,
    });
    (id, body.to_string().into_bytes())
}

fn enveloped(
    name: &'static str,
    class: FailureClass,
    info: &'static SchemaInfo,
    claim: (&str, u32),
    payload: Value,
) -> Bad {
    let (id, value) = raw_envelope(claim.0, claim.1, payload);
    Bad {
        name,
        class,
        topic: info.topic,
        key: None,
        value: Some(value),
        headers: vec![
            ("event_type", claim.0.to_owned()),
            ("version", claim.1.to_string()),
            ("event_id", id.to_string()),
        ],
    }
}

fn info(event_type: &str, version: u32) -> Result<&'static SchemaInfo, Fail> {
    kind_index(event_type, version)
        .map(|i| &SCHEMAS[i])
        .ok_or_else(|| format!("{event_type} v{version} is not in the catalog").into())
}

fn bad_records() -> Result<Vec<Bad>, Fail> {
    let raw = |name, class, topic, value: &[u8]| Bad {
        name,
        class,
        topic,
        key: None,
        value: Some(value.to_vec()),
        headers: Vec::new(),
    };
    let match_created = info("match.created", 1)?;
    let patient_v1 = info("patient.created", 1)?;
    let blocked = info("therapist.blocked", 1)?;
    let mut closed_match = examples(match_created)?[0].clone();
    closed_match["status"] = json!("closed");
    let mut bad_plz = examples(patient_v1)?[0].clone();
    bad_plz["address"]["postal_code"] = json!("ABCDE");
    let mut mismatch = enveloped(
        "header event_type disagrees with body",
        FailureClass::HeaderMismatch,
        blocked,
        ("therapist.blocked", 1),
        examples(blocked)?[0].clone(),
    );
    mismatch.headers[0].1 = "therapist.unblocked".to_owned();
    Ok(vec![
        raw(
            "not JSON",
            FailureClass::NotJson,
            "patient-events",
            b"{\"event_id\": ",
        ),
        raw(
            "not UTF-8",
            FailureClass::NotUtf8,
            "therapist-events",
            b"{\"event_type\": \"\xc3\x28\"}",
        ),
        raw(
            "JSON, not an envelope",
            FailureClass::NotEnvelope,
            "matching-events",
            b"[1, 2, 3]",
        ),
        raw("empty value", FailureClass::Empty, "patient-events", b""),
        Bad {
            name: "tombstone",
            class: FailureClass::Tombstone,
            topic: "therapist-events",
            key: Some(b"3".to_vec()),
            value: None,
            headers: Vec::new(),
        },
        enveloped(
            "unknown event_type",
            FailureClass::UnknownEventType,
            patient_v1,
            ("patient.teleported", 1),
            json!({"patient_id": 42}),
        ),
        enveloped(
            "unknown version",
            FailureClass::UnknownVersion,
            patient_v1,
            ("patient.created", 9),
            // Newer than every known version and not valid as v2, the newest known (a
            // valid one would be read as v2: version skew).
            json!({"patient_id": 42, "colour": "red"}),
        ),
        enveloped(
            "schema violation (const status)",
            FailureClass::SchemaViolation,
            match_created,
            ("match.created", 1),
            closed_match,
        ),
        enveloped(
            "schema violation (postal code pattern)",
            FailureClass::SchemaViolation,
            patient_v1,
            ("patient.created", 1),
            bad_plz,
        ),
        mismatch,
    ])
}

/// Produce the bad records; returns each one's (topic, partition, offset) with its index.
async fn inject(
    bootstrap_cfg: &ClientConfig,
    bad: &[Bad],
) -> Result<HashMap<(String, i32, i64), usize>, Fail> {
    let producer: FutureProducer = bootstrap_cfg.clone().create()?;
    let mut out = HashMap::new();
    for _ in 0..BAD_REPEAT {
        for (i, b) in bad.iter().enumerate() {
            let mut headers = OwnedHeaders::new();
            for (k, v) in &b.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(b.topic).headers(headers);
            if let Some(k) = &b.key {
                rec = rec.key(k.as_slice());
            }
            if let Some(v) = &b.value {
                rec = rec.payload(v.as_slice());
            }
            let (partition, offset) = producer
                .send(rec, Duration::from_secs(30))
                .await
                .map(|d| (d.partition, d.offset))
                .map_err(|(e, _)| format!("injecting {:?} into {}: {e}", b.name, b.topic))?;
            out.insert((b.topic.to_owned(), partition, offset), i);
        }
    }
    Ok(out)
}

/// Read the dead-letter topics from the beginning in a thread; records of this consumer
/// group are noted by their source coordinates.
fn spawn_dlq_reader(
    client: ClientConfig,
    dlq_topics: Vec<(String, i32)>,
    group: String,
    counts: Arc<Counts>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, Fail> {
    let consumer: BaseConsumer = client
        .clone()
        .set("group.id", format!("{group}-dlq-reader"))
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for (t, parts) in &dlq_topics {
        for p in 0..*parts {
            tpl.add_partition_offset(t, p, Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Some(Ok(msg)) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let Some(h) = msg.headers() else { continue };
            let get = |name: &str| {
                h.iter()
                    .find(|x| x.key == name)
                    .and_then(|x| x.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            };
            if get(dlq_headers::GROUP).as_deref() != Some(group.as_str()) {
                continue;
            }
            let (Some(t), Some(p), Some(o), Some(class)) = (
                get(dlq_headers::SOURCE_TOPIC),
                get(dlq_headers::SOURCE_PARTITION).and_then(|p| p.parse().ok()),
                get(dlq_headers::SOURCE_OFFSET).and_then(|o| o.parse().ok()),
                get(dlq_headers::CLASS),
            ) else {
                continue;
            };
            if let Ok(mut d) = counts.dead.lock() {
                d.insert((t, p, o), class);
            }
        }
    }))
}

/// Create the catalog's topics on a real cluster; existing ones are left alone.
async fn create_topics(client: &ClientConfig, catalog: &TopicCatalog) -> Result<(), Fail> {
    let admin: AdminClient<DefaultClientContext> = client.create()?;
    let rf: i32 = match std::env::var("KAFKA_REPLICATION_FACTOR") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("KAFKA_REPLICATION_FACTOR: {v:?} is not a number"))?,
        Err(_) => i32::from(catalog.replication_factor),
    };
    let resolved = catalog.resolved_topics();
    let new: Vec<NewTopic<'_>> = resolved
        .iter()
        .map(|t| {
            t.config.iter().fold(
                NewTopic::new(&t.name, t.partitions as i32, TopicReplication::Fixed(rf)),
                |nt, (k, v)| nt.set(k, v),
            )
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for r in admin.create_topics(&new, &opts).await? {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => return Err(format!("creating topic {t}: {e}").into()),
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("\ndemo failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run() -> Result<bool, Fail> {
    // Runtime logs only on request (`RUST_LOG=info`); they never carry payload values.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let start = Instant::now();
    let topics_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/topics.json");
    let catalog = TopicCatalog::load(&topics_file)?;

    // Kafka: the environment's cluster, or an embedded mock cluster.
    let external = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (cluster, kafka) = match external {
        Some(_) => (None, KafkaConfig::from_env()?),
        None => {
            let c = MockCluster::new(1)?;
            for t in catalog.resolved_topics() {
                c.create_topic(&t.name, t.partitions as i32, 1)?;
            }
            // The mock cluster only drops a group member when its session times out, and
            // the simulated outage makes the consumer rejoin: keep that short.
            let k = KafkaConfig::new(c.bootstrap_servers()).set("session.timeout.ms", "6000");
            (Some(c), k)
        }
    };
    let mut client = ClientConfig::new();
    kafka.apply(&mut client);
    if cluster.is_none() {
        create_topics(&client, &catalog).await?;
    }
    eprintln!(
        "pmp demo: {} event types/versions on {} topics, Kafka: {}",
        SCHEMAS.len(),
        catalog.topics.len(),
        if cluster.is_some() {
            "embedded mock cluster (outage simulated)".to_owned()
        } else {
            format!("{} (no simulated outage)", kafka.bootstrap_servers)
        }
    );

    let run_id = Uuid::new_v4().simple().to_string();
    let group = format!("pmp-demo-{}", &run_id[..12]);
    let counts = Arc::new(Counts::new(SCHEMAS.len()));
    let spool = tempfile::tempdir()?;

    // Consumer over every topic of the catalog; counts only this run's events.
    let mut ccfg = ConsumerConfig::new(kafka.clone(), group.clone());
    let mut event_topics: Vec<String> = SCHEMAS.iter().map(|s| s.topic.to_owned()).collect();
    event_topics.sort();
    event_topics.dedup();
    ccfg.topics = event_topics.clone();
    // The demo shows unknown types in the DLQ (the default skips and counts them).
    ccfg.unknown_event_type = UnknownEventTypePolicy::DeadLetter;
    ccfg.dead_letter_suffix = catalog.dead_letter.suffix.clone();
    let seen = counts.clone();
    let consumer = ConsumerBuilder::<AnyEvent>::new(ccfg)
        .on_any(move |e: AnyEvent| {
            let seen = seen.clone();
            async move {
                let (t, v) = e.kind();
                if let (Some(k), Ok(mut m)) = (kind_index(t, v), seen.consumed.lock()) {
                    m.entry(e.event_id()).or_insert((k, 0)).1 += 1;
                }
                Ok(())
            }
        })
        .start()?;

    let stop_reader = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let dlq_topics: Vec<(String, i32)> = event_topics
        .iter()
        .map(|t| {
            (
                catalog.dead_letter_topic(t),
                catalog.dead_letter.partitions as i32,
            )
        })
        .collect();
    let reader = spawn_dlq_reader(
        client.clone(),
        dlq_topics,
        group.clone(),
        counts.clone(),
        stop_reader.clone(),
    )?;

    let producer = RobustProducer::new(
        ProducerConfig::new("pmp-demo", kafka.clone(), spool.path())
            .with_backoff(Duration::from_millis(50), Duration::from_millis(500)),
    )?;
    let progress = Progress {
        tty: std::io::stderr().is_terminal(),
        start,
    };
    let bad = bad_records()?;
    let bad_total = bad.len() * BAD_REPEAT;
    let show = |phase: &str, last: bool| {
        progress.show(phase, &counts, &producer.metrics(), bad_total, last)
    };

    let mut catalog_examples = Vec::new();
    for (k, s) in SCHEMAS.iter().enumerate() {
        catalog_examples.push((k, s, examples(s)?));
    }
    let mut published: HashMap<Uuid, usize> = HashMap::new();

    // Wait for the producer's first probe, so the outage is the only reason to spool.
    let until = Instant::now() + Duration::from_secs(30);
    while producer.state() != ConnectionState::Up {
        if Instant::now() > until {
            return Err("Kafka did not answer within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut round = 0u64;
    // Phase 1: Kafka up.
    for _ in 0..ROUNDS_BEFORE {
        publish_round(&producer, &catalog_examples, round, &counts, &mut published)?;
        round += 1;
        show("publishing", false);
        tokio::time::sleep(ROUND_PAUSE).await;
    }
    // The consumer's group join takes a few seconds; let it catch up before the outage.
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until
        && counts.consumed.lock().map(|c| c.len()).unwrap_or(0) < published.len()
    {
        show("consuming", false);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    show("caught up", true);

    // Phase 2: every broker down; publishing goes on into the spool.
    let mut outage = Duration::ZERO;
    if let Some(c) = &cluster {
        c.broker_down(-1)?;
        let down_at = Instant::now();
        for _ in 0..ROUNDS_DURING_OUTAGE {
            publish_round(&producer, &catalog_examples, round, &counts, &mut published)?;
            round += 1;
            show("BROKER DOWN", false);
            tokio::time::sleep(ROUND_PAUSE * 2).await;
        }
        // Hold the outage until the producer has noticed it and spooled events.
        let until = Instant::now() + Duration::from_secs(15);
        while producer.metrics().spool_depth == 0 && Instant::now() < until {
            show("BROKER DOWN", false);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        show("BROKER DOWN", true);
        c.broker_up(-1)?;
        outage = down_at.elapsed();
        // Phase 3: back up; the spool drains while new events queue behind it.
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let m = producer.metrics();
            if m.spool_depth == 0 && m.state == ConnectionState::Up {
                break;
            }
            if Instant::now() > until {
                break;
            }
            show("draining", false);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        show("drained", true);
    }
    for _ in 0..ROUNDS_AFTER {
        publish_round(&producer, &catalog_examples, round, &counts, &mut published)?;
        round += 1;
        show("publishing", false);
        tokio::time::sleep(ROUND_PAUSE).await;
    }
    show("publishing", true);

    // Phase 4: bad records straight into the event topics.
    let injected = inject(&client, &bad).await?;
    show("bad injected", true);

    // Settle: wait until everything is accounted for (or the limit).
    let until = Instant::now() + SETTLE_LIMIT;
    loop {
        let m = producer.metrics();
        let resolved = sum(&counts.acked) + sum(&counts.spooled) + sum(&counts.failed);
        let consumed_all = counts
            .consumed
            .lock()
            .map(|c| published.keys().all(|id| c.contains_key(id)))
            .unwrap_or(false);
        let dead_all = counts
            .dead
            .lock()
            .map(|d| injected.keys().all(|k| d.contains_key(k)))
            .unwrap_or(false);
        let done =
            resolved == published.len() as u64 && m.spool_depth == 0 && consumed_all && dead_all;
        if done || Instant::now() > until {
            break;
        }
        show("consuming", false);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    show("done", true);
    let cm = consumer.metrics();
    eprintln!(
        "consumer: processed {}, dead-lettered {}, consume errors {} (while Kafka was away), running {}",
        cm.processed_total(),
        cm.dead_lettered_total(),
        cm.consume_errors,
        consumer.is_running()
    );

    let m = producer.metrics();
    let preport = producer.shutdown(Duration::from_secs(10)).await;
    let creport = consumer.shutdown(Duration::from_secs(10)).await;
    stop_reader.store(true, Ordering::Relaxed);
    let _ = reader.join();
    drop(cluster);

    Ok(summary(
        &counts,
        &published,
        &m,
        preport.spooled,
        outage,
        &bad,
        &injected,
        creport.committed,
        start.elapsed(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn summary(
    c: &Counts,
    published: &HashMap<Uuid, usize>,
    m: &ProducerMetrics,
    left_in_spool: u64,
    outage: Duration,
    bad: &[Bad],
    injected: &HashMap<(String, i32, i64), usize>,
    consumer_committed: bool,
    wall: Duration,
) -> bool {
    let mut problems: Vec<String> = Vec::new();
    let consumed = c.consumed.lock().map(|g| g.clone()).unwrap_or_default();
    let mut got = vec![0u64; SCHEMAS.len()];
    let mut dups = vec![0u64; SCHEMAS.len()];
    for (id, k) in published {
        if let Some((_, n)) = consumed.get(id) {
            got[*k] += 1;
            dups[*k] += n - 1;
        }
    }
    let load = |v: &[AtomicU64], k: usize| v[k].load(Ordering::Relaxed);
    println!();
    println!(
        "{:<30} {:>2} {:>9} {:>9} {:>8} {:>9} {:>5}",
        "event type", "v", "published", "delivered", "spooled", "consumed", "dups"
    );
    let mut tot = [0u64; 5];
    for (k, s) in SCHEMAS.iter().enumerate() {
        let p = load(&c.published, k);
        let (a, sp, f) = (load(&c.acked, k), load(&c.spooled, k), load(&c.failed, k));
        // A spooled event is delivered once the spool is empty again (checked below).
        let delivered = a + if left_in_spool == 0 && m.spool_depth == 0 {
            sp
        } else {
            0
        };
        println!(
            "{:<30} {:>2} {:>9} {:>9} {:>8} {:>9} {:>5}",
            s.event_type, s.version, p, delivered, sp, got[k], dups[k]
        );
        for (i, v) in [p, delivered, sp, got[k], dups[k]].into_iter().enumerate() {
            tot[i] += v;
        }
        if f > 0 {
            problems.push(format!(
                "{} v{}: {f} publishes failed",
                s.event_type, s.version
            ));
        }
        if delivered != p {
            problems.push(format!(
                "{} v{}: published {p}, delivered {delivered}",
                s.event_type, s.version
            ));
        }
        if got[k] != p {
            problems.push(format!(
                "{} v{}: published {p}, consumed {}",
                s.event_type, s.version, got[k]
            ));
        }
    }
    println!(
        "{:<30} {:>2} {:>9} {:>9} {:>8} {:>9} {:>5}",
        "total", "", tot[0], tot[1], tot[2], tot[3], tot[4]
    );

    println!();
    if outage.is_zero() {
        print!("outage: not simulated (real cluster); ");
    } else {
        print!("outage: brokers down {:.1} s; ", outage.as_secs_f64());
    }
    println!(
        "spooled {} (spool writes {}), drained {}, left in spool {}",
        tot[2],
        m.spooled,
        m.drained,
        left_in_spool.max(m.spool_depth)
    );
    if left_in_spool > 0 || m.spool_depth > 0 {
        problems.push(format!(
            "spool not empty: {}",
            left_in_spool.max(m.spool_depth)
        ));
    }
    if !outage.is_zero() && m.spooled == 0 {
        problems.push("the outage spooled nothing".to_owned());
    }

    println!();
    let dead = c.dead.lock().map(|g| g.clone()).unwrap_or_default();
    let mut by_class: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (src, i) in injected {
        let want = bad[*i].class.as_str();
        by_class.entry(want).or_default().0 += 1;
        match dead.get(src) {
            Some(class) if class == want => by_class.entry(want).or_default().1 += 1,
            Some(class) => problems.push(format!(
                "{} ({}/{}/{}): dead-lettered as {class}, expected {want}",
                bad[*i].name, src.0, src.1, src.2
            )),
            None => problems.push(format!(
                "{} ({}/{}/{}): not found in the dead-letter topic",
                bad[*i].name, src.0, src.1, src.2
            )),
        }
    }
    println!(
        "{:<30} {:>9} {:>9}",
        "dead letters by class", "injected", "in DLQ"
    );
    let (mut ti, mut td) = (0, 0);
    for (class, (i, d)) in &by_class {
        println!("{class:<30} {i:>9} {d:>9}");
        ti += i;
        td += d;
    }
    println!("{:<30} {ti:>9} {td:>9}", "total");
    if !consumer_committed {
        problems.push("consumer could not commit its offsets at shutdown".to_owned());
    }

    println!();
    if problems.is_empty() {
        println!(
            "OK: every published event consumed, every bad record dead-lettered, spool empty ({:.1} s)",
            wall.as_secs_f64()
        );
        true
    } else {
        println!("MISMATCH ({:.1} s):", wall.as_secs_f64());
        for p in problems {
            println!("  - {p}");
        }
        false
    }
}
