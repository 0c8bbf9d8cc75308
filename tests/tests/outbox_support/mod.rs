//! Shared pieces of the outbox tests: a fresh database per test on the PostgreSQL of
//! `scripts/pg-local`, staging numbered events, and checking what reached Kafka.
//!
//! A test never passes without the database: [`fresh_database`] panics when `DATABASE_URL` is
//! missing or the server does not answer.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use pmp_event_outbox::{migrate, Outbox};
use pmp_events::PatientDeletedV1;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use uuid::Uuid;

use pmp_event_runtime::RawEnvelope;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::e2e_support::{run_name, ReadBack, WAIT};

/// The topic of `patient.deleted` (3 partitions in `schemas/topics.json`).
pub const TOPIC: &str = "patient-events";
pub const PARTITIONS: i32 = 3;

/// A database of its own for one test, migrated.
pub struct TestDb {
    /// Its URL (for child processes).
    pub url: String,
    pub options: PgConnectOptions,
    pub pool: PgPool,
    pub name: String,
}

fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!(
            "DATABASE_URL is not set: this test needs the real PostgreSQL. Run `scripts/test`, \
             or `scripts/pg-local start && eval \"$(scripts/pg-local env)\"` first"
        ),
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (prefix, _) = base
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("DATABASE_URL has no database path"));
    format!("{prefix}/{name}{query}")
}

/// Create `outbox_<what>_<uuid>`, apply the migration, and open a pool on it.
pub async fn fresh_database(what: &str) -> TestDb {
    let admin_url = database_url();
    let admin: PgConnectOptions = admin_url.parse().expect("DATABASE_URL parses");
    let mut conn = admin
        .clone()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at DATABASE_URL does not answer: {e}"));
    let name = format!("outbox_{what}_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let options = admin.database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await
        .expect("connect to the test database");
    migrate(&pool).await.expect("migration");
    // Twice: it must be idempotent.
    migrate(&pool).await.expect("migration again");
    sqlx::query("CREATE TABLE effects (event_id UUID PRIMARY KEY, applied INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("effects table");
    TestDb {
        url: with_database(&admin_url, &name),
        options,
        pool,
        name,
    }
}

impl TestDb {
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn unpublished(&self) -> i64 {
        self.count("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            .await
    }

    /// Wait until no row is unpublished (panics after [`WAIT`]).
    pub async fn wait_drained(&self) {
        let until = Instant::now() + WAIT;
        loop {
            let left = self.unpublished().await;
            if left == 0 {
                return;
            }
            assert!(Instant::now() < until, "{left} rows still unpublished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn drop_database(self) {
        self.pool.close().await;
        let admin: PgConnectOptions = database_url().parse().expect("DATABASE_URL parses");
        if let Ok(mut conn) = admin.connect().await {
            let _ = sqlx::query(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await;
        }
    }
}

/// What was staged: per key (`patient_id`), the event ids in staging order.
#[derive(Debug, Default, Clone)]
pub struct Staged {
    pub by_key: BTreeMap<u64, Vec<Uuid>>,
}

impl Staged {
    pub fn ids(&self) -> HashSet<Uuid> {
        self.by_key.values().flatten().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    pub fn extend(&mut self, other: Staged) {
        for (k, ids) in other.by_key {
            self.by_key.entry(k).or_default().extend(ids);
        }
    }
}

/// Stage `rounds` events for each of `keys` (round-robin over the keys), `per_tx` events per
/// committed transaction.
pub async fn stage(
    pool: &PgPool,
    outbox: &Outbox,
    keys: std::ops::Range<u64>,
    rounds: usize,
    per_tx: usize,
) -> Staged {
    let mut staged = Staged::default();
    let mut tx = pool.begin().await.expect("begin");
    let mut in_tx = 0;
    for _ in 0..rounds {
        for key in keys.clone() {
            let id = outbox
                .stage(
                    &mut tx,
                    &PatientDeletedV1 {
                        patient_id: key,
                        reason: None,
                    },
                )
                .await
                .expect("stage");
            staged.by_key.entry(key).or_default().push(id);
            in_tx += 1;
            if in_tx == per_tx {
                tx.commit().await.expect("commit");
                tx = pool.begin().await.expect("begin");
                in_tx = 0;
            }
        }
    }
    tx.commit().await.expect("commit");
    staged
}

/// What Kafka holds for the staged events, checked: every staged event present (0 lost),
/// no event that was not staged, and per key the first occurrences in staging order.
/// Returns the number of duplicates (re-sends with the same `event_id`).
pub fn check_delivered(got: &[ReadBack], staged: &Staged) -> usize {
    let expected = staged.ids();
    let mut first: HashMap<u64, Vec<Uuid>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    for r in got {
        let id = r.envelope.event_id;
        assert!(
            expected.contains(&id),
            "{id} was published but never staged"
        );
        let key: u64 = r.envelope.payload["patient_id"]
            .as_u64()
            .expect("patient_id");
        assert_eq!(
            r.key.as_deref(),
            Some(key.to_string().as_bytes()),
            "record key of {id}"
        );
        if seen.insert(id) {
            first.entry(key).or_default().push(id);
        } else {
            duplicates += 1;
        }
    }
    assert_eq!(seen.len(), expected.len(), "events lost");
    for (key, ids) in &staged.by_key {
        assert_eq!(
            first.get(key),
            Some(ids),
            "per-key order of key {key}: first occurrences differ from staging order"
        );
    }
    duplicates
}

/// Read [`TOPIC`] from the beginning, keeping the envelopes whose `producer` is `producer`,
/// until every id of `expected` was seen (panics after [`WAIT`] with the number missing).
/// Incremental: the topic holds every earlier run's records too.
pub fn read_run(bootstrap: &str, producer: &str, expected: &HashSet<Uuid>) -> Vec<ReadBack> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", run_name("outbox-verifier"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("verifier consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(TOPIC, p, Offset::Beginning)
            .expect("partition list");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut missing: HashSet<Uuid> = expected.clone();
    let until = Instant::now() + WAIT;
    while !missing.is_empty() {
        assert!(
            Instant::now() < until,
            "{TOPIC}: {} of {} events not read back",
            missing.len(),
            expected.len()
        );
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.unwrap_or_else(|e| panic!("{TOPIC}: consume error {e}"));
        let Some(value) = msg.payload() else { continue };
        let Ok(envelope) = RawEnvelope::parse(value) else {
            continue;
        };
        if envelope.producer != producer {
            continue;
        }
        missing.remove(&envelope.event_id);
        out.push(ReadBack {
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(<[u8]>::to_vec),
            envelope,
        });
    }
    out
}
