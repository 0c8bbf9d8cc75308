//! The producer's machinery: shared state, librdkafka callbacks and the background
//! threads (poller, supervisor, group commit). See the [module docs](super) for the model.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::{FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, DeliveryResult, Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext, PurgeConfig};
use rdkafka::Message;
use tokio::sync::watch;
use uuid::Uuid;

use crate::config::ConfigError;
use crate::spool::{RecordSource, Spool, SpoolError, SpoolRecord};

use super::config::{Durability, ProducerConfig};
use super::delivery::{Delivery, Notifier, PublishError};
use super::metrics::{inc, Counters};
use super::state::{Backoff, ConnectionState};

pub(crate) type Kafka = BaseProducer<Ctx>;

/// Most records handed to librdkafka by the drain at once (librdkafka's own queue
/// defaults to 100,000 messages).
const MAX_DRAIN_INFLIGHT: u64 = 50_000;
const DRAIN_BATCH: usize = 1024;
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// An event ready for Kafka: serialized envelope plus routing.
pub(crate) struct Prepared {
    pub topic: &'static str,
    pub key: String,
    pub value: Vec<u8>,
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub version: u32,
}

impl Prepared {
    fn headers(&self) -> OwnedHeaders {
        let version = self.version.to_string();
        let id = self.event_id.hyphenated().to_string();
        OwnedHeaders::new_with_capacity(3)
            .insert(Header {
                key: "event_type",
                value: Some(self.event_type),
            })
            .insert(Header {
                key: "version",
                value: Some(&version),
            })
            .insert(Header {
                key: "event_id",
                value: Some(&id),
            })
    }

    fn to_record(&self) -> SpoolRecord {
        SpoolRecord {
            topic: self.topic.to_owned(),
            key: self.key.as_bytes().to_vec(),
            headers: vec![
                ("event_type".into(), self.event_type.as_bytes().to_vec()),
                ("version".into(), self.version.to_string().into_bytes()),
                (
                    "event_id".into(),
                    self.event_id.hyphenated().to_string().into_bytes(),
                ),
            ],
            value: self.value.clone(),
        }
    }
}

fn record_headers(rec: &SpoolRecord) -> OwnedHeaders {
    let mut h = OwnedHeaders::new_with_capacity(rec.headers.len());
    for (k, v) in &rec.headers {
        h = h.insert(Header {
            key: k,
            value: Some(v),
        });
    }
    h
}

fn record_from_message(msg: &BorrowedMessage<'_>) -> SpoolRecord {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    SpoolRecord {
        topic: msg.topic().to_owned(),
        key: msg.key().unwrap_or_default().to_vec(),
        headers,
        value: msg.payload().unwrap_or_default().to_vec(),
    }
}

fn event_id_of(msg: &BorrowedMessage<'_>) -> Uuid {
    msg.headers()
        .and_then(|hs| {
            hs.iter()
                .find(|h| h.key == "event_id")
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|s| Uuid::parse_str(s).ok())
        })
        .unwrap_or(Uuid::nil())
}

/// What rides along with each message through librdkafka.
pub(crate) struct Flight {
    seq: u64,
    origin: Origin,
}

enum Origin {
    /// Sent without spooling (outage mode, Kafka up); on failure it is spooled.
    Direct(Option<Notifier>),
    /// Sent from the spool; on success it is removed from the spool.
    Spool,
}

/// Everything ordering decisions depend on, behind one lock.
pub(crate) struct Core {
    pub spool: Spool,
    pub state: ConnectionState,
    pub next_seq: u64,
    /// Next spool seq the drain considers; everything below it (in this cycle) has been
    /// handed to librdkafka.
    cursor: u64,
    /// A delivery failed (or an outage was signalled) since the current cycle began:
    /// send nothing more until every in-flight message has resolved, then start over.
    cycle_failed: bool,
    pending: HashMap<u64, Notifier>,
    /// Spooled records whose handles wait for the fsync, in append order (so what is on
    /// disk is always a prefix of it).
    awaiting_sync: VecDeque<u64>,
    /// The last commit failed (the disk is full, failing or read-only).
    disk_failing: bool,
    pub accepting: bool,
    draining_enabled: bool,
    closed: bool,
}

