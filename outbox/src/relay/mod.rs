//! The relay: publishes `event_outbox` rows through the robust producer.
//!
//! # Life of a relay
//!
//! `Connecting` (connect, with exponential backoff and full jitter while the database is
//! unreachable) → `Standby` (polls `pg_try_advisory_lock(lock_key)` every `standby_poll`) →
//! `Leader` (does all its reads and writes on the connection that holds the lock, so losing
//! that session loses the lock and the right to mark rows at the same moment). Any database
//! error sends it back to `Connecting`.
//!
//! # The leader's loop
//!
//! 1. **Fetch** (only while the producer is `Up`): the ids of the first
//!    `in_flight + batch_size` unpublished rows in `id` order; the ones not already in flight
//!    are read in full. Reading *all* unpublished ids each time, instead of continuing from a
//!    cursor, is what keeps per-key order when a transaction commits a lower `id` late (see
//!    the crate docs).
//! 2. **Check** each row (envelope parses, agrees with the row's columns, its
//!    (event type, version) is in the event set, the topic is the schema's, the payload
//!    validates). A row that fails goes to `<topic>.dlq` (concurrently; it holds nothing back).
//! 3. **Publish** the rest with
//!    [`RobustProducer::publish_serialized`](pmp_event_runtime::producer::RobustProducer::publish_serialized),
//!    in `id` order, up to `max_in_flight` rows awaiting their delivery reports.
//! 4. **Mark** a batch when its reports are in: `Delivered` rows are marked published (or
//!    deleted); a `Spooled` or failed row is left unpublished, and the relay stops feeding the
//!    producer until it is `Up` again, then sends those rows again (same `event_id`).
//! 5. **Wait** for `NOTIFY event_outbox`, the `poll_interval` (the fallback when a notification
//!    is missed or the listener connection is down), a delivery report or a producer state
//!    change. Every `cleanup_interval` published rows older than `keep_for` are deleted,
//!    `cleanup_batch` rows per statement.

mod dlq;
mod lead;
mod rows;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pmp_event_runtime::consumer::{SchemaCompileError, SchemaValidators};
use pmp_event_runtime::producer::RobustProducer;
use pmp_event_runtime::{ConfigError, EventSet, KafkaConfig};
use rand::Rng;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::sync::watch;

pub use dlq::DLQ_OUTBOX_ID_HEADER;

/// What happens to a row once Kafka (or the DLQ topic) acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDelivery {
    /// Set `published_at`; a periodic cleanup deletes rows published more than `keep_for`
    /// ago, in batches.
    MarkPublished {
        /// How long published rows stay (for inspection and replays).
        keep_for: Duration,
    },
    /// Delete the row at once (one write per event instead of two).
    Delete,
}

/// Settings of a [`Relay`].
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The database (`DATABASE_URL`).
    pub database: PgConnectOptions,
    /// Kafka settings for the dead-letter producer (events go through the robust producer).
    pub kafka: KafkaConfig,
    /// Rows read per fetch. Default 500.
    pub batch_size: usize,
    /// Rows handed to the producer and not yet acknowledged, at most. Default 2,000.
    pub max_in_flight: usize,
    /// Fallback wake-up when no notification arrives. Default 1 s.
    pub poll_interval: Duration,
    /// How often a standby tries to take the lock. Default 1 s.
    pub standby_poll: Duration,
    /// Marking or deleting published rows. Default `MarkPublished { keep_for: 1 h }`.
    pub after_delivery: AfterDelivery,
    /// How often published rows are cleaned up. Default 10 s.
    pub cleanup_interval: Duration,
    /// Rows deleted per cleanup statement. Default 1,000.
    pub cleanup_batch: i64,
    /// Key of the session advisory lock that elects the leader. Relays of one outbox table
    /// must share it; the default is fixed.
    pub lock_key: i64,
    /// Reconnect backoff (exponential, full jitter). Default 100 ms .. 10 s.
    pub backoff_min: Duration,
    /// Upper bound of the reconnect backoff.
    pub backoff_max: Duration,
    /// A database call that takes longer counts as a lost connection. Default 30 s.
    pub db_timeout: Duration,
    /// Dead-letter topic suffix. Default `.dlq` (the consumer's).
    pub dead_letter_suffix: String,
    /// How long one dead-letter publish may take. Default 30 s.
    pub dlq_timeout: Duration,
}

/// The default [`RelayConfig::lock_key`].
pub const DEFAULT_LOCK_KEY: i64 = 0x706d_705f_6f75_7462; // "pmp_outb"

