//! `scripts/bench outbox`: the transactional outbox on the real PostgreSQL and broker
//! (`scripts/bench outbox` starts `pg-local` and `kafka-local` when they are not running).
//!
//! Cases (events are `patient.deleted` v1 with a 100-character reason, about 330 bytes as an
//! envelope, on 1,000 keys):
//! * `outbox_stage_tx`: events staged per second with [`Outbox::stage`] (envelope, schema
//!   validation, insert) inside transactions of 1 and of 100 events, one connection; `ratio`
//!   against `raw_insert` of the same transaction size: a plain `INSERT` of pre-serialized
//!   rows into the same table (no envelope building, no validation).
//! * `outbox_relay`: a backlog of `BENCH_OUTBOX_EVENTS` staged events (default 50,000) drained
//!   by the relay (fetch, check, publish through the robust producer, mark published), from
//!   its start to the last row marked; `ratio` against `direct`: the same number of events
//!   published with `RobustProducer::publish` (validation on) and every handle awaited.
//!   Latency: `published_at - created_at` percentiles of a second, paced phase (staging
//!   `BENCH_OUTBOX_RATE` events/s, default 2,000, in transactions of 10, for 5 s).
//!
//! Each rate case runs `BENCH_OUTBOX_ROUNDS` times (default 3); the best counts. Needs
//! `DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS`; works in a database of its own, dropped at
//! the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pmp_event_outbox::{migrate, AfterDelivery, Outbox, Relay, RelayConfig};
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use pmp_events::{AnyEvent, PatientDeletedV1};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

type BoxError = Box<dyn std::error::Error>;

fn env_num(name: &str, default: u64) -> Result<u64, BoxError> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name}: not a number").into()),
        Err(_) => Ok(default),
    }
}

fn payload(i: u64) -> PatientDeletedV1 {
    PatientDeletedV1 {
        patient_id: 1 + i % 1_000,
        reason: Some("x".repeat(100)),
    }
}

fn producer(
    kafka: &KafkaConfig,
    name: &str,
) -> Result<(Arc<RobustProducer>, tempfile::TempDir), BoxError> {
    let spool = tempfile::tempdir()?;
    let config = ProducerConfig::new(name, kafka.clone(), spool.path())
        .with_backoff(Duration::from_millis(50), Duration::from_secs(1));
    Ok((Arc::new(RobustProducer::new(config)?), spool))
}

async fn wait_up(p: &RobustProducer) {
    let mut rx = p.state_watch();
    while !matches!(
        *rx.borrow_and_update(),
        pmp_event_runtime::producer::ConnectionState::Up
    ) {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn unpublished(pool: &PgPool) -> Result<i64, BoxError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
            .fetch_one(pool)
            .await?,
    )
}

async fn stage_n(
    pool: &PgPool,
    outbox: &Outbox,
    n: u64,
    per_tx: u64,
) -> Result<Duration, BoxError> {
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = pool.begin().await?;
        for _ in 0..per_tx.min(n - i) {
            outbox.stage(&mut tx, &payload(i)).await?;
            i += 1;
        }
        tx.commit().await?;
    }
    Ok(start.elapsed())
}

async fn raw_insert_n(pool: &PgPool, n: u64, per_tx: u64) -> Result<Duration, BoxError> {
    let envelope = vec![b'x'; 330];
    let headers =
        serde_json::json!({"event_type": "patient.deleted", "version": "1", "event_id": "-"});
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = pool.begin().await?;
        for _ in 0..per_tx.min(n - i) {
            sqlx::query(
                "INSERT INTO event_outbox (event_id, event_type, version, topic, key, headers, envelope, published_at) \
                 VALUES ($1, 'patient.deleted', 1, 'patient-events', $2, $3, $4, now())",
            )
            .bind(uuid::Uuid::now_v7())
            .bind((1 + i % 1_000).to_string())
            .bind(&headers)
            .bind(&envelope)
            .execute(&mut *tx)
            .await?;
            i += 1;
        }
        tx.commit().await?;
    }
    Ok(start.elapsed())
}

