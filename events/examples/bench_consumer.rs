//! Consumer benchmark (`scripts/bench consumer`).
//!
//! Over the same pre-filled mock-cluster topic (every example of every catalog schema,
//! repeated):
//! - `raw_consume_parse`: plain rdkafka `StreamConsumer::recv` + `serde_json::from_slice`
//!   into `serde_json::Value` (the baseline);
//! - `full_pipeline`: the validating consumer (size guard, envelope, headers, schema
//!   validation, typed deserialize, dispatch to a no-op handler, offset store).
//! - `full_pipeline_observed`: the same with observability on (`process` spans through
//!   `tracing-opentelemetry`, the Prometheus recorder; the runtime's
//!   `examples/support/observe_switch.rs`), `vs_off` its ratio to `full_pipeline`.
//!
//! Each case is timed from its first message to its last, so group join is excluded.
//! Then validation alone per (event type, version), in ns per message, and the cost of
//! refusing duplicate keys: the consumer's envelope parse (`RawEnvelope`, duplicate keys
//! refused at any depth) against the same parse with a derived struct where the last
//! value wins (what the consumer did before), over the corpus.
//!
//! `BENCH_MESSAGES` sets the message count (default 100000), `BENCH_ROUNDS` the rounds
//! (default 5; medians are reported). The topic has 12 partitions
//! because the mock cluster keeps only about 5 MiB per partition.

use std::time::{Duration, Instant};

use pmp_event_runtime::consumer::{
    ConsumerBuilder, ConsumerConfig, SchemaLookup, SchemaValidators,
};
use pmp_event_runtime::{EventSet, KafkaConfig, RawEnvelope, SchemaInfo};
use pmp_events::{AnyEvent, SCHEMAS};
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

#[path = "../../runtime/examples/support/observe_switch.rs"]
mod observe_switch;

const TOPIC: &str = "bench-events";

/// Where a case reads: the mock cluster's topic, or (`_cluster` cases) a topic on the
/// 3-broker cluster (replication 3, `min.insync.replicas=2`, created by `scripts/bench`).
struct Target {
    bootstrap: String,
    topic: String,
}

fn examples(info: &SchemaInfo) -> Vec<Value> {
    let schema: Value = serde_json::from_str(info.schema_json).expect("schema_json");
    schema["examples"].as_array().cloned().unwrap_or_default()
}

/// (event_type, version, envelope bytes) for every example of every schema.
fn corpus() -> Vec<(&'static SchemaInfo, Vec<u8>)> {
    let mut out = Vec::new();
    for info in SCHEMAS.iter() {
        for ex in examples(info) {
            let env = json!({
                "event_id": uuid::Uuid::now_v7(), "event_type": info.event_type,
                "version": info.version, "timestamp": "2024-05-01T10:00:00Z",
                "producer": "bench", "payload": ex,
            });
            out.push((info, serde_json::to_vec(&env).expect("json")));
        }
    }
    out
}