impl RelayConfig {
    /// Defaults around a database and a Kafka cluster.
    pub fn new(database: PgConnectOptions, kafka: KafkaConfig) -> Self {
        RelayConfig {
            database,
            kafka,
            batch_size: 500,
            max_in_flight: 2_000,
            poll_interval: Duration::from_secs(1),
            standby_poll: Duration::from_secs(1),
            after_delivery: AfterDelivery::MarkPublished {
                keep_for: Duration::from_secs(3600),
            },
            cleanup_interval: Duration::from_secs(10),
            cleanup_batch: 1_000,
            lock_key: DEFAULT_LOCK_KEY,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            db_timeout: Duration::from_secs(30),
            dead_letter_suffix: ".dlq".to_owned(),
            dlq_timeout: Duration::from_secs(30),
        }
    }

    /// `DATABASE_URL` plus [`KafkaConfig::from_env`]. The error names the variable, never
    /// the URL (it may hold a password).
    pub fn from_env() -> Result<Self, ConfigError> {
        let url = std::env::var("DATABASE_URL")
            .map_err(|_| ConfigError::invalid("DATABASE_URL", "not set"))?;
        let database: PgConnectOptions = url.parse().map_err(|_| {
            ConfigError::invalid("DATABASE_URL", "not a postgres:// connection URL")
        })?;
        Ok(RelayConfig::new(database, KafkaConfig::from_env()?))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.batch_size == 0 || self.max_in_flight == 0 {
            return Err(ConfigError::invalid(
                "batch_size/max_in_flight",
                "must be > 0",
            ));
        }
        if self.cleanup_batch <= 0 {
            return Err(ConfigError::invalid("cleanup_batch", "must be > 0"));
        }
        if self.poll_interval.is_zero() || self.standby_poll.is_zero() {
            return Err(ConfigError::invalid(
                "poll_interval/standby_poll",
                "must be > 0",
            ));
        }
        self.kafka.validate()
    }
}

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A schema of the event set does not compile.
    #[error(transparent)]
    Schema(#[from] SchemaCompileError),
    /// The dead-letter producer could not be created.
    #[error("dead-letter producer: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// `start` was called outside a Tokio runtime.
    #[error("Relay::start must be called inside a Tokio runtime")]
    NoRuntime,
}

/// What the relay is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayRole {
    /// Connecting to the database (or waiting to retry).
    Connecting,
    /// Connected; another relay holds the lock.
    Standby,
    /// Holds the lock and publishes.
    Leader,
    /// Shut down.
    Stopped,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayMetrics {
    /// Rows acknowledged by Kafka and marked (or deleted).
    pub delivered: u64,
    /// Rows sent to the dead-letter topic and marked.
    pub dead_lettered: u64,
    /// Rows handed to the producer that came back spooled or failed; they are sent again.
    pub resent: u64,
    /// Times this relay became leader.
    pub leader_terms: u64,
    /// Database errors (each one ends a connection or a leadership term).
    pub database_errors: u64,
    /// Published rows deleted by the cleanup.
    pub cleaned_up: u64,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    dead_lettered: AtomicU64,
    resent: AtomicU64,
    leader_terms: AtomicU64,
    database_errors: AtomicU64,
    cleaned_up: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> RelayMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RelayMetrics {
            delivered: get(&self.delivered),
            dead_lettered: get(&self.dead_lettered),
            resent: get(&self.resent),
            leader_terms: get(&self.leader_terms),
            database_errors: get(&self.database_errors),
            cleaned_up: get(&self.cleaned_up),
        }
    }
}

/// What [`Relay::shutdown`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayReport {
    /// The counters at the end.
    pub metrics: RelayMetrics,
    /// Rows still awaiting a delivery report at the deadline (left unmarked: published again
    /// by the next leader).
    pub unresolved: usize,
}

/// Everything the background task shares with the handle.
struct Shared {
    config: RelayConfig,
    producer: Arc<RobustProducer>,
    validators: SchemaValidators,
    dead_letters: dlq::DeadLetters,
    counters: Counters,
    role: watch::Sender<RelayRole>,
    /// `Some(deadline)` once shutdown was asked for.
    shutdown: watch::Sender<Option<Instant>>,
}

