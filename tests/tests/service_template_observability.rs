//! Acceptance of "Operating a service" on the real broker of `scripts/kafka-local`: the
//! `service-template` binary (`examples/service-template`, what `eventctl new` writes) runs as
//! `produce` and `consume` with `PMP_METRICS_ADDR` set and JSON logs; the test scrapes
//! `/metrics` and `/readyz` over HTTP:
//!
//! 1. the consumer's `/readyz` answers 503 before it is connected and assigned, 200 after;
//! 2. the producer's counters move while it publishes; after it stops, what it logged as
//!    accepted is what reached the topic, the consumer's `consumed` and `processed` counters
//!    equal the records on the topic, and `pmp_consumer_lag_messages` falls to 0;
//! 3. with the broker SIGKILLed, both `/readyz` answer 503; after the restart, 200 again.
//!
//! Builds the binary with `cargo build -p service-template` (same target directory, the
//! runtime's `ssl-vendored` feature as the e2e crate has it).
//! Kills and restarts the broker: run with `--test-threads=1` (as `scripts/test` does).

mod e2e_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{run_name, WAIT};
use pmp_e2e_tests::{broker, fault_lock, repo_root, run_script_against, LocalBroker};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

const TOPIC: &str = "appointment-events";

/// Restarts whatever is down when a test step panics, so later tests find a running broker.
struct RestartOnDrop<'a>(&'a LocalBroker);

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new(&self.0.script).arg("restart").status();
        }
    }
}

/// A running `service-template` process; its stderr (JSON log lines) is collected. Killed
/// on drop if still running.
struct Service {
    child: Child,
    metrics: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    fn start(binary: &PathBuf, args: &[&str], env: &[(&str, &str)]) -> Service {
        let port = free_port();
        let metrics = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .env("PMP_METRICS_ADDR", &metrics)
            .env("PMP_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let logs: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = logs.clone();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Service {
            child,
            metrics,
            logs,
        }
    }

    /// (status, body) of `GET path`; `None` while nothing listens yet.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut resp = agent
            .get(&format!("http://{}{path}", self.metrics))
            .call()
            .ok()?;
        let status = resp.status().as_u16();
        Some((status, resp.body_mut().read_to_string().unwrap_or_default()))
    }

    /// The first `/readyz` answer once the server listens.
    fn first_readiness(&mut self) -> (u16, String) {
        let until = Instant::now() + WAIT;
        loop {
            if let Some(answer) = self.get("/readyz") {
                return answer;
            }
            self.assert_running();
            assert!(Instant::now() < until, "{} never listened", self.metrics);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_ready(&mut self, status: u16, what: &str) {
        let until = Instant::now() + WAIT;
        let mut last = None;
        loop {
            last = self.get("/readyz").or(last);
            if last.as_ref().is_some_and(|(s, _)| *s == status) {
                return;
            }
            self.assert_running();
            assert!(
                Instant::now() < until,
                "{what}: /readyz never answered {status}; last {last:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn metrics(&self) -> Metrics {
        let (status, body) = self.get("/metrics").expect("/metrics answers");
        assert_eq!(status, 200);
        Metrics::parse(&body)
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "service exited early ({status}); log:\n{}",
                self.logs.lock().unwrap().join("\n")
            );
        }
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = self.child.wait().expect("wait");
        assert!(
            status.success(),
            "exit {status}; log:\n{}",
            self.logs.lock().unwrap().join("\n")
        );
    }

    /// The `fields.message` of every JSON log line.
    fn messages(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["fields"]["message"].as_str().map(str::to_owned))
            .collect()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Prometheus text format, as (name, labels) -> value.
struct Metrics(Vec<(String, BTreeMap<String, String>, f64)>);

impl Metrics {
    fn parse(text: &str) -> Metrics {
        let mut out = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().expect("a number");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.split_once("=\""))
                .map(|(k, v)| (k.to_owned(), v.trim_end_matches('"').to_owned()))
                .collect();
            out.push((name.to_owned(), labels, value));
        }
        Metrics(out)
    }

    /// Every series of `name` whose labels include `with`.
    fn series(&self, name: &str, with: &[(&str, &str)]) -> Vec<(&BTreeMap<String, String>, f64)> {
        self.0
            .iter()
            .filter(|(n, labels, _)| {
                n == name
                    && with
                        .iter()
                        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, l, v)| (l, *v))
            .collect()
    }

    fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.series(name, with).iter().map(|(_, v)| v).sum()
    }
}

/// Records on `TOPIC` now: the sum over partitions of high minus low watermark.
fn records_on_topic(bootstrap: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(TOPIC), Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("metadata of {TOPIC}: {e}"));
    md.topics()[0]
        .partitions()
        .iter()
        .map(|p| {
            let (low, high) = c
                .fetch_watermarks(TOPIC, p.id(), Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("watermarks of {TOPIC}/{}: {e}", p.id()));
            high - low
        })
        .sum()
}

