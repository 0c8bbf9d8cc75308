//! The transactional outbox and inbox (crate `pmp-event-outbox`) on the real PostgreSQL of
//! `scripts/pg-local` and the real broker of `scripts/kafka-local`. Every test counts events
//! exactly: each staged `event_id` read back from Kafka (0 lost), nothing read back that was
//! not committed, per key the first occurrences in staging order, duplicates counted.
//!
//! Each test gets a database of its own. Tests that kill the broker hold [`fault_lock`]; run
//! with `--test-threads=1` (as `scripts/test` does).

mod e2e_support;
mod outbox_support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{robust_producer, run_name, WAIT};
use outbox_support::{
    check_delivered, fresh_database, read_run, stage, Staged, TestDb, PARTITIONS, TOPIC,
};
use pmp_e2e_tests::{broker, fault_lock, LocalBroker};
use pmp_event_outbox::{
    AfterDelivery, Outbox, Relay, RelayConfig, RelayRole, StageError, DLQ_OUTBOX_ID_HEADER,
};
use pmp_event_runtime::consumer::dlq_headers;
use pmp_event_runtime::producer::RobustProducer;
use pmp_event_runtime::KafkaConfig;
use pmp_events::{AnyEvent, PatientDeletedV1};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use uuid::Uuid;

fn setup() -> LocalBroker {
    let b = broker();
    b.ensure_topics();
    b
}

fn relay_config(db: &TestDb, bootstrap: &str) -> RelayConfig {
    let mut c = RelayConfig::new(db.options.clone(), KafkaConfig::new(bootstrap));
    c.poll_interval = Duration::from_millis(200);
    c.standby_poll = Duration::from_millis(200);
    c.backoff_min = Duration::from_millis(50);
    c.backoff_max = Duration::from_secs(1);
    c
}