/// A running relay (a background Tokio task). See the [module docs](self).
pub struct Relay {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<usize>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("role", &*self.shared.role.borrow())
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Start relaying `event_outbox` rows of the event set `E` (the generated all-events
    /// enum) through `producer`. Fails only on bad configuration; an unreachable database is
    /// retried in the background.
    pub fn start<E: EventSet>(
        config: RelayConfig,
        producer: Arc<RobustProducer>,
    ) -> Result<Relay, RelayError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RelayError::NoRuntime)?;
        let shared = Arc::new(Shared {
            validators: SchemaValidators::compile(E::schemas(), true)?,
            dead_letters: dlq::DeadLetters::new(&config)?,
            producer,
            counters: Counters::default(),
            role: watch::Sender::new(RelayRole::Connecting),
            shutdown: watch::Sender::new(None),
            config,
        });
        let task = runtime.spawn(supervise(shared.clone()));
        Ok(Relay { shared, task })
    }

    /// The counters now.
    pub fn metrics(&self) -> RelayMetrics {
        self.shared.counters.snapshot()
    }

    /// The role now.
    pub fn role(&self) -> RelayRole {
        *self.shared.role.borrow()
    }

    /// A receiver that sees every role change.
    pub fn role_watch(&self) -> watch::Receiver<RelayRole> {
        self.shared.role.subscribe()
    }

    /// Stop fetching, wait up to `deadline` for the delivery reports of rows in flight, mark
    /// them, and release the lock (a standby takes over).
    pub async fn shutdown(self, deadline: Duration) -> RelayReport {
        self.shared
            .shutdown
            .send_replace(Some(Instant::now() + deadline));
        // The task checks the deadline itself; the extra second covers closing the connection.
        let unresolved =
            match tokio::time::timeout(deadline + Duration::from_secs(1), self.task).await {
                Ok(Ok(n)) => n,
                _ => 0,
            };
        self.shared.role.send_replace(RelayRole::Stopped);
        RelayReport {
            metrics: self.shared.counters.snapshot(),
            unresolved,
        }
    }
}

/// Exponential backoff with full jitter.
struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    fn reset(&mut self) {
        self.next = self.min;
    }

    fn step(&mut self) -> Duration {
        let ceiling = self.next.max(Duration::from_millis(1));
        self.next = (self.next * 2).min(self.max);
        rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
    }
}

/// Sleep for `d`, or less when shutdown is asked for. Returns `true` on shutdown.
async fn sleep_or_shutdown(shared: &Shared, d: Duration) -> bool {
    let mut rx = shared.shutdown.subscribe();
    if rx.borrow().is_some() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => rx.borrow().is_some(),
        _ = rx.changed() => true,
    }
}

/// Run `f` against the database with the configured timeout; a timeout is an I/O error.
async fn db<T>(
    shared: &Shared,
    f: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    match tokio::time::timeout(shared.config.db_timeout, f).await {
        Ok(r) => r,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "database call timed out",
        ))),
    }
}

/// Connect, win the lock, lead; on any database error start over after a backoff.
/// Returns the number of rows left unresolved at shutdown.
async fn supervise(shared: Arc<Shared>) -> usize {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    loop {
        if shared.shutdown.borrow().is_some() {
            return 0;
        }
        shared.role.send_replace(RelayRole::Connecting);
        let connected = db(&shared, async {
            let mut conn = config.database.clone().connect().await?;
            // The relay reads rows committed by others; it never needs a snapshot longer
            // than one statement.
            sqlx::query("SET application_name = 'pmp-outbox-relay'")
                .execute(&mut conn)
                .await?;
            Ok(conn)
        })
        .await;
        let mut conn = match connected {
            Ok(c) => c,
            Err(e) => {
                Counters::add(&shared.counters.database_errors, 1);
                let wait = backoff.step();
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "outbox relay: database unreachable");
                if sleep_or_shutdown(&shared, wait).await {
                    return 0;
                }
                continue;
            }
        };
        match standby_until_leader(&shared, &mut conn).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = conn.close().await;
                return 0;
            }
            Err(e) => {
                Counters::add(&shared.counters.database_errors, 1);
                tracing::warn!(error = %e, "outbox relay: database error while standing by");
                if sleep_or_shutdown(&shared, backoff.step()).await {
                    return 0;
                }
                continue;
            }
        }
        backoff.reset();
        Counters::add(&shared.counters.leader_terms, 1);
        shared.role.send_replace(RelayRole::Leader);
        tracing::info!("outbox relay: leader");
        match lead::lead(&shared, &mut conn).await {
            Ok(unresolved) => {
                // Closing the session releases the advisory lock.
                let _ = conn.close().await;
                return unresolved;
            }
            Err(e) => {
                Counters::add(&shared.counters.database_errors, 1);
                tracing::warn!(error = %e, "outbox relay: lost the database; stepping down");
                if sleep_or_shutdown(&shared, backoff.step()).await {
                    return 0;
                }
            }
        }
    }
}

/// Poll the advisory lock until this session holds it (`Ok(true)`) or shutdown (`Ok(false)`).
async fn standby_until_leader(
    shared: &Shared,
    conn: &mut PgConnection,
) -> Result<bool, sqlx::Error> {
    let mut announced = false;
    loop {
        let won: bool = db(
            shared,
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(shared.config.lock_key)
                .fetch_one(&mut *conn),
        )
        .await?;
        if won {
            return Ok(true);
        }
        if !announced {
            shared.role.send_replace(RelayRole::Standby);
            tracing::info!("outbox relay: standby (another relay holds the lock)");
            announced = true;
        }
        if sleep_or_shutdown(shared, shared.config.standby_poll).await {
            return Ok(false);
        }
    }
}