/// `cargo build -p service-template` into this test's target directory; its binary.
fn service_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "-q",
            "-p",
            "service-template",
            "--bin",
            "service-template",
        ])
        // The feature the e2e crate builds librdkafka with: no second librdkafka build.
        .args(["--features", "pmp-event-runtime/ssl-vendored"])
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p service-template failed");
    // target/debug/deps/<this test> -> target/debug/service-template
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let binary = profile_dir.join("service-template");
    assert!(binary.is_file(), "{} was not built", binary.display());
    binary
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The fault lock serializes whole tests: holding it across awaits is the point.
#[allow(clippy::await_holding_lock)]
async fn service_template_metrics_and_readiness_on_the_real_broker() {
    let binary = service_binary();
    let _lock = fault_lock();
    let b = broker();
    let topics = run_script_against(
        &b,
        &repo_root().join("examples/service-template/create-topics.sh"),
        &[],
    );
    assert!(
        topics.status.success(),
        "{}",
        String::from_utf8_lossy(&topics.stderr)
    );
    let _guard = RestartOnDrop(&b);
    let run = run_name("svc-obs");
    let spool = tempfile::tempdir().unwrap();
    let kafka = [("KAFKA_BOOTSTRAP_SERVERS", b.bootstrap.as_str())];

    // 1: the consumer, a group of its own reading the topic from the start.
    let mut consumer = Service::start(
        &binary,
        &["consume"],
        &[kafka[0], ("KAFKA_GROUP_ID", run.as_str())],
    );
    let (status, body) = consumer.first_readiness();
    assert_eq!(
        status, 503,
        "not ready before its first statistics report: {body}"
    );
    consumer.wait_ready(200, "consumer connected and assigned");

    // 2: the producer; its counters move while it publishes.
    let spool_dir = spool.path().to_str().unwrap();
    let producer_env = [
        kafka[0],
        ("SERVICE_NAME", run.as_str()),
        ("PMP_PRODUCER_SPOOL_DIR", spool_dir),
    ];
    let mut producer = Service::start(&binary, &["produce", "--interval-ms", "10"], &producer_env);
    producer.wait_ready(200, "producer connected");
    let published = |m: &Metrics| {
        m.sum(
            "pmp_producer_published_events_total",
            &[
                ("topic", TOPIC),
                ("event_type", "appointment.requested"),
                ("version", "1"),
            ],
        )
    };
    let first = published(&producer.metrics());
    wait_until("the producer's counters move", || {
        let m = producer.metrics();
        published(&m) >= first + 50.0
            && m.sum("pmp_producer_delivered_events_total", &[("topic", TOPIC)]) >= 50.0
    })
    .await;
    producer.stop();
    let messages = producer.messages();
    let accepted = messages
        .iter()
        .filter(|m| *m == "delivered" || m.starts_with("spooled"))
        .count() as i64;
    assert!(accepted >= 50, "{accepted} events accepted");
    assert!(
        messages.iter().any(|m| m == "producer stopped"),
        "{messages:?}"
    );

    // What the consumer counted is what is on the topic, and its lag falls to 0.
    let on_topic = records_on_topic(&b.bootstrap);
    assert!(
        on_topic >= accepted,
        "{on_topic} records, {accepted} accepted"
    );
    wait_until("the consumer caught up (lag 0 on every partition)", || {
        let m = consumer.metrics();
        let lag = m.series("pmp_consumer_lag_messages", &[("topic", TOPIC)]);
        let consumed = m.sum("pmp_consumer_consumed_messages_total", &[("topic", TOPIC)]);
        !lag.is_empty() && lag.iter().all(|(_, v)| *v == 0.0) && consumed == on_topic as f64
    })
    .await;
    let m = consumer.metrics();
    assert_eq!(
        m.sum(
            "pmp_consumer_processed_events_total",
            &[("event_type", "appointment.requested"), ("version", "1")]
        ),
        on_topic as f64,
        "every record on the topic was handled"
    );
    assert_eq!(m.sum("pmp_consumer_dead_lettered_messages_total", &[]), 0.0);
    for (_, labels, _) in &m.0 {
        for key in labels.keys() {
            assert!(
                [
                    "topic",
                    "event_type",
                    "version",
                    "class",
                    "partition",
                    "le",
                    "quantile"
                ]
                .contains(&key.as_str()),
                "label {key} on /metrics"
            );
        }
    }

    // 3: readiness with the broker killed, and after the restart.
    let mut producer = Service::start(&binary, &["produce", "--interval-ms", "50"], &producer_env);
    producer.wait_ready(200, "the second producer connected");
    b.kafka_local(&["kill", "broker"]);
    producer.wait_ready(503, "producer with the broker killed");
    consumer.wait_ready(503, "consumer with the broker killed");
    let (_, body) = producer.get("/readyz").unwrap();
    assert!(body.contains("producer: FAIL"), "{body}");
    b.kafka_local(&["restart"]);
    producer.wait_ready(200, "producer after the restart");
    consumer.wait_ready(200, "consumer after the restart");
    let (status, _) = producer.get("/healthz").unwrap();
    assert_eq!(status, 200);
    producer.stop();
    consumer.stop();
}