fn start_relay(
    config: RelayConfig,
    bootstrap: &str,
    spool: &std::path::Path,
) -> (Relay, Arc<RobustProducer>) {
    let producer = Arc::new(robust_producer(bootstrap, "outbox-relay", spool));
    let relay = Relay::start::<AnyEvent>(config, producer.clone()).expect("relay starts");
    (relay, producer)
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Read the topic until every staged event is there, then check it.
fn delivered(b: &LocalBroker, run: &str, staged: &Staged) -> usize {
    check_delivered(&read_run(&b.bootstrap, run, &staged.ids()), staged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_payload_is_refused_and_rolled_back_events_are_never_published() {
    let b = setup();
    let db = fresh_database("stage").await;
    let run = run_name("outbox-stage");
    let outbox = Outbox::new(&run);
    let mut staged = Staged::default();
    let key = 4711u64;

    let mut tx = db.pool.begin().await.unwrap();
    let ok = |id: Uuid, staged: &mut Staged| staged.by_key.entry(key).or_default().push(id);
    ok(
        outbox
            .stage(
                &mut tx,
                &PatientDeletedV1 {
                    patient_id: key,
                    reason: None,
                },
            )
            .await
            .unwrap(),
        &mut staged,
    );
    let refused = outbox
        .stage(
            &mut tx,
            &PatientDeletedV1 {
                patient_id: 0,
                reason: Some("secret reason".into()),
            },
        )
        .await
        .expect_err("patient_id 0 breaks minimum 1");
    match &refused {
        StageError::Invalid {
            event_type,
            violation,
            ..
        } => {
            assert_eq!(*event_type, "patient.deleted");
            assert_eq!(violation.instance_pointer, "/patient_id");
            assert_eq!(violation.keyword, "minimum");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(
        !refused.to_string().contains("secret"),
        "error shows a payload value: {refused}"
    );
    // The refused event left the transaction usable and inserted nothing.
    ok(
        outbox
            .stage(
                &mut tx,
                &PatientDeletedV1 {
                    patient_id: key,
                    reason: None,
                },
            )
            .await
            .unwrap(),
        &mut staged,
    );
    tx.commit().await.unwrap();
    assert_eq!(db.count("SELECT count(*) FROM event_outbox").await, 2);

    let mut rolled_back = HashSet::new();
    let mut tx = db.pool.begin().await.unwrap();
    for _ in 0..5 {
        rolled_back.insert(
            outbox
                .stage(
                    &mut tx,
                    &PatientDeletedV1 {
                        patient_id: key,
                        reason: None,
                    },
                )
                .await
                .unwrap(),
        );
    }
    tx.rollback().await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    for _ in 0..3 {
        rolled_back.insert(
            outbox
                .stage(
                    &mut tx,
                    &PatientDeletedV1 {
                        patient_id: key,
                        reason: None,
                    },
                )
                .await
                .unwrap(),
        );
    }
    drop(tx); // never committed
    assert_eq!(db.count("SELECT count(*) FROM event_outbox").await, 2);
    // The last committed event on the same key (one partition): everything published before it
    // on that partition is read by the time it is.
    let mut tx = db.pool.begin().await.unwrap();
    ok(
        outbox
            .stage(
                &mut tx,
                &PatientDeletedV1 {
                    patient_id: key,
                    reason: None,
                },
            )
            .await
            .unwrap(),
        &mut staged,
    );
    tx.commit().await.unwrap();

    let spool = tempfile::tempdir().unwrap();
    let mut config = relay_config(&db, &b.bootstrap);
    config.after_delivery = AfterDelivery::MarkPublished {
        keep_for: Duration::from_secs(1),
    };
    config.cleanup_interval = Duration::from_millis(200);
    config.cleanup_batch = 2;
    let (relay, producer) = start_relay(config, &b.bootstrap, spool.path());
    db.wait_drained().await;
    let got = read_run(&b.bootstrap, &run, &staged.ids());
    for r in &got {
        assert!(
            !rolled_back.contains(&r.envelope.event_id),
            "a rolled-back event was published"
        );
    }
    assert_eq!(check_delivered(&got, &staged), 0);
    // Published rows are cleaned up after `keep_for`, in batches of `cleanup_batch`.
    let until = Instant::now() + WAIT;
    while db.count("SELECT count(*) FROM event_outbox").await > 0 {
        assert!(Instant::now() < until, "published rows never cleaned up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(relay.metrics().cleaned_up, 3);
    relay.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_that_no_longer_validate_go_to_the_dlq_with_their_outbox_id_and_block_nothing() {
    let b = setup();
    let db = fresh_database("dlq").await;
    let run = run_name("outbox-dlq");
    let outbox = Outbox::new(&run);
    let mut staged = stage(&db.pool, &outbox, 1..4, 5, 5).await;
    // Bad rows on the same keys, between good ones: a schema violation, an unknown type, not JSON,
    // and a row whose topic column disagrees with the schema.
    let bad: Vec<(Uuid, String, &str, &str, Vec<u8>)> = {
        let envelope = |event_type: &str, payload: &str, id: Uuid| {
            format!(
                r#"{{"event_id":"{id}","event_type":"{event_type}","version":1,"timestamp":"2026-12-01T00:00:00Z","producer":"{run}","payload":{payload}}}"#
            )
            .into_bytes()
        };
        let (a, c, d, e) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        vec![
            (
                a,
                "patient.deleted".into(),
                TOPIC,
                "schema_violation",
                envelope("patient.deleted", r#"{"patient_id":0}"#, a),
            ),
            (
                c,
                "patient.vanished".into(),
                TOPIC,
                "unknown_event_type",
                envelope("patient.vanished", r#"{"patient_id":1}"#, c),
            ),
            (
                d,
                "patient.deleted".into(),
                TOPIC,
                "not_json",
                b"{not json".to_vec(),
            ),
            (
                e,
                "patient.deleted".into(),
                "therapist-events",
                "header_mismatch",
                envelope("patient.deleted", r#"{"patient_id":2}"#, e),
            ),
        ]
    };
    let mut bad_rows = Vec::new();
    for (event_id, event_type, topic, class, bytes) in &bad {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO event_outbox (event_id, event_type, version, topic, key, headers, envelope) \
             VALUES ($1, $2, 1, $3, '2', '{}', $4) RETURNING id",
        )
        .bind(event_id)
        .bind(event_type)
        .bind(topic)
        .bind(bytes)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        bad_rows.push((id, *event_id, *topic, *class));
    }
    staged.extend(stage(&db.pool, &outbox, 1..4, 5, 5).await);

    let spool = tempfile::tempdir().unwrap();
    let (relay, producer) =
        start_relay(relay_config(&db, &b.bootstrap), &b.bootstrap, spool.path());
    db.wait_drained().await;
    assert_eq!(delivered(&b, &run, &staged), 0);
    assert_eq!(relay.metrics().dead_lettered, bad.len() as u64);
    for (id, _, _, class) in &bad_rows {
        let column: Option<String> =
            sqlx::query_scalar("SELECT dead_letter FROM event_outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        let column = column.unwrap_or_default();
        assert!(
            column.starts_with(class),
            "row {id}: dead_letter {column:?}, expected class {class}"
        );
    }
    // Each bad row is in its topic's DLQ with its outbox id and class.
    for (id, event_id, topic, class) in &bad_rows {
        let headers = dlq_record(&b.bootstrap, &format!("{topic}.dlq"), *event_id);
        assert_eq!(
            headers.get(DLQ_OUTBOX_ID_HEADER),
            Some(&id.to_string()),
            "{class}"
        );
        assert_eq!(
            headers.get(dlq_headers::CLASS).map(String::as_str),
            Some(*class)
        );
    }
    relay.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await;
}

/// The headers of the dead letter whose `event_id` header is `event_id`.
fn dlq_record(
    bootstrap: &str,
    topic: &str,
    event_id: Uuid,
) -> std::collections::HashMap<String, String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", run_name("dlq-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let want = event_id.to_string();
    let until = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < until,
            "no dead letter for {event_id} in {topic}"
        );
        let Some(Ok(msg)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let headers: std::collections::HashMap<String, String> = msg
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if headers.get("event_id") == Some(&want) {
            return headers;
        }
    }
}

/// A child process whose last stdout line is kept.
struct Proc {
    child: Child,
    last: Arc<Mutex<String>>,
}

impl Proc {
    fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn");
        let out = child.stdout.take().unwrap();
        let last = Arc::new(Mutex::new(String::new()));
        let keep = last.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                *keep.lock().unwrap() = line;
            }
        });
        Proc { child, last }
    }

    /// A `name=value` counter from the last line.
    fn counter(&self, name: &str) -> Option<u64> {
        let line = self.last.lock().unwrap().clone();
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    }

    fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGINT, and wait (bounded) for a clean exit.
    fn interrupt(&mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "child exited with {status}");
                return;
            }
            assert!(Instant::now() < until, "child did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn relay_process(db: &TestDb, b: &LocalBroker, spool: &std::path::Path) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outbox_relay"));
    cmd.env("DATABASE_URL", &db.url)
        .env("KAFKA_BOOTSTRAP_SERVERS", &b.bootstrap)
        .env("OUTBOX_RELAY_SPOOL", spool);
    Proc::spawn(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_sigkilled_mid_stream_and_restarted_loses_nothing() {
    let b = setup();
    let db = fresh_database("sigkill").await;
    let run = run_name("outbox-sigkill");
    let outbox = Outbox::new(&run);
    let mut staged = stage(&db.pool, &outbox, 1..21, 150, 10).await;
    let total = staged.len() as i64;
    let spool = tempfile::tempdir().unwrap();

    let mut relay = relay_process(&db, &b, spool.path());
    let until = Instant::now() + WAIT;
    while db
        .count("SELECT count(*) FROM event_outbox WHERE published_at IS NOT NULL")
        .await
        < total / 4
    {
        assert!(
            Instant::now() < until,
            "the relay process publishes nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.sigkill();
    // Staged while no relay runs: they wait in the table.
    staged.extend(stage(&db.pool, &outbox, 1..21, 100, 10).await);
    let unpublished = db.unpublished().await;
    assert!(
        unpublished >= 2000,
        "only {unpublished} rows unpublished while the relay is dead"
    );

    let mut relay = relay_process(&db, &b, spool.path());
    db.wait_drained().await;
    let duplicates = delivered(&b, &run, &staged);
    println!(
        "sigkill: {} events, 0 lost, {duplicates} duplicates",
        staged.len()
    );
    relay.interrupt();
    db.drop_database().await;
}

// The fault lock only serializes the tests of this binary (each has its own runtime), so
// holding it across awaits cannot deadlock.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_killed_while_the_relay_runs_rows_stay_then_drain_in_order() {
    let b = setup();
    let _fault = fault_lock();
    let db = fresh_database("brokerkill").await;
    let run = run_name("outbox-brokerkill");
    let outbox = Outbox::new(&run);
    let spool = tempfile::tempdir().unwrap();
    let (relay, producer) =
        start_relay(relay_config(&db, &b.bootstrap), &b.bootstrap, spool.path());
    let mut staged = stage(&db.pool, &outbox, 1..11, 50, 10).await;
    db.wait_drained().await;

    b.kafka_local(&["kill"]);
    let restart = RestartOnPanic(&b);
    staged.extend(stage(&db.pool, &outbox, 1..11, 100, 10).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let unpublished = db.unpublished().await;
    assert!(
        unpublished >= 1000,
        "only {unpublished} of 1000 rows staged during the outage are unpublished"
    );
    b.kafka_local(&["restart"]);
    drop(restart);
    staged.extend(stage(&db.pool, &outbox, 1..11, 20, 10).await);
    db.wait_drained().await;
    let duplicates = delivered(&b, &run, &staged);
    println!(
        "broker kill: {} events, 0 lost, {duplicates} duplicates, resent {}",
        staged.len(),
        relay.metrics().resent
    );
    relay.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await;
}

/// Restarts the broker if a step panics while it is down.
struct RestartOnPanic<'a>(&'a LocalBroker);

impl Drop for RestartOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new(&self.0.script).arg("restart").status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_at_once_publish_nothing_twice() {
    let b = setup();
    let db = fresh_database("tworelays").await;
    let run = run_name("outbox-two");
    let outbox = Outbox::new(&run);
    let (s1, s2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (r1, p1) = start_relay(relay_config(&db, &b.bootstrap), &b.bootstrap, s1.path());
    let (r2, p2) = start_relay(relay_config(&db, &b.bootstrap), &b.bootstrap, s2.path());
    wait_until("one leader", || {
        let roles = [r1.role(), r2.role()];
        roles.contains(&RelayRole::Leader) && roles.contains(&RelayRole::Standby)
    })
    .await;
    let mut staged = stage(&db.pool, &outbox, 1..21, 100, 10).await;
    db.wait_drained().await;
    let (leader, standby, lp, sp) = if r1.role() == RelayRole::Leader {
        (r1, r2, p1, p2)
    } else {
        (r2, r1, p2, p1)
    };
    assert_eq!(leader.metrics().delivered, staged.len() as u64);
    assert_eq!(standby.metrics().delivered, 0);
    assert_eq!(standby.metrics().leader_terms, 0);

    // Hand-over mid-stream: the leader shuts down while rows flow; the standby takes over.
    let more = {
        let pool = db.pool.clone();
        let outbox = outbox.clone();
        tokio::spawn(async move { stage(&pool, &outbox, 1..21, 100, 10).await })
    };
    let before = leader.metrics().delivered;
    wait_until("the leader publishes the second wave", || {
        leader.metrics().delivered > before + 100
    })
    .await;
    let report = leader.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.unresolved, 0);
    staged.extend(more.await.unwrap());
    db.wait_drained().await;
    assert_eq!(standby.role(), RelayRole::Leader);
    assert!(standby.metrics().delivered > 0);
    assert_eq!(
        report.metrics.delivered + standby.metrics().delivered,
        staged.len() as u64,
        "every row marked exactly once"
    );
    let duplicates = delivered(&b, &run, &staged);
    assert_eq!(duplicates, 0, "an event was published twice");
    standby.shutdown(Duration::from_secs(10)).await;
    lp.shutdown(Duration::from_secs(10)).await;
    sp.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_retries_an_unreachable_database_with_backoff() {
    let b = setup();
    let db = fresh_database("unreachable").await;
    let run = run_name("outbox-unreachable");
    let outbox = Outbox::new(&run);
    let staged = stage(&db.pool, &outbox, 1..11, 10, 10).await;
    // A loopback port nothing listens on yet; later a proxy to the real server opens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("{}:{}", db.options.get_host(), db.options.get_port());
    let mut config = relay_config(&db, &b.bootstrap);
    config.database = db.options.clone().host("127.0.0.1").port(port);
    config.after_delivery = AfterDelivery::Delete;
    let spool = tempfile::tempdir().unwrap();
    let (relay, producer) = start_relay(config, &b.bootstrap, spool.path());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(relay.role(), RelayRole::Connecting);
    assert!(
        relay.metrics().database_errors >= 2,
        "not retried: {:?}",
        relay.metrics()
    );
    assert_eq!(db.unpublished().await, staged.len() as i64);

    let proxy = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let forward = tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = proxy.accept().await else {
                return;
            };
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    db.wait_drained().await;
    let rows = db.count("SELECT count(*) FROM event_outbox").await;
    assert_eq!(rows, 0, "AfterDelivery::Delete kept rows");
    assert_eq!(delivered(&b, &run, &staged), 0);
    relay.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    forward.abort();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_consumer_killed_between_db_commit_and_kafka_commit_applies_each_event_once() {
    let b = setup();
    let db = fresh_database("inbox").await;
    let run = run_name("outbox-inbox");
    let spool = tempfile::tempdir().unwrap();
    let producer = robust_producer(&b.bootstrap, &run, spool.path());
    let mut ids = HashSet::new();
    let mut handles = Vec::new();
    for i in 0..300u64 {
        let h = producer
            .publish(PatientDeletedV1 {
                patient_id: 1 + i % 30,
                reason: None,
            })
            .unwrap();
        ids.insert(h.event_id());
        handles.push(h);
    }
    for h in handles {
        h.await.expect("delivered");
    }
    let consumer = |db: &TestDb| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_outbox_inbox_consumer"));
        cmd.env("DATABASE_URL", &db.url)
            .env("KAFKA_BOOTSTRAP_SERVERS", &b.bootstrap)
            .env("KAFKA_GROUP_ID", &run)
            .env("KAFKA_TOPICS", TOPIC)
            .env("KAFKA_CONSUMER_COMMIT_INTERVAL_MS", "3600000")
            .env("KAFKA_CONFIG_SESSION_TIMEOUT_MS", "6000")
            .env("INBOX_PRODUCER", &run);
        Proc::spawn(cmd)
    };

    let mut first = consumer(&db);
    // A fresh group reads `patient-events` from the beginning: every earlier test's events,
    // each recorded in the inbox in its own transaction before this run's 300 count. On a
    // loaded machine that backlog alone can take minutes, so this guard is generous.
    let until = Instant::now() + 3 * WAIT;
    while db.count("SELECT count(*) FROM effects").await < 300 {
        assert!(
            Instant::now() < until,
            "the inbox consumer applied only some events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Killed after its database commits, before any offset commit (an hour away).
    first.sigkill();
    assert_eq!(
        committed_offsets(&b.bootstrap, &run),
        0,
        "an offset was committed before the kill"
    );
    let recorded = db.count("SELECT count(*) FROM event_inbox").await;
    assert!(recorded >= 300);

    let mut second = consumer(&db);
    let until = Instant::now() + WAIT;
    while second.counter("duplicates").unwrap_or(0) < recorded as u64 {
        assert!(
            Instant::now() < until,
            "redeliveries not all skipped: {:?}",
            second.last.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        second.counter("handled"),
        Some(0),
        "a redelivered event was handled again"
    );
    second.interrupt();
    assert_eq!(db.count("SELECT count(*) FROM effects").await, 300);
    assert_eq!(
        db.count("SELECT count(*) FROM effects WHERE applied <> 1")
            .await,
        0,
        "an effect applied twice"
    );
    let effect_ids: Vec<Uuid> = sqlx::query_scalar("SELECT event_id FROM effects")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(effect_ids.into_iter().collect::<HashSet<_>>(), ids);
    producer.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await;
}

/// How many partitions of the topic have a committed offset for `group`.
fn committed_offsets(bootstrap: &str, group: &str) -> usize {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(TOPIC, p);
    }
    let committed = c
        .committed_offsets(tpl, Duration::from_secs(30))
        .expect("committed offsets");
    committed
        .elements()
        .iter()
        .filter(|e| matches!(e.offset(), Offset::Offset(_)))
        .count()
}
