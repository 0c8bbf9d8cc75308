//! `scripts/bench producer`: the robust producer against plain rdkafka, same events.
//!
//! Cases (each sends `BENCH_PRODUCER_EVENTS` events, default 200,000, of about 400 bytes
//! as an envelope, and waits until every one is acknowledged):
//! * `raw`: rdkafka `ThreadedProducer` with pre-serialized envelope bytes, key and the same
//!   three headers: the baseline.
//! * `robust_outage`: `RobustProducer`, outage mode, typed payloads, default settings
//!   (schema validation on).
//! * `robust_outage_novalidate`: the same with validation off (shows validation's cost).
//! * `robust_outage_observed`: `robust_outage` with observability on (`support/observe_switch.rs`:
//!   `publish` spans through `tracing-opentelemetry` with W3C headers written, and the
//!   Prometheus recorder); every other case runs with it off in the same process.
//! * `robust_write_ahead`: write-ahead mode (every event fsynced to the spool, group commit).
//! * `drain`: events spooled while the broker is down, then the rate of sending them after
//!   it comes back: from the moment the producer sees the broker again (`Draining`) until
//!   the spool is empty. The time before that, the reconnection probe's backoff (random,
//!   full jitter), is printed per round as `case=drain_reconnect ms_per_round=[..]`.
//! * `publish_latency_outage`: the duration of every `publish()` call while events are
//!   published at a steady `BENCH_LATENCY_RATE` per second (default 5,000) across a cycle
//!   of broker up, broker down (events spooled), broker up again (the spool drains while
//!   publishing goes on): `BENCH_LATENCY_EVENTS` events (default 60,000). Prints
//!   percentiles and `sched_max_us`, the worst oversleep of a canary thread sleeping 1 ms
//!   (the machine's own scheduling delay, for comparison).
//!
//! Each case runs `BENCH_PRODUCER_ROUNDS` times (default 3), interleaved; the best rate
//! counts. `BENCH_PRODUCER_CASES` (comma-separated names) runs only those cases and `raw`,
//! without the latency case (for profiling one path). Runs against librdkafka's mock cluster, and also against `KAFKA_BOOTSTRAP_SERVERS` when
//! set (cases suffixed `_kafka`; every `KAFKA_*` setting applies, SASL_SSL included; topic
//! `bench-events` should exist, else broker auto-creation makes it), and against the 3-broker
//! cluster at `KAFKA_CLUSTER_BOOTSTRAP_SERVERS` when set (cases suffixed `_cluster`;
//! `scripts/bench` creates the topic with replication 3). Prints
//! `case=NAME msgs_per_s=N ratio=R` with R relative to `raw` of the same target.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::{Envelope, EventKind, EventPayload, KafkaConfig, SchemaInfo};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use serde::{Deserialize, Serialize};

#[path = "support/observe_switch.rs"]
mod observe_switch;

const TOPIC: &str = "bench-events";

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://pmp.example/schemas/events/bench.happened/v1.json",
  "type": "object",
  "additionalProperties": false,
  "required": ["patient_id", "seq", "email", "city", "note"],
  "properties": {
    "patient_id": {"type": "string", "format": "uuid"},
    "seq": {"type": "integer", "minimum": 0},
    "email": {"type": "string", "format": "email"},
    "city": {"type": "string", "maxLength": 100},
    "note": {"type": "string", "maxLength": 500}
  }
}"#;

