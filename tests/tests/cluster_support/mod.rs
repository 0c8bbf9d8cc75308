//! The 3-broker cluster of `scripts/kafka-local start --brokers 3` and a paced publishing load
//! whose every event is accounted for.
//!
//! [`cluster`] panics when `KAFKA_CLUSTER_BOOTSTRAP_SERVERS` is missing or the cluster has
//! fewer than three brokers: these tests never pass without the cluster. [`Heal`] resumes
//! paused brokers and restarts stopped ones when a test ends (also on panic), so the next test
//! starts from a healthy cluster.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pmp_e2e_tests::{port_open, repo_root};
use pmp_event_runtime::producer::{ConnectionState, Delivery, ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use pmp_events::PatientDeletedV1;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use uuid::Uuid;

use pmp_event_runtime::RawEnvelope;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::e2e_support::{run_name, ReadBack, WAIT};

/// The local cluster, from the environment `scripts/kafka-local env` prints.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Every broker's plaintext listener.
    pub bootstrap: String,
    /// Broker N's address at index N-1 (broker id N-1).
    pub brokers: Vec<String>,
    /// `scripts/kafka-local`.
    pub script: PathBuf,
    /// The topic tool wrapper.
    pub topics_cmd: PathBuf,
}

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!(
            "{name} is not set: this test needs the 3-broker cluster. Run `scripts/test`, or \
             `KAFKA_LOCAL_DIR=.kafka-local-cluster scripts/kafka-local start --brokers 3 && \
             eval \"$(KAFKA_LOCAL_DIR=.kafka-local-cluster scripts/kafka-local env)\" && \
             export KAFKA_CLUSTER_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS` first"
        ),
    }
}

/// The cluster's settings; panics when they are missing, it has fewer than 3 brokers, or a
/// broker is unreachable.
pub fn cluster() -> Cluster {
    let bootstrap = required_env("KAFKA_CLUSTER_BOOTSTRAP_SERVERS");
    let count: usize = required_env("KAFKA_LOCAL_BROKERS")
        .parse()
        .expect("KAFKA_LOCAL_BROKERS is a number");
    assert!(
        count >= 3,
        "the failover tests need 3 brokers, the cluster has {count}"
    );
    let brokers: Vec<String> = (1..=count)
        .map(|n| required_env(&format!("KAFKA_LOCAL_BROKER_{n}")))
        .collect();
    let c = Cluster {
        bootstrap,
        brokers,
        script: std::env::var("KAFKA_LOCAL_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join("scripts/kafka-local")),
        topics_cmd: PathBuf::from(required_env("KAFKA_TOPICS_CMD")),
    };
    // A test that failed earlier may have left a broker down or paused.
    c.heal();
    for b in &c.brokers {
        assert!(
            port_open(b, Duration::from_secs(5)),
            "broker {b} is not reachable"
        );
    }
    c
}

impl Cluster {
    /// `scripts/kafka-local ARGS...`; panics with its output when it fails.
    pub fn kafka_local(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.script.display()));
        assert!(
            out.status.success(),
            "scripts/kafka-local {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Resume every paused broker and start every stopped one (best effort, no panic).
    pub fn heal(&self) {
        for n in 1..=self.brokers.len() {
            let _ = Command::new(&self.script)
                .args(["resume", &n.to_string()])
                .output();
        }
        let _ = Command::new(&self.script).arg("restart").output();
    }

    /// Create the catalog's topics with the `cluster` environment (RF 3, min.insync.replicas
    /// 2), once per test binary.
    pub fn ensure_topics(&self) {
        static DONE: OnceLock<()> = OnceLock::new();
        DONE.get_or_init(|| {
            let out = Command::new("bash")
                .arg(repo_root().join("docker/kafka/create-topics.sh"))
                .args(["--env", "cluster"])
                .env("KAFKA_BOOTSTRAP_SERVERS", &self.bootstrap)
                .env("KAFKA_TOPICS_CMD", &self.topics_cmd)
                .env_remove("KAFKA_REPLICATION_FACTOR")
                .output()
                .expect("run create-topics.sh");
            assert!(
                out.status.success(),
                "create-topics.sh --env cluster failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        });
    }

    /// Per partition of `topic`: (leader broker number, in-sync replica count).
    pub fn partition_state(&self, topic: &str) -> Vec<(usize, usize)> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .expect("metadata client");
        let md = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("metadata of {topic}: {e}"));
        let t = &md.topics()[0];
        let mut parts: Vec<_> = t
            .partitions()
            .iter()
            .map(|p| (p.id(), (p.leader() + 1) as usize, p.isr().len()))
            .collect();
        parts.sort();
        parts.into_iter().map(|(_, l, i)| (l, i)).collect()
    }

    /// The broker number (1-based) leading `topic`/`partition`.
    pub fn leader_of(&self, topic: &str, partition: usize) -> usize {
        self.partition_state(topic)[partition].0
    }

    /// Wait until every partition of `topic` has a leader and all replicas in sync.
    pub fn wait_in_sync(&self, topic: &str) {
        let n = self.brokers.len().min(3);
        wait_for(&format!("{topic}: every partition fully in sync"), || {
            let s = self.partition_state(topic);
            !s.is_empty() && s.iter().all(|(l, isr)| *l >= 1 && *isr == n)
        });
    }
}

/// Heals the cluster when dropped (end of a test, panics included).
pub struct Heal<'a>(pub &'a Cluster);

impl Drop for Heal<'_> {
    fn drop(&mut self) {
        self.0.heal();
    }
}