async fn clear(pool: &PgPool) -> Result<(), BoxError> {
    sqlx::query("TRUNCATE event_outbox").execute(pool).await?;
    Ok(())
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let events = env_num("BENCH_OUTBOX_EVENTS", 50_000)?;
    let rounds = env_num("BENCH_OUTBOX_ROUNDS", 3)?.max(1);
    let paced_rate = env_num("BENCH_OUTBOX_RATE", 2_000)?.max(10);
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL is not set (scripts/pg-local env)")?;
    let kafka = KafkaConfig::from_env()?;
    let admin: PgConnectOptions = url
        .parse()
        .map_err(|_| "DATABASE_URL is not a postgres:// URL")?;
    let name = format!("outbox_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin.clone().connect().await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await?;
    let options = admin.clone().database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone())
        .await?;
    migrate(&pool).await?;
    let outbox = Outbox::new("bench-outbox");

    // --- staging ---------------------------------------------------------------------------
    for per_tx in [1u64, 100] {
        let n = if per_tx == 1 {
            (events / 5).max(1_000)
        } else {
            events
        };
        let (mut best_stage, mut best_raw) = (0f64, 0f64);
        for _ in 0..rounds {
            clear(&pool).await?;
            best_raw = best_raw.max(rate(n, raw_insert_n(&pool, n, per_tx).await?));
            clear(&pool).await?;
            best_stage = best_stage.max(rate(n, stage_n(&pool, &outbox, n, per_tx).await?));
        }
        println!("case=raw_insert events_per_tx={per_tx} events_per_s={best_raw:.0}");
        println!(
            "case=outbox_stage_tx events_per_tx={per_tx} events_per_s={best_stage:.0} ratio={:.2}",
            best_stage / best_raw
        );
    }

    // --- relay against direct publishing ---------------------------------------------------
    let (mut best_direct, mut best_relay) = (0f64, 0f64);
    for round in 0..rounds {
        let (direct, _spool) = producer(&kafka, "bench-direct")?;
        wait_up(&direct).await;
        let start = Instant::now();
        let mut handles = Vec::with_capacity(events as usize);
        for i in 0..events {
            handles.push(direct.publish(payload(i))?);
        }
        for h in handles {
            h.await?;
        }
        best_direct = best_direct.max(rate(events, start.elapsed()));
        direct.shutdown(Duration::from_secs(10)).await;

        clear(&pool).await?;
        stage_n(&pool, &outbox, events, 100).await?;
        let (relay_producer, _spool) = producer(&kafka, "bench-relay")?;
        wait_up(&relay_producer).await;
        let mut config = RelayConfig::new(options.clone(), kafka.clone());
        config.poll_interval = Duration::from_millis(100);
        if round == rounds - 1 && std::env::var("BENCH_OUTBOX_DELETE").is_ok() {
            config.after_delivery = AfterDelivery::Delete;
        }
        let start = Instant::now();
        let relay = Relay::start::<AnyEvent>(config, relay_producer.clone())?;
        while unpublished(&pool).await? > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        best_relay = best_relay.max(rate(events, start.elapsed()));
        relay.shutdown(Duration::from_secs(10)).await;
        relay_producer.shutdown(Duration::from_secs(10)).await;
    }
    println!("case=direct_publish msgs_per_s={best_direct:.0}");
    println!(
        "case=outbox_relay msgs_per_s={best_relay:.0} ratio={:.2}",
        best_relay / best_direct
    );

    // --- latency at a steady rate ------------------------------------------------------------
    clear(&pool).await?;
    let (relay_producer, _spool) = producer(&kafka, "bench-latency")?;
    wait_up(&relay_producer).await;
    let mut config = RelayConfig::new(options.clone(), kafka.clone());
    config.poll_interval = Duration::from_millis(100);
    let relay = Relay::start::<AnyEvent>(config, relay_producer.clone())?;
    let total = paced_rate * 5;
    let start = Instant::now();
    let mut staged = 0;
    while staged < total {
        let due = (start.elapsed().as_secs_f64() * paced_rate as f64) as u64;
        if staged >= due.min(total) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        stage_n(&pool, &outbox, 10.min(total - staged), 10).await?;
        staged += 10.min(total - staged);
    }
    while unpublished(&pool).await? > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let p: Vec<f64> = sqlx::query_scalar(
        "SELECT percentile_cont(ARRAY[0.5, 0.99, 0.999]) WITHIN GROUP \
         (ORDER BY extract(epoch FROM published_at - created_at) * 1000) FROM event_outbox",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "case=outbox_relay_latency rate_per_s={paced_rate} p50_ms={:.1} p99_ms={:.1} p999_ms={:.1}",
        p.first().copied().unwrap_or_default(),
        p.get(1).copied().unwrap_or_default(),
        p.get(2).copied().unwrap_or_default()
    );
    relay.shutdown(Duration::from_secs(10)).await;
    relay_producer.shutdown(Duration::from_secs(10)).await;

    pool.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}