impl Core {
    /// May an event skip the spool queue now? Only when Kafka is reachable, nothing failed
    /// in this cycle and every spooled record has already been handed to librdkafka (so
    /// the new event cannot overtake an older one of its key).
    fn fast_path(&self) -> bool {
        self.state.reachable() && !self.cycle_failed && !self.spool.has_in(self.cursor..)
    }
}

pub(crate) struct Shared {
    pub core: Mutex<Core>,
    /// Wakes the supervisor (new work, failures, state signals).
    wake: Condvar,
    /// Wakes the group commit thread (only at stop: it otherwise runs on its interval).
    commit_wake: Condvar,
    pub inflight: AtomicU64,
    pub counters: Counters,
    pub state_tx: watch::Sender<ConnectionState>,
    fatal: AtomicBool,
    stop: AtomicBool,
    durability: Durability,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        // A panic while holding the lock would be a bug in this module; keep serving
        // rather than poisoning every later publish.
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self) {
        self.wake.notify_all();
    }

    fn notify_stop(&self) {
        self.wake.notify_all();
        self.commit_wake.notify_all();
    }

    /// Change state; log and publish only when the kind changes.
    fn set_state(&self, core: &mut Core, new: ConnectionState) {
        if core.state.same_kind(&new) {
            return;
        }
        let old = core.state;
        core.state = new;
        match new {
            ConnectionState::Up => tracing::info!(from = old.name(), "Kafka producer up"),
            ConnectionState::Down { .. } => tracing::warn!(
                from = old.name(),
                spool_depth = core.spool.len(),
                "Kafka unreachable or failing; spooling events to disk"
            ),
            ConnectionState::Draining => tracing::info!(
                spool_depth = core.spool.len(),
                "Kafka reachable; draining the spool oldest first"
            ),
            ConnectionState::Connecting => {}
        }
        self.state_tx.send_replace(new);
    }

    fn mark_failed(&self) {
        let mut core = self.lock();
        core.cycle_failed = true;
        drop(core);
        self.notify();
    }

    fn count_failure(&self, code: Option<RDKafkaErrorCode>) -> bool {
        use RDKafkaErrorCode as C;
        let c = &self.counters;
        match code {
            Some(C::MessageTimedOut | C::RequestTimedOut | C::OperationTimedOut) => inc(&c.timeout),
            Some(
                C::AllBrokersDown
                | C::BrokerTransportFailure
                | C::NetworkException
                | C::BrokerNotAvailable
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
                | C::NotEnoughReplicas
                | C::NotEnoughReplicasAfterAppend
                | C::Resolve
                | C::UnknownTopicOrPartition
                | C::UnknownPartition
                | C::UnknownTopic,
            ) => inc(&c.broker),
            Some(C::QueueFull) => inc(&c.queue_full),
            Some(C::PurgeQueue | C::PurgeInflight) => inc(&c.purged),
            Some(C::Fatal | C::OutOfOrderSequenceNumber) => inc(&c.fatal),
            Some(
                C::MessageSizeTooLarge
                | C::InvalidMessageSize
                | C::InvalidMessage
                | C::MessageBatchTooLarge
                | C::InvalidRecord
                | C::InvalidRequiredAcks
                | C::InvalidTopic,
            ) => {
                inc(&c.rejected);
                return true;
            }
            _ => inc(&c.other),
        }
        false
    }
}

