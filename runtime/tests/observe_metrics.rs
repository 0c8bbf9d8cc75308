//! The `metrics` facade on a mock cluster: a global debugging recorder sees the same numbers
//! as the producer's and the consumer's `metrics()` snapshots, with the documented names and
//! labels (and no key or payload value among the labels), and consumer lag falls to 0.
//!
//! One test per binary: the recorder is process-global. The recorder is a plain
//! `metrics-util` registry (cumulative, unlike its debugging recorder whose snapshots reset).

mod consumer_support;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass, HandlerError};
use pmp_event_runtime::observe::metrics as m;
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;

/// (name, sorted labels) -> value; histograms as their sample count.
type Values = BTreeMap<(String, Vec<(String, String)>), f64>;

/// A cumulative recorder over a `metrics-util` registry.
#[derive(Clone)]
struct TestRecorder(Arc<Registry<Key, AtomicStorage>>);

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.0
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.0
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.0
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

fn entry(key: &Key) -> (String, Vec<(String, String)>) {
    let mut labels: Vec<(String, String)> = key
        .labels()
        .map(|l| (l.key().to_owned(), l.value().to_owned()))
        .collect();
    labels.sort();
    (key.name().to_owned(), labels)
}

fn values(r: &TestRecorder) -> Values {
    let mut out = Values::new();
    r.0.visit_counters(|k, c| {
        out.insert(entry(k), c.load(Relaxed) as f64);
    });
    r.0.visit_gauges(|k, g| {
        out.insert(entry(k), f64::from_bits(g.load(Relaxed)));
    });
    r.0.visit_histograms(|k, h| {
        out.insert(entry(k), h.data().len() as f64);
    });
    out
}

fn get(v: &Values, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    v.get(&(name.to_owned(), l)).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facade_counters_match_snapshots_and_lag_falls_to_zero() {
    let recorder = TestRecorder(Arc::new(Registry::atomic()));
    metrics::set_global_recorder(recorder.clone()).expect("first recorder");

    let cluster = cluster(&[(TOPIC_EVENTS, 2)]);
    let bootstrap = cluster.bootstrap_servers();
    let spool = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(ProducerConfig::new(
        "observe-test",
        KafkaConfig::new(&bootstrap),
        spool.path(),
    ))
    .unwrap();
    let mut handles = Vec::new();
    for id in 1..=6u32 {
        let e = CreatedV1 {
            id,
            code: "12345".into(),
            status: "open".into(),
            name: Some("PII-NAME".into()),
        };
        handles.push(producer.publish(e).unwrap());
    }
    for h in handles {
        h.await.unwrap();
    }
    // One record that fails the schema: dead-lettered with class schema_violation.
    let bad = event(
        0,
        "test.created",
        1,
        serde_json::json!({"id": 99, "code": "x", "status": "open"}),
    )
    .1;
    produce(&producer_raw(&bootstrap), TOPIC_EVENTS, &[bad]).await;

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let h = handled.clone();
    let tries: Arc<Mutex<u32>> = Arc::default();
    let cfg = config(&bootstrap, "observe", &[TOPIC_EVENTS]);
    let mut cfg = cfg;
    cfg.kafka = cfg.kafka.set("statistics.interval.ms", "100");
    let consumer = ConsumerBuilder::<TestEvent>::new(cfg)
        .on::<CreatedV1, _, _>(move |e| {
            let (h, tries) = (h.clone(), tries.clone());
            async move {
                if e.payload.id == 2 {
                    let mut t = tries.lock().unwrap();
                    *t += 1;
                    if *t == 1 {
                        return Err(HandlerError::transient("busy once"));
                    }
                }
                h.lock().unwrap().push(e.payload.id);
                Ok(())
            }
        })
        .start()
        .unwrap();

    wait_for(
        "6 processed, 1 dead-lettered",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| m.processed_total() == 6 && m.dead_lettered_total() == 1,
    )
    .await;
    // Lag comes from librdkafka statistics once the commits are in.
    wait_for(
        "lag 0 on both partitions",
        Duration::from_secs(60),
        || values(&recorder),
        |v| {
            (0..2).all(|p| {
                let l = [("topic", TOPIC_EVENTS), ("partition", &p.to_string())];
                v.contains_key(&(m::CONSUMER_LAG.to_owned(), sorted(&l)))
                    && get(v, m::CONSUMER_LAG, &l) == 0.0
            })
        },
    )
    .await;

    let v = values(&recorder);
    let pm = producer.metrics();
    let cm = consumer.metrics();
    let t = [("topic", TOPIC_EVENTS)];
    let typed = [("event_type", "test.created"), ("version", "1")];
    let published = [typed[0], typed[1], t[0]];

    assert_eq!(pm.published, 6);
    assert_eq!(
        get(&v, m::PRODUCER_PUBLISHED, &published),
        pm.published as f64
    );
    assert_eq!(get(&v, m::PRODUCER_DELIVERED, &t), pm.delivered as f64);
    assert_eq!(get(&v, m::PRODUCER_SPOOLED, &t), pm.spooled as f64);
    assert_eq!(get(&v, m::PRODUCER_RETRIES, &[]), pm.retries as f64);
    assert_eq!(get(&v, m::PRODUCER_CONNECTED, &[]), 1.0);

    assert_eq!(get(&v, m::CONSUMER_CONSUMED, &t), 7.0);
    assert_eq!(get(&v, m::CONSUMER_PROCESSED, &typed), 6.0);
    assert_eq!(cm.processed[&("test.created".to_owned(), 1)], 6);
    let class = [("class", FailureClass::SchemaViolation.as_str())];
    assert_eq!(get(&v, m::CONSUMER_DEAD_LETTERED, &class), 1.0);
    assert_eq!(cm.dead_lettered[&FailureClass::SchemaViolation], 1);
    assert_eq!(get(&v, m::CONSUMER_RETRIES, &[]), 1.0);
    assert_eq!(cm.retries, 1);
    assert_eq!(get(&v, m::CONSUMER_HANDLER_DURATION, &typed), 6.0);
    assert_eq!(get(&v, m::CONSUMER_COMMIT_FAILURES, &[]), 0.0);

    // Every name is documented and prefixed; no label carries a key, an id or a payload value.
    for (name, labels) in v.keys() {
        assert!(
            m::ALL.contains(&name.as_str()),
            "undocumented metric {name}"
        );
        for (k, val) in labels {
            assert!(
                ["topic", "event_type", "version", "class", "partition"].contains(&k.as_str()),
                "label {k} on {name}"
            );
            assert!(!val.contains("PII") && val != "k", "value {val} on {name}");
        }
    }

    producer.shutdown(Duration::from_secs(10)).await;
    consumer.shutdown(Duration::from_secs(10)).await;
}

fn sorted(l: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = l
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    l
}

fn producer_raw(bootstrap: &str) -> rdkafka::producer::FutureProducer {
    consumer_support::producer(bootstrap)
}