static INFO: SchemaInfo = SchemaInfo {
    event_type: "bench.happened",
    version: 1,
    kind: EventKind::Event,
    topic: TOPIC,
    key_field: "patient_id",
    schema_id: "https://pmp.example/schemas/events/bench.happened/v1.json",
    compatibility: "BACKWARD_TRANSITIVE",
    schema_json: SCHEMA,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchEvent {
    patient_id: uuid::Uuid,
    seq: u64,
    email: String,
    city: String,
    note: String,
}

impl EventPayload for BenchEvent {
    const INFO: &'static SchemaInfo = &INFO;
    fn partition_key(&self) -> String {
        self.patient_id.to_string()
    }
}

fn events(n: u64, keys: &[uuid::Uuid]) -> Vec<BenchEvent> {
    (0..n)
        .map(|i| BenchEvent {
            patient_id: keys[(i % keys.len() as u64) as usize],
            seq: i,
            email: format!("patient{}@example.org", i % 1000),
            city: "Berlin".into(),
            note: "Erstgespräch vereinbart, Rückruf am Nachmittag erwünscht.".repeat(2),
        })
        .collect()
}

/// Librdkafka settings shared by every case, so only the producer differs.
fn tuning(kafka: KafkaConfig) -> KafkaConfig {
    kafka.set("queue.buffering.max.messages", "1000000")
}

struct Counting(Arc<AtomicU64>);
impl ClientContext for Counting {}
impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        if r.is_ok() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn raw(kafka: &KafkaConfig, evs: &[BenchEvent]) -> f64 {
    // Pre-serialized: the baseline pays nothing for envelopes.
    let prepared: Vec<(String, Vec<u8>, String, String)> = evs
        .iter()
        .map(|e| {
            let env = Envelope::new("bench", e.clone());
            (
                e.partition_key(),
                env.to_json().unwrap(),
                env.event_id.to_string(),
                env.version.to_string(),
            )
        })
        .collect();
    let mut cfg = ClientConfig::new();
    cfg.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5");
    tuning(kafka.clone()).apply(&mut cfg);
    let delivered = Arc::new(AtomicU64::new(0));
    let producer: ThreadedProducer<Counting> = cfg
        .create_with_context(Counting(delivered.clone()))
        .expect("producer");
    let start = Instant::now();
    for (key, value, id, version) in &prepared {
        let headers = OwnedHeaders::new_with_capacity(3)
            .insert(Header {
                key: "event_type",
                value: Some("bench.happened"),
            })
            .insert(Header {
                key: "version",
                value: Some(version),
            })
            .insert(Header {
                key: "event_id",
                value: Some(id),
            });
        let mut record = BaseRecord::to(TOPIC)
            .key(key.as_str())
            .payload(value.as_slice())
            .headers(headers);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err((e, _)) => panic!("raw send failed: {e}"),
            }
        }
    }
    producer.flush(Duration::from_secs(120)).expect("flush");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(delivered.load(Ordering::Relaxed), prepared.len() as u64);
    prepared.len() as f64 / secs
}

fn robust_config(kafka: &KafkaConfig, dir: &std::path::Path) -> ProducerConfig {
    ProducerConfig::new("bench", tuning(kafka.clone()), dir)
}