/// Poll `cond` every 100 ms; panics after [`WAIT`] naming `what`.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where one published event's handle resolved.
#[derive(Debug, Clone, Copy)]
pub struct Ack {
    /// When the handle resolved.
    pub at: Instant,
    /// The partition Kafka acknowledged it on; `None` when it was spooled.
    pub partition: Option<i32>,
}

/// A thread publishing `patient.deleted` events over `keys` keys at a bounded pace, recording
/// every accepted event, the slowest `publish()` call and where every handle resolved.
pub struct Load {
    /// The producer (shared with the publishing thread).
    pub producer: Arc<RobustProducer>,
    /// The envelope `producer` of this run's events.
    pub run: String,
    published: Arc<Mutex<Vec<(u64, Uuid)>>>,
    acks: Arc<Mutex<HashMap<Uuid, Ack>>>,
    max_publish: Arc<Mutex<Duration>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    /// Start publishing `total` events (or until [`Load::stop`]), sleeping 1 ms after every
    /// `per_ms` events. Call from inside a Tokio runtime (handles are awaited on it).
    pub fn start(
        bootstrap: &str,
        run: &str,
        spool: &std::path::Path,
        kafka: impl FnOnce(KafkaConfig) -> KafkaConfig,
        total: usize,
        keys: u64,
        per_ms: usize,
    ) -> Load {
        let cfg = ProducerConfig::new(run, kafka(KafkaConfig::new(bootstrap)), spool)
            .with_backoff(Duration::from_millis(100), Duration::from_secs(2));
        let producer = Arc::new(RobustProducer::new(cfg).expect("producer config"));
        let published: Arc<Mutex<Vec<(u64, Uuid)>>> = Arc::default();
        let acks: Arc<Mutex<HashMap<Uuid, Ack>>> = Arc::default();
        let max_publish: Arc<Mutex<Duration>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let rt = tokio::runtime::Handle::current();
        let base = 1 + u64::from(Uuid::new_v4().as_fields().0) * 1024;
        let thread = {
            let (producer, published, acks, max_publish, stop) = (
                producer.clone(),
                published.clone(),
                acks.clone(),
                max_publish.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..total {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let patient_id = base + i as u64 % keys;
                    let t0 = Instant::now();
                    let handle = producer
                        .publish(PatientDeletedV1 {
                            patient_id,
                            reason: None,
                        })
                        .unwrap_or_else(|e| panic!("publish {i} refused: {e}"));
                    let took = t0.elapsed();
                    {
                        let mut m = max_publish.lock().unwrap();
                        *m = (*m).max(took);
                    }
                    let id = handle.event_id();
                    published.lock().unwrap().push((patient_id, id));
                    let acks = acks.clone();
                    rt.spawn(async move {
                        let partition = match handle.await {
                            Ok(Delivery::Delivered { partition, .. }) => Some(partition),
                            Ok(Delivery::Spooled) => None,
                            Err(e) => panic!("event {id} failed: {e}"),
                        };
                        acks.lock().unwrap().insert(
                            id,
                            Ack {
                                at: Instant::now(),
                                partition,
                            },
                        );
                    });
                    if (i + 1) % per_ms == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        };
        Load {
            producer,
            run: run.to_owned(),
            published,
            acks,
            max_publish,
            stop,
            thread: Some(thread),
        }
    }

    /// Events accepted so far.
    pub fn count(&self) -> usize {
        self.published.lock().unwrap().len()
    }

    /// Block until at least `n` events were accepted.
    pub fn wait_count(&self, n: usize) {
        wait_for(&format!("{n} events published"), || self.count() >= n);
    }

    /// Stop publishing now and join the thread; returns what was published.
    pub fn stop(&mut self) -> Vec<(u64, Uuid)> {
        self.stop.store(true, Ordering::SeqCst);
        self.finish()
    }

    /// Wait until all events were published and join the thread; returns them.
    pub fn finish(&mut self) -> Vec<(u64, Uuid)> {
        if let Some(t) = self.thread.take() {
            t.join().expect("publishing thread");
        }
        self.published.lock().unwrap().clone()
    }

    /// The slowest `publish()` call.
    pub fn max_publish(&self) -> Duration {
        *self.max_publish.lock().unwrap()
    }

    /// Wait until every handle resolved, the spool is empty and the producer is `Up`.
    pub fn wait_settled(&self) {
        let n = self.count();
        wait_for("every handle resolved, spool drained, producer Up", || {
            let m = self.producer.metrics();
            self.acks.lock().unwrap().len() == n
                && m.spool_depth == 0
                && m.state == ConnectionState::Up
        });
    }

    /// Snapshot of the resolved handles.
    pub fn acks(&self) -> HashMap<Uuid, Ack> {
        self.acks.lock().unwrap().clone()
    }

    /// The longest time without an acknowledgement on `partition` from `from` on: how long
    /// deliveries to that partition stalled after a fault at `from`.
    pub fn delivery_gap(&self, partition: i32, from: Instant) -> Duration {
        let mut times: Vec<Instant> = self
            .acks()
            .values()
            .filter(|a| a.partition == Some(partition) && a.at >= from)
            .map(|a| a.at)
            .collect();
        times.sort();
        let mut prev = from;
        let mut gap = Duration::ZERO;
        for t in times {
            gap = gap.max(t - prev);
            prev = t;
        }
        gap
    }
}

/// What reading a run's events back found.
#[derive(Debug)]
pub struct Verified {
    /// Events published.
    pub published: usize,
    /// Records of this run on the topic.
    pub records: usize,
    /// Records beyond the first of each event.
    pub duplicates: usize,
}

/// Read `published` back from `topic` (3 partitions): every event present (0 lost), nothing
/// foreign under this run's name, and per key the first occurrences in publish order. With
/// `exact`, also 0 duplicates.
pub fn verify(
    cluster: &Cluster,
    topic: &str,
    run: &str,
    published: &[(u64, Uuid)],
    exact: bool,
) -> Verified {
    let expected: HashSet<Uuid> = published.iter().map(|(_, id)| *id).collect();
    assert_eq!(expected.len(), published.len(), "event ids are unique");
    let records = read_run(&cluster.bootstrap, topic, run, &expected);
    let got: HashSet<Uuid> = records.iter().map(|r| r.envelope.event_id).collect();
    let lost = expected.difference(&got).count();
    assert_eq!(lost, 0, "{lost} of {} events lost", expected.len());
    assert!(
        got.is_subset(&expected),
        "foreign events under this run's name"
    );
    let duplicates = records.len() - got.len();
    if exact {
        assert_eq!(duplicates, 0, "{duplicates} duplicates on {topic}");
    }

    let mut by_key: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (k, id) in published {
        by_key.entry(*k).or_default().push(*id);
    }
    let mut ordered = records.clone();
    ordered.sort_by_key(|r| (r.partition, r.offset));
    let mut first = HashSet::new();
    let mut read_by_key: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for r in &ordered {
        let key: u64 = String::from_utf8_lossy(r.key.as_deref().expect("record key"))
            .parse()
            .expect("numeric key");
        if first.insert(r.envelope.event_id) {
            read_by_key
                .entry(key)
                .or_default()
                .push(r.envelope.event_id);
        }
    }
    for (k, ids) in &by_key {
        assert!(
            read_by_key.get(k) == Some(ids),
            "per-key order broken for key {k}"
        );
    }
    Verified {
        published: published.len(),
        records: records.len(),
        duplicates,
    }
}

/// Read `topic` (3 partitions) from the beginning, keeping the envelopes whose `producer` is
/// `run`, until every id of `expected` was seen and then 2 s longer (duplicates may sit behind
/// the last one); panics after [`WAIT`] naming how many are missing. Linear in the records
/// read (the e2e helper re-checks the whole set per record, too slow for 50,000 events).
pub fn read_run(
    bootstrap: &str,
    topic: &str,
    run: &str,
    expected: &HashSet<Uuid>,
) -> Vec<ReadBack> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", run_name("verifier"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("verifier consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition list");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut found = 0usize;
    let mut complete_at: Option<Instant> = None;
    let until = Instant::now() + WAIT;
    loop {
        if found == expected.len() {
            let at = *complete_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= Duration::from_secs(2) {
                return out;
            }
        }
        assert!(
            Instant::now() < until,
            "{topic}: {} of {} events not read back",
            expected.len() - found,
            expected.len()
        );
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.unwrap_or_else(|e| panic!("{topic}: consume error {e}"));
        let Some(value) = msg.payload() else { continue };
        let Ok(envelope) = RawEnvelope::parse(value) else {
            continue;
        };
        if envelope.producer != run {
            continue;
        }
        if seen.insert(envelope.event_id) && expected.contains(&envelope.event_id) {
            found += 1;
        }
        out.push(ReadBack {
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(<[u8]>::to_vec),
            envelope,
        });
    }
}