async fn fill(t: &Target, n: usize, corpus: &[(&'static SchemaInfo, Vec<u8>)]) {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &t.bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let mut pending = Vec::with_capacity(10_000);
    for i in 0..n {
        let (info, bytes) = &corpus[i % corpus.len()];
        let version = info.version.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "event_type",
                value: Some(info.event_type),
            })
            .insert(Header {
                key: "version",
                value: Some(&version),
            });
        let key = (i % 1000).to_string();
        let mut rec = FutureRecord::to(&t.topic)
            .key(&key)
            .payload(bytes.as_slice())
            .headers(headers);
        // send_result queues without borrowing the record past this call.
        let delivery = loop {
            match p.send_result(rec) {
                Ok(d) => break d,
                Err((_, r)) => {
                    rec = r;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        };
        pending.push(delivery);
        if pending.len() == 10_000 {
            for r in futures::future::join_all(pending.drain(..)).await {
                r.expect("delivery future")
                    .map_err(|(e, _)| e)
                    .expect("fill");
            }
        }
    }
    for r in futures::future::join_all(pending).await {
        r.expect("delivery future")
            .map_err(|(e, _)| e)
            .expect("fill");
    }
}

async fn raw_consume_parse(t: &Target, n: usize, round: usize) -> f64 {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &t.bootstrap)
        .set("group.id", format!("bench-raw-{}-{round}", t.topic))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.offset.store", "false")
        .create()
        .expect("consumer");
    c.subscribe(&[t.topic.as_str()]).expect("subscribe");
    let mut start = None;
    let mut parsed = 0usize;
    for i in 0..n {
        let m = c.recv().await.expect("recv");
        if i == 0 {
            start = Some(Instant::now());
        }
        if let Some(v) = m.payload() {
            if serde_json::from_slice::<Value>(v).is_ok() {
                parsed += 1;
            }
        }
    }
    assert_eq!(parsed, n);
    let secs = start.map_or(1.0, |s| s.elapsed().as_secs_f64());
    (n - 1) as f64 / secs
}

async fn full_pipeline(t: &Target, n: usize, round: usize) -> f64 {
    let mut cfg = ConsumerConfig::new(
        KafkaConfig::new(&t.bootstrap),
        format!("bench-full-{}-{round}", t.topic),
    );
    cfg.topics = vec![t.topic.clone()];
    let consumer = ConsumerBuilder::<AnyEvent>::new(cfg)
        .on_any(|_e: AnyEvent| async { Ok(()) })
        .start()
        .expect("consumer");
    let mut start = None;
    loop {
        let m = consumer.metrics();
        let done = m.processed_total() as usize + m.dead_lettered_total() as usize;
        if done >= 1 && start.is_none() {
            start = Some((Instant::now(), done));
        }
        if done >= n {
            assert_eq!(
                m.dead_lettered_total(),
                0,
                "bench corpus must be valid: {m:?}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (s, first) = start.expect("started");
    let rate = (n - first) as f64 / s.elapsed().as_secs_f64();
    consumer.shutdown(Duration::from_secs(5)).await;
    rate
}

/// The envelope as the consumer parsed it before duplicate keys were refused: a derived
/// struct, last value wins in the payload.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct LastWinsEnvelope {
    event_id: uuid::Uuid,
    event_type: String,
    version: u32,
    timestamp: chrono::DateTime<chrono::Utc>,
    producer: String,
    #[serde(default)]
    correlation_id: Option<uuid::Uuid>,
    #[serde(default)]
    causation_id: Option<uuid::Uuid>,
    payload: Value,
}

fn duplicate_check_cost(corpus: &[(&'static SchemaInfo, Vec<u8>)]) {
    let iters = 200_000usize;
    let time = |parse: &dyn Fn(&[u8]) -> bool| {
        let start = Instant::now();
        for k in 0..iters {
            assert!(parse(std::hint::black_box(&corpus[k % corpus.len()].1)));
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    };
    // Alternate three times, keep the best of each (noise only adds time).
    let (mut strict, mut last_wins) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        strict = strict.min(time(&|b| serde_json::from_slice::<RawEnvelope>(b).is_ok()));
        last_wins = last_wins.min(time(&|b| {
            serde_json::from_slice::<LastWinsEnvelope>(b).is_ok()
        }));
    }
    println!(
        "case=envelope_parse_duplicate_check strict_ns={strict:.0} last_wins_ns={last_wins:.0} ratio={:.2}",
        last_wins / strict
    );
}

fn validation_alone(corpus: &[(&'static SchemaInfo, Vec<u8>)]) {
    let validators = SchemaValidators::compile(SCHEMAS, true).expect("compile");
    for info in AnyEvent::schemas() {
        let SchemaLookup::Found(index) = validators.lookup(info.event_type, info.version) else {
            panic!("no validator for {}", info.event_type)
        };
        let payloads: Vec<Value> = corpus
            .iter()
            .filter(|(i, _)| std::ptr::eq(*i, info))
            .map(|(_, b)| serde_json::from_slice::<Value>(b).expect("json")["payload"].clone())
            .collect();
        let iters = 20_000usize;
        let start = Instant::now();
        for k in 0..iters {
            let p = &payloads[k % payloads.len()];
            assert!(validators.validate(index, std::hint::black_box(p)).is_ok());
        }
        let ns = start.elapsed().as_nanos() as f64 / iters as f64;
        println!(
            "case=validate event_type={} version={} ns_per_msg={:.0}",
            info.event_type, info.version, ns
        );
    }
}

/// Raw and full pipeline over `n` messages of `t`, alternating for `rounds` rounds; prints
/// the medians as `raw_consume_parse{suffix}` and `full_pipeline{suffix}`.
async fn compare(t: &Target, n: usize, rounds: usize, suffix: &str) {
    let (mut raws, mut fulls, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        raws.push(raw_consume_parse(t, n, round).await);
        fulls.push(full_pipeline(t, n, round).await);
        observe_switch::set(true);
        observed.push(full_pipeline(t, n, rounds + round).await);
        observe_switch::set(false);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (raw, full) = (median(&mut raws), median(&mut fulls));
    let full_observed = median(&mut observed);
    println!(
        "# median of {rounds} rounds; raw runs {raws:.0?}, full runs {fulls:.0?}, observed runs {observed:.0?}"
    );
    println!("case=raw_consume_parse{suffix} msgs_per_s={raw:.0} ratio=1.00");
    println!(
        "case=full_pipeline{suffix} msgs_per_s={full:.0} ratio={:.2}",
        full / raw
    );
    println!(
        "case=full_pipeline_observed{suffix} msgs_per_s={full_observed:.0} ratio={:.2} vs_off={:.2}",
        full_observed / raw,
        full_observed / full
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let corpus = corpus();
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic(TOPIC, 12, 1).expect("topic");
    cluster
        .create_topic(&format!("{TOPIC}.dlq"), 1, 1)
        .expect("dlq topic");
    let mock = Target {
        bootstrap: cluster.bootstrap_servers(),
        topic: TOPIC.to_owned(),
    };
    fill(&mock, n, &corpus).await;
    let avg = corpus.iter().map(|(_, b)| b.len()).sum::<usize>() / corpus.len();
    println!(
        "# {n} messages, {} distinct envelopes, avg {avg} bytes, mock cluster",
        corpus.len()
    );

    if std::env::var("BENCH_ONLY").as_deref() == Ok("full") {
        // For profiling the pipeline alone.
        let full = full_pipeline(&mock, n, 0).await;
        println!("case=full_pipeline msgs_per_s={full:.0}");
        return;
    }
    // Alternate the cases over several rounds (fresh groups each time) and report medians:
    // on a small machine the mock broker competes for the same cores, so single runs vary.
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let _provider = observe_switch::install();
    compare(&mock, n, rounds, "").await;
    validation_alone(&corpus);
    duplicate_check_cost(&corpus);
    if let Ok(bootstrap) = std::env::var("KAFKA_CLUSTER_BOOTSTRAP_SERVERS") {
        // A fresh topic per run (made by scripts/bench), so it holds exactly `n` messages.
        let topic = std::env::var("BENCH_CLUSTER_CONSUMER_TOPIC")
            .expect("BENCH_CLUSTER_CONSUMER_TOPIC (scripts/bench sets it)");
        let t = Target { bootstrap, topic };
        fill(&t, n, &corpus).await;
        println!(
            "# target: 3-broker cluster {} topic {} (12 partitions, RF 3, min.insync.replicas 2)",
            t.bootstrap, t.topic
        );
        compare(&t, n, rounds, "_cluster").await;
    }
}