/// librdkafka callbacks.
pub(crate) struct Ctx {
    shared: Arc<Shared>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        // librdkafka repeats connection failures for as long as an outage lasts; the
        // producer logs its own state changes instead, so these go to debug.
        tracing::debug!(target: "librdkafka", ?level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::AllBrokersDown) => {
                tracing::debug!(reason, "librdkafka: all brokers down");
                self.shared.mark_failed();
            }
            Some(RDKafkaErrorCode::Fatal) => {
                tracing::error!(reason, "librdkafka fatal error; the client will be rebuilt");
                self.shared.fatal.store(true, SeqCst);
                self.shared.mark_failed();
            }
            _ => tracing::debug!(%error, reason, "librdkafka error"),
        }
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = Box<Flight>;

    fn delivery(&self, result: &DeliveryResult<'_>, flight: Box<Flight>) {
        let shared = &self.shared;
        let Flight { seq, origin } = *flight;
        match result {
            Ok(msg) => {
                inc(&shared.counters.delivered);
                let delivery = Delivery::Delivered {
                    partition: msg.partition(),
                    offset: msg.offset(),
                };
                match origin {
                    Origin::Direct(tx) => {
                        if let Some(tx) = tx {
                            let _ = tx.send(Ok(delivery));
                        }
                    }
                    Origin::Spool => {
                        let mut core = shared.lock();
                        if core.spool.ack(seq) {
                            inc(&shared.counters.drained);
                        }
                        if let Some(tx) = core.pending.remove(&seq) {
                            let _ = tx.send(Ok(delivery));
                        }
                    }
                }
            }
            Err((err, msg)) => {
                let code = err.rdkafka_error_code();
                let permanent = shared.count_failure(code);
                let code_name = code.map_or_else(|| "unknown".to_owned(), |c| format!("{c:?}"));
                if permanent {
                    let event_id = event_id_of(msg);
                    tracing::error!(%event_id, topic = msg.topic(), code = %code_name,
                        "Kafka rejected the event permanently; not retried");
                    let rejected = PublishError::Rejected {
                        event_id,
                        code: code_name,
                    };
                    match origin {
                        Origin::Direct(tx) => {
                            if let Some(tx) = tx {
                                let _ = tx.send(Err(rejected));
                            }
                        }
                        Origin::Spool => {
                            let mut core = shared.lock();
                            core.spool.ack(seq);
                            if let Some(tx) = core.pending.remove(&seq) {
                                let _ = tx.send(Err(rejected));
                            }
                        }
                    }
                } else {
                    let mut core = shared.lock();
                    core.cycle_failed = true;
                    if let Origin::Direct(tx) = origin {
                        let rec = record_from_message(msg);
                        match core.spool.append(seq, &rec, false) {
                            Ok(()) => {
                                inc(&shared.counters.spooled);
                                if let Some(tx) = tx {
                                    core.pending.insert(seq, tx);
                                }
                                core.awaiting_sync.push_back(seq);
                            }
                            Err(e) => {
                                inc(&shared.counters.spool_io);
                                tracing::error!(error = %e, event_id = %event_id_of(msg),
                                    "could not spool an event that Kafka did not take");
                                if let Some(tx) = tx {
                                    let _ = tx.send(Err(e.into()));
                                }
                            }
                        }
                    }
                    drop(core);
                    shared.notify();
                }
            }
        }
        shared.inflight.fetch_sub(1, SeqCst);
    }
}

/// The running producer: shared state, the (rebuildable) librdkafka client, threads.
pub(crate) struct Engine {
    pub shared: Arc<Shared>,
    pub kafka: RwLock<Arc<Kafka>>,
    config: ProducerConfig,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Serializes group commits (the commit thread and shutdown).
    commit_serial: Mutex<()>,
    pub shutdown_report: Mutex<Option<super::ShutdownReport>>,
}

fn client_error(e: KafkaError) -> ConfigError {
    match e {
        KafkaError::ClientConfig(_, desc, key, _value) => {
            // librdkafka's description may quote the value, which may be a credential.
            let secretish = ["password", "secret", "key", "token", "jaas"]
                .iter()
                .any(|w| key.to_ascii_lowercase().contains(w));
            let message = if secretish {
                "rejected by librdkafka (value not shown)".to_owned()
            } else {
                format!("rejected by librdkafka: {desc}")
            };
            ConfigError::invalid(key, message)
        }
        other => ConfigError::invalid(
            "librdkafka",
            format!(
                "client creation failed: {}",
                other
                    .rdkafka_error_code()
                    .map_or_else(|| "unknown".to_owned(), |c| format!("{c:?}"))
            ),
        ),
    }
}