async fn wait_up(p: &RobustProducer) {
    while p.state() != pmp_event_runtime::producer::ConnectionState::Up {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn robust(cfg: ProducerConfig, evs: &[BenchEvent]) -> f64 {
    let producer = RobustProducer::new(cfg).expect("producer");
    wait_up(&producer).await;
    let evs = evs.to_vec();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(evs.len());
    for e in evs {
        handles.push(producer.publish(e).expect("publish"));
    }
    for h in handles {
        h.await.expect("delivery");
    }
    // Write-ahead handles may resolve at fsync; count only complete delivery.
    while producer.metrics().spool_depth > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let m = producer.metrics();
    producer.shutdown(Duration::from_secs(10)).await;
    assert!(m.delivered >= m.published, "{m:?}");
    m.published as f64 / secs
}

async fn drain(evs: &[BenchEvent]) -> DrainRun {
    let cluster = MockCluster::new(1).expect("mock");
    cluster.create_topic(TOPIC, 16, 1).expect("topic");
    let bootstrap = cluster.bootstrap_servers();
    cluster.broker_down(-1).expect("down");
    let dir = tempfile::tempdir().expect("tempdir");
    let producer = RobustProducer::new(robust_config(&KafkaConfig::new(bootstrap), dir.path()))
        .expect("producer");
    let mut handles = Vec::with_capacity(evs.len());
    for e in evs {
        handles.push(producer.publish(e.clone()).expect("publish"));
    }
    for h in handles {
        h.await.expect("spooled");
    }
    let depth = producer.metrics().spool_depth;
    cluster.broker_up(-1).expect("up");
    let up_at = Instant::now();
    // The drain starts when the producer's reconnection probe sees the broker (`Draining`).
    let mut state = producer.state_watch();
    let _ = state
        .wait_for(|s| {
            matches!(
                s,
                pmp_event_runtime::producer::ConnectionState::Draining
                    | pmp_event_runtime::producer::ConnectionState::Up
            )
        })
        .await;
    let start = Instant::now();
    while producer.metrics().spool_depth > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    producer.shutdown(Duration::from_secs(10)).await;
    DrainRun {
        rate: depth as f64 / secs,
        reconnect: start - up_at,
    }
}

/// One `drain` round: the rate from `Draining` to an empty spool, and how long the
/// reconnection probe took to see the broker after it came back (backoff with full jitter,
/// so it varies from round to round).
struct DrainRun {
    rate: f64,
    reconnect: Duration,
}

/// `publish()` latency across an outage cycle (see the module docs).
fn publish_latency_outage(evs: &[BenchEvent]) {
    let n: usize = env_or("BENCH_LATENCY_EVENTS", 60_000);
    let rate: f64 = env_or("BENCH_LATENCY_RATE", 5_000) as f64;
    let cluster = MockCluster::new(1).expect("mock");
    cluster.create_topic(TOPIC, 16, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let producer = RobustProducer::new(robust_config(
        &KafkaConfig::new(cluster.bootstrap_servers()),
        dir.path(),
    ))
    .expect("producer");
    while producer.state() != pmp_event_runtime::producer::ConnectionState::Up {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let canary = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                std::thread::sleep(Duration::from_millis(1));
                worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(1)));
            }
            worst
        })
    };
    let (down_at, up_at) = (n / 6, n * 7 / 12);
    let mut lat = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        if i == down_at {
            cluster.broker_down(-1).expect("down");
        }
        if i == up_at {
            cluster.broker_up(-1).expect("up");
        }
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let e = evs[i % evs.len()].clone();
        let t = Instant::now();
        let handle = producer.publish(e).expect("publish");
        lat.push(t.elapsed());
        handles.push(handle);
    }
    while producer.metrics().spool_depth > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let sched = canary.join().expect("canary");
    let m = producer.metrics();
    producer.shutdown_blocking(Duration::from_secs(10));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut spooled = 0;
    for h in handles {
        if let Ok(pmp_event_runtime::producer::Delivery::Spooled) = rt.block_on(h) {
            spooled += 1;
        }
    }
    assert!(m.spooled > 0, "the broker outage spooled nothing: {m:?}");
    lat.sort_unstable();
    let pct = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_micros();
    println!(
        "case=publish_latency_outage p50_us={} p99_us={} p999_us={} max_us={} events={n} spooled={} handles_spooled={spooled} sched_max_us={}",
        pct(0.5),
        pct(0.99),
        pct(0.999),
        lat[lat.len() - 1].as_micros(),
        m.spooled,
        sched.as_micros()
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn print(case: &str, rate: f64, base: f64) {
    println!("case={case} msgs_per_s={rate:.0} ratio={:.2}", rate / base);
}

/// Best of `rounds` runs per case, cases interleaved, so a burst of load from elsewhere
/// on the machine does not decide a ratio.
async fn run_target(kafka: &KafkaConfig, suffix: &str, evs: &[BenchEvent], rounds: usize) {
    let names = [
        "raw",
        "robust_outage",
        "robust_outage_novalidate",
        "robust_write_ahead",
        "drain",
        "robust_outage_observed",
    ];
    // `BENCH_PRODUCER_CASES=drain,robust_outage` runs only those (and `raw`), for profiling.
    let only = std::env::var("BENCH_PRODUCER_CASES").ok();
    let on = |name: &str| {
        name == "raw"
            || only
                .as_deref()
                .is_none_or(|o| o.split(',').any(|c| c == name))
    };
    let mut best = [0f64; 6];
    let mut reconnects = Vec::new();
    for _ in 0..rounds {
        let mut rates = [0f64; 6];
        rates[0] = raw(kafka, evs);
        if on(names[1]) {
            let dir = tempfile::tempdir().expect("tempdir");
            rates[1] = robust(robust_config(kafka, dir.path()), evs).await;
        }
        if on(names[2]) {
            let dir = tempfile::tempdir().expect("tempdir");
            rates[2] = robust(robust_config(kafka, dir.path()).with_validation(false), evs).await;
        }
        if on(names[3]) {
            let dir = tempfile::tempdir().expect("tempdir");
            let cfg = robust_config(kafka, dir.path())
                .with_durability(pmp_event_runtime::producer::Durability::write_ahead());
            rates[3] = robust(cfg, evs).await;
        }
        if suffix.is_empty() && on(names[4]) {
            let run = drain(evs).await;
            rates[4] = run.rate;
            reconnects.push(run.reconnect.as_millis());
        }
        if on(names[5]) {
            observe_switch::set(true);
            let dir = tempfile::tempdir().expect("tempdir");
            rates[5] = robust(robust_config(kafka, dir.path()), evs).await;
            observe_switch::set(false);
        }
        for (b, r) in best.iter_mut().zip(rates) {
            *b = b.max(r);
        }
    }
    for (name, rate) in names.iter().zip(best) {
        if rate > 0.0 {
            print(&format!("{name}{suffix}"), rate, best[0]);
        }
    }
    if !reconnects.is_empty() {
        println!("case=drain_reconnect ms_per_round={reconnects:?}");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: u64 = std::env::var("BENCH_PRODUCER_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let rounds: usize = std::env::var("BENCH_PRODUCER_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let _provider = observe_switch::install();
    let keys: Vec<uuid::Uuid> = (0..1000).map(|_| uuid::Uuid::new_v4()).collect();
    let evs = events(n, &keys);
    let size = Envelope::new("bench", evs[0].clone())
        .to_json()
        .unwrap()
        .len();
    println!(
        "# {n} events, envelope {size} bytes, idempotent, acks=all, linger.ms=5, best of {rounds}"
    );
    {
        let cluster = MockCluster::new(1).expect("mock");
        cluster.create_topic(TOPIC, 16, 1).expect("topic");
        println!("# target: librdkafka mock cluster");
        run_target(
            &KafkaConfig::new(cluster.bootstrap_servers()),
            "",
            &evs,
            rounds,
        )
        .await;
    }
    if std::env::var("BENCH_PRODUCER_CASES").is_err() {
        let evs = evs.clone();
        tokio::task::spawn_blocking(move || publish_latency_outage(&evs))
            .await
            .expect("latency case");
    }
    if std::env::var("KAFKA_BOOTSTRAP_SERVERS").is_ok() {
        // All KAFKA_* settings apply (SASL_SSL included).
        let kafka = KafkaConfig::from_env().expect("KAFKA_* settings");
        println!(
            "# target: {} ({:?})",
            kafka.bootstrap_servers, kafka.security_protocol
        );
        run_target(&kafka, "_kafka", &evs, rounds).await;
    }
    if let Ok(bootstrap) = std::env::var("KAFKA_CLUSTER_BOOTSTRAP_SERVERS") {
        // scripts/bench made `bench-events` there with 16 partitions, replication 3 and
        // min.insync.replicas=2: every acknowledgement waits for two brokers.
        println!("# target: 3-broker cluster {bootstrap} (RF 3, min.insync.replicas 2)");
        run_target(&KafkaConfig::new(bootstrap), "_cluster", &evs, rounds).await;
    }
}