impl Engine {
    pub(crate) fn start(config: ProducerConfig) -> Result<Arc<Engine>, super::ProducerError> {
        config.validate()?;
        let spool = Spool::open(&config.spool_dir, config.spool_limits, config.segment_bytes)?;
        let recovery = spool.recovery().clone();
        if recovery.skipped_records > 0 || recovery.damaged_ack_files > 0 {
            tracing::warn!(
                skipped_records = recovery.skipped_records,
                skipped_bytes = recovery.skipped_bytes,
                damaged_segments = ?recovery.damaged_segments,
                damaged_ack_files = recovery.damaged_ack_files,
                "spool was damaged; recovered up to the damage"
            );
        }
        if recovery.records_recovered > 0 {
            tracing::info!(
                records = recovery.records_recovered,
                "spool holds events from an earlier run; they will be delivered first"
            );
        }
        let next_seq = spool.next_seq();
        let (state_tx, _) = watch::channel(ConnectionState::Connecting);
        let shared = Arc::new(Shared {
            core: Mutex::new(Core {
                spool,
                state: ConnectionState::Connecting,
                next_seq,
                cursor: 0,
                cycle_failed: false,
                pending: HashMap::new(),
                awaiting_sync: VecDeque::new(),
                disk_failing: false,
                accepting: true,
                draining_enabled: true,
                closed: false,
            }),
            wake: Condvar::new(),
            commit_wake: Condvar::new(),
            inflight: AtomicU64::new(0),
            counters: Counters::default(),
            state_tx,
            fatal: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            durability: config.durability,
        });
        shared
            .counters
            .skipped
            .store(recovery.skipped_records, Relaxed);
        let kafka = Self::create_kafka(&config, &shared)?;
        let engine = Arc::new(Engine {
            shared,
            kafka: RwLock::new(Arc::new(kafka)),
            config,
            threads: Mutex::new(Vec::new()),
            commit_serial: Mutex::new(()),
            shutdown_report: Mutex::new(None),
        });
        let spawn = |name: &str, f: fn(Arc<Engine>), e: &Arc<Engine>| {
            let e = e.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || f(e))
                .map_err(|err| ConfigError::invalid("threads", format!("cannot start {err}")))
        };
        let handles = vec![
            spawn("pmp-producer-poll", Engine::poll_loop, &engine)?,
            spawn("pmp-producer-supervisor", Engine::supervise, &engine)?,
            spawn("pmp-producer-commit", Engine::commit_loop, &engine)?,
        ];
        *engine.threads.lock().unwrap_or_else(|p| p.into_inner()) = handles;
        Ok(engine)
    }

    fn create_kafka(config: &ProducerConfig, shared: &Arc<Shared>) -> Result<Kafka, ConfigError> {
        let ctx = Ctx {
            shared: shared.clone(),
        };
        BaseProducer::from_config_and_context(&config.client_config(), ctx).map_err(client_error)
    }

    pub(crate) fn kafka(&self) -> Arc<Kafka> {
        self.kafka.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Accept one event (see the module docs for the routing rules).
    pub(crate) fn publish(&self, p: Prepared, tx: Notifier) -> Result<(), PublishError> {
        let shared = &self.shared;
        let mut core = shared.lock();
        if !core.accepting {
            return Err(PublishError::ShuttingDown);
        }
        let seq = core.next_seq;
        core.next_seq += 1;
        let fast = core.fast_path();
        match shared.durability {
            Durability::Outage => {
                let mut tx = Some(tx);
                if fast {
                    let kafka = self.kafka();
                    shared.inflight.fetch_add(1, SeqCst);
                    let flight = Box::new(Flight {
                        seq,
                        origin: Origin::Direct(tx.take()),
                    });
                    let record = BaseRecord::with_opaque_to(p.topic, flight)
                        .key(p.key.as_str())
                        .payload(p.value.as_slice())
                        .headers(p.headers());
                    match kafka.send(record) {
                        Ok(()) => {
                            inc(&shared.counters.published);
                            return Ok(());
                        }
                        Err((err, record)) => {
                            shared.inflight.fetch_sub(1, SeqCst);
                            shared.count_failure(err.rdkafka_error_code());
                            // A full librdkafka queue is back-pressure, not an outage: the
                            // event is spooled below and, since the spool is then non-empty,
                            // later events queue behind it until the drain has sent it.
                            if err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull) {
                                core.cycle_failed = true;
                            }
                            if let Origin::Direct(t) = record.delivery_opaque.origin {
                                tx = t;
                            }
                            shared.notify();
                        }
                    }
                }
                let rec = p.to_record();
                if let Err(e) = core.spool.append(seq, &rec, true) {
                    if matches!(e, SpoolError::Full { .. }) {
                        inc(&shared.counters.spool_full);
                    } else {
                        inc(&shared.counters.spool_io);
                    }
                    return Err(e.into());
                }
                inc(&shared.counters.published);
                inc(&shared.counters.spooled);
                if let Some(tx) = tx {
                    core.pending.insert(seq, tx);
                }
                core.awaiting_sync.push_back(seq);
                drop(core);
                shared.notify();
                Ok(())
            }
            Durability::WriteAhead { .. } => {
                let rec = p.to_record();
                if let Err(e) = core.spool.append(seq, &rec, true) {
                    if matches!(e, SpoolError::Full { .. }) {
                        inc(&shared.counters.spool_full);
                    } else {
                        inc(&shared.counters.spool_io);
                    }
                    return Err(e.into());
                }
                inc(&shared.counters.published);
                inc(&shared.counters.spooled);
                core.pending.insert(seq, tx);
                core.awaiting_sync.push_back(seq);
                if fast {
                    let kafka = self.kafka();
                    shared.inflight.fetch_add(1, SeqCst);
                    let record = BaseRecord::with_opaque_to(
                        p.topic,
                        Box::new(Flight {
                            seq,
                            origin: Origin::Spool,
                        }),
                    )
                    .key(p.key.as_str())
                    .payload(p.value.as_slice())
                    .headers(p.headers());
                    match kafka.send(record) {
                        Ok(()) => {
                            inc(&shared.counters.retries);
                            core.cursor = seq + 1;
                            return Ok(());
                        }
                        Err((err, _)) => {
                            shared.inflight.fetch_sub(1, SeqCst);
                            if err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull) {
                                core.cycle_failed = true;
                            }
                            shared.count_failure(err.rdkafka_error_code());
                        }
                    }
                }
                drop(core);
                shared.notify();
                Ok(())
            }
        }
    }

    /// Serve librdkafka's delivery reports and error events.
    fn poll_loop(self: Arc<Self>) {
        while !self.shared.stop.load(SeqCst) {
            self.kafka().poll(Duration::from_millis(50));
        }
    }

    /// Group commit: every interval, write buffered frames and acks and fsync; then
    /// resolve the handles of the records the commit covered. While the disk fails, retry
    /// with a growing interval (up to 1 s).
    fn commit_loop(self: Arc<Self>) {
        let interval = self.shared.durability.fsync_interval();
        let shared = &self.shared;
        let mut wait = interval;
        loop {
            {
                let core = shared.lock();
                let (core, _) = shared
                    .commit_wake
                    .wait_timeout(core, wait)
                    .unwrap_or_else(|p| p.into_inner());
                drop(core);
            }
            if shared.stop.load(SeqCst) {
                return;
            }
            wait = if self.commit_once() {
                interval
            } else {
                (wait * 2).clamp(interval, Duration::from_secs(1))
            };
        }
    }

    /// One group commit (see `spool::commit`): buffers change hands under the lock, the file
    /// system work runs without it. Handles resolve `Spooled` only for records now on
    /// disk; after a failure the rest stay pending (they are delivered from memory, or
    /// written by a later commit). Returns whether the commit succeeded.
    pub(crate) fn commit_once(&self) -> bool {
        let shared = &self.shared;
        let _serial = self.commit_serial.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = {
            let mut core = shared.lock();
            if core.closed {
                return true;
            }
            core.spool.prepare_commit()
        };
        let outcome = (!ticket.is_empty()).then(|| ticket.run());
        let mut core = shared.lock();
        let result = match outcome {
            Some(o) => core.spool.finish_commit(o),
            None => Ok(()),
        };
        while let Some(&seq) = core.awaiting_sync.front() {
            match core.spool.is_durable(seq) {
                Some(false) => break,
                Some(true) => {
                    core.awaiting_sync.pop_front();
                    if let Some(tx) = core.pending.remove(&seq) {
                        let _ = tx.send(Ok(Delivery::Spooled));
                    }
                }
                // Acknowledged by Kafka meanwhile: its delivery report resolved it.
                None => {
                    core.awaiting_sync.pop_front();
                }
            }
        }
        match &result {
            Err(e) => {
                inc(&shared.counters.spool_io);
                if !core.disk_failing {
                    core.disk_failing = true;
                    tracing::error!(error = %e, memory_bytes = core.spool.memory_bytes(),
                        "spool write failed; keeping unwritten events in memory and retrying");
                }
            }
            Ok(()) if core.disk_failing => {
                core.disk_failing = false;
                tracing::info!("spool writes succeed again");
            }
            Ok(()) => {}
        }
        result.is_ok()
    }

    /// Outage detection, reconnection probes, drain, drain rate, rebuilds.
    fn supervise(self: Arc<Self>) {
        let shared = &self.shared;
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        let mut next_probe = Instant::now();
        let mut last_purge = Instant::now() - Duration::from_secs(10);
        let mut rate_at = (Instant::now(), 0u64);
        // Delivered count when the current cycle began: the backoff resets only once a
        // cycle really delivers, so a broker that answers probes but fails every delivery
        // is retried ever more slowly (and the state changes are logged ever more rarely).
        let mut delivered_at_cycle_start = u64::MAX;
        while !shared.stop.load(SeqCst) {
            let now = Instant::now();
            if now.duration_since(rate_at.0) >= Duration::from_secs(1) {
                let drained = shared.counters.drained.load(Relaxed);
                let rate =
                    (drained - rate_at.1) as f64 / now.duration_since(rate_at.0).as_secs_f64();
                shared
                    .counters
                    .drain_rate_bits
                    .store(rate.to_bits(), Relaxed);
                rate_at = (now, drained);
            }
            if shared.fatal.swap(false, SeqCst) || self.kafka_is_fatal() {
                self.rebuild();
                next_probe = Instant::now();
                continue;
            }
            let (state, failed, draining_enabled) = {
                let core = shared.lock();
                (core.state, core.cycle_failed, core.draining_enabled)
            };
            if !draining_enabled {
                self.idle(Duration::from_millis(50));
                continue;
            }
            if state.reachable() && !failed {
                if shared.counters.delivered.load(Relaxed) > delivered_at_cycle_start {
                    backoff.reset();
                    delivered_at_cycle_start = u64::MAX;
                }
                let sent = self.drain_step();
                if sent == 0 {
                    self.idle(Duration::from_millis(20));
                }
                continue;
            }
            // Connecting, Down, or a failure in this cycle.
            if state.reachable() {
                let mut core = shared.lock();
                shared.set_state(&mut core, ConnectionState::Down { since: now });
                drop(core);
                next_probe = now + backoff.next_delay();
            }
            let inflight = shared.inflight.load(SeqCst);
            if inflight > 0 && now.duration_since(last_purge) >= Duration::from_millis(500) {
                // Take everything back from librdkafka so the spool is the one queue while
                // Kafka is away; delivery reports spool it.
                self.kafka()
                    .purge(PurgeConfig::default().queue().inflight());
                last_purge = now;
            }
            if now < next_probe {
                self.idle((next_probe - now).min(Duration::from_millis(100)));
                continue;
            }
            let ok = self
                .kafka()
                .client()
                .fetch_metadata(None, PROBE_TIMEOUT)
                .is_ok();
            if shared.stop.load(SeqCst) {
                return;
            }
            if ok {
                if shared.inflight.load(SeqCst) > 0 {
                    // Wait for the purged messages' reports before replaying.
                    next_probe = Instant::now() + Duration::from_millis(20);
                    continue;
                }
                delivered_at_cycle_start = shared.counters.delivered.load(Relaxed);
                let mut core = shared.lock();
                core.cycle_failed = false;
                core.cursor = 0;
                let next = if core.spool.is_empty() {
                    ConnectionState::Up
                } else {
                    ConnectionState::Draining
                };
                shared.set_state(&mut core, next);
            } else {
                let mut core = shared.lock();
                if !matches!(core.state, ConnectionState::Down { .. }) {
                    shared.set_state(
                        &mut core,
                        ConnectionState::Down {
                            since: Instant::now(),
                        },
                    );
                }
                drop(core);
                next_probe = Instant::now() + backoff.next_delay();
            }
        }
    }

    fn idle(&self, d: Duration) {
        let core = self.shared.lock();
        let _ = self.shared.wake.wait_timeout(core, d);
    }

    /// Hand the next batch of spooled records to librdkafka, oldest first. The batch is
    /// chosen under the lock; records are read and sent without it (publishing meanwhile
    /// sees them as not yet sent, so it queues behind them).
    fn drain_step(&self) -> usize {
        let shared = &self.shared;
        let batch: Vec<(u64, Option<RecordSource>)> = {
            let core = shared.lock();
            if core.cycle_failed || !core.state.reachable() {
                return 0;
            }
            let room = MAX_DRAIN_INFLIGHT.saturating_sub(shared.inflight.load(SeqCst)) as usize;
            let seqs = core.spool.seqs_from(core.cursor, DRAIN_BATCH.min(room));
            seqs.into_iter()
                .map(|seq| (seq, core.spool.locate(seq)))
                .collect()
        };
        let kafka = self.kafka();
        let mut sent = 0;
        let mut cursor = None;
        let mut failed = false;
        let mut damaged = Vec::new();
        for (seq, source) in batch {
            let Some(source) = source else {
                cursor = Some(seq + 1);
                continue;
            };
            let rec = match source.load() {
                Ok(r) => r,
                Err(SpoolError::Damaged { kind, .. }) => {
                    damaged.push((seq, kind));
                    cursor = Some(seq + 1);
                    continue;
                }
                Err(e) => {
                    inc(&shared.counters.spool_io);
                    tracing::error!(error = %e, "spool read failed; retrying later");
                    break;
                }
            };
            shared.inflight.fetch_add(1, SeqCst);
            let record = BaseRecord::with_opaque_to(
                rec.topic.as_str(),
                Box::new(Flight {
                    seq,
                    origin: Origin::Spool,
                }),
            )
            .key(rec.key.as_slice())
            .payload(rec.value.as_slice())
            .headers(record_headers(&rec));
            match kafka.send(record) {
                Ok(()) => {
                    inc(&shared.counters.retries);
                    cursor = Some(seq + 1);
                    sent += 1;
                }
                Err((err, _)) => {
                    shared.inflight.fetch_sub(1, SeqCst);
                    shared.count_failure(err.rdkafka_error_code());
                    failed = err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull);
                    break;
                }
            }
        }
        let mut core = shared.lock();
        if failed {
            core.cycle_failed = true;
        }
        if let Some(c) = cursor {
            core.cursor = core.cursor.max(c);
        }
        for (seq, kind) in damaged {
            tracing::error!(seq, ?kind, "spooled record damaged on disk; skipped");
            core.spool.ack(seq);
            inc(&shared.counters.skipped);
            if let Some(tx) = core.pending.remove(&seq) {
                let _ = tx.send(Err(PublishError::Spool(SpoolError::Damaged { seq, kind })));
            }
        }
        if matches!(core.state, ConnectionState::Draining) && !core.spool.has_in(core.cursor..) {
            shared.set_state(&mut core, ConnectionState::Up);
        }
        sent
    }

    /// Replace a librdkafka client that hit a fatal error. The spool is untouched; the old
    /// client's messages are purged and spooled by their delivery reports.
    fn rebuild(&self) {
        let shared = &self.shared;
        inc(&shared.counters.rebuilds);
        {
            let mut core = shared.lock();
            core.cycle_failed = true;
            shared.set_state(
                &mut core,
                ConnectionState::Down {
                    since: Instant::now(),
                },
            );
        }
        let new = match Self::create_kafka(&self.config, shared) {
            Ok(k) => Arc::new(k),
            Err(e) => {
                tracing::error!(error = %e, "could not rebuild the Kafka client; retrying");
                shared.fatal.store(true, SeqCst);
                std::thread::sleep(Duration::from_millis(500));
                return;
            }
        };
        let old = {
            let mut guard = self.kafka.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *guard, new)
        };
        old.purge(PurgeConfig::default().queue().inflight());
        let until = Instant::now() + Duration::from_secs(2);
        while old.in_flight_count() > 0 && Instant::now() < until {
            old.poll(Duration::from_millis(50));
        }
        old.poll(Duration::ZERO);
        tracing::warn!("Kafka client rebuilt after a fatal error; spool intact");
    }

    /// Whether librdkafka has raised a fatal error (the error event carries the underlying
    /// code, e.g. an out-of-order sequence number, so ask the client itself).
    fn kafka_is_fatal(&self) -> bool {
        let kafka = self.kafka();
        // SAFETY: the pointer is valid while `kafka` is alive; a null buffer is allowed.
        let err = unsafe {
            rdkafka::bindings::rd_kafka_fatal_error(
                kafka.client().native_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        err != rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Trigger a fatal error in librdkafka (tests of the rebuild path).
    pub(crate) fn inject_fatal(&self) {
        let kafka = self.kafka();
        // SAFETY: the pointer is valid while `kafka` is alive; the reason is a C string.
        unsafe {
            rdkafka::bindings::rd_kafka_test_fatal_error(
                kafka.client().native_ptr(),
                rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                c"injected by test".as_ptr(),
            );
        }
    }

    /// Stop accepting, flush what librdkafka holds until `flush_until`, purge the rest
    /// into the spool, commit, stop the threads and release the spool directory.
    pub(crate) fn shutdown(&self, deadline: Duration, flush: bool) -> super::ShutdownReport {
        let start = Instant::now();
        let end = start + deadline;
        let shared = &self.shared;
        if let Some(r) = self
            .shutdown_report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return r;
        }
        let spooled_before;
        let reachable;
        {
            let mut core = shared.lock();
            core.accepting = false;
            core.draining_enabled = false;
            spooled_before = shared.counters.spooled.load(SeqCst);
            reachable = core.state.reachable() && !core.cycle_failed;
        }
        shared.notify();
        let mut flushed = shared.inflight.load(SeqCst) == 0;
        if flush && reachable && !flushed {
            let flush_until = start + deadline / 2;
            while Instant::now() < flush_until {
                if shared.inflight.load(SeqCst) == 0 {
                    flushed = true;
                    break;
                }
                if shared.lock().cycle_failed {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if shared.inflight.load(SeqCst) > 0 {
            self.kafka()
                .purge(PurgeConfig::default().queue().inflight());
            // Keep a little time for the commit below.
            let purge_until = end
                .checked_sub(Duration::from_millis(50))
                .unwrap_or(end)
                .max(start);
            loop {
                if shared.inflight.load(SeqCst) == 0 || Instant::now() >= purge_until {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let unresolved = shared.inflight.load(SeqCst);
        shared.stop.store(true, SeqCst);
        shared.notify_stop();
        self.commit_once();
        let report = {
            let _serial = self.commit_serial.lock().unwrap_or_else(|p| p.into_inner());
            let mut core = shared.lock();
            if let Err(e) = core.spool.commit() {
                tracing::error!(error = %e, "final spool commit failed");
            }
            // Whatever is not on disk now (the disk failed) is lost with this process: say so.
            let mut lost = 0u64;
            let pending: Vec<_> = core.pending.drain().collect();
            for (seq, tx) in pending {
                let outcome = match core.spool.is_durable(seq) {
                    Some(false) => {
                        lost += 1;
                        Err(PublishError::Abandoned)
                    }
                    _ => Ok(Delivery::Spooled),
                };
                let _ = tx.send(outcome);
            }
            if lost > 0 {
                tracing::error!(
                    lost,
                    "shut down with a failing spool disk: events held only in memory are lost"
                );
            }
            let report = super::ShutdownReport {
                delivered: shared.counters.delivered.load(SeqCst),
                spooled: core.spool.len(),
                spooled_at_shutdown: shared.counters.spooled.load(SeqCst) - spooled_before,
                unresolved,
                flushed,
            };
            if unresolved == 0 {
                core.closed = true;
                if let Err(e) = core.spool.close() {
                    tracing::error!(error = %e, "closing the spool failed");
                }
            }
            report
        };
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let wait_until = end.max(Instant::now() + Duration::from_millis(200));
            while !t.is_finished() && Instant::now() < wait_until {
                std::thread::sleep(Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        tracing::info!(
            delivered = report.delivered,
            spooled = report.spooled,
            spooled_at_shutdown = report.spooled_at_shutdown,
            unresolved = report.unresolved,
            "producer shut down"
        );
        *self
            .shutdown_report
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        report
    }
}
