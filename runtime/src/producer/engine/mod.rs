//! The producer's machinery, split along the data flow: `publish` (an event's way in),
//! `callbacks` (librdkafka's delivery reports and errors), `supervisor` (outage detection,
//! probes, drain, rebuilds) and `group_commit` (the spool's fsync cycle). This file holds
//! the shared state and the engine's life cycle. See the [module docs](super) for the model.

mod callbacks;
mod deadline;
mod group_commit;
mod publish;
mod supervisor;

pub(crate) use callbacks::Ctx;
use callbacks::{record_headers, Flight, Origin};
use deadline::SendAges;
pub(crate) use publish::Prepared;

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
use crate::spool::{for_each_loaded, RecordRef, RecordSource, Spool, SpoolError};

use super::config::{Durability, ProducerConfig};
use super::delivery::{Delivery, Notifier, PublishError};
use super::metrics::{inc, inc_failed, Counters};
use super::state::{Backoff, ConnectionState};

pub(crate) type Kafka = BaseProducer<Ctx>;

/// Most records handed to librdkafka by the drain at once (librdkafka's own queue
/// defaults to 100,000 messages).
const MAX_DRAIN_INFLIGHT: u64 = 50_000;
const DRAIN_BATCH: usize = 1024;
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
/// Most delivery outcomes applied per hold of the producer's lock.
const OUTCOMES_PER_LOCK: usize = 256;

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
    /// Send times of the messages in librdkafka, for the producer's own delivery deadline.
    ages: SendAges,
    /// Outcomes of messages sent from the spool, queued by the delivery callback and
    /// applied in batches by the poll thread, so the callback never waits for `core`.
    spool_outcomes: Mutex<Vec<(u64, Result<Delivery, PublishError>)>>,
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
        crate::observe::metrics::producer_connected(new.reachable());
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

    fn queue_spool_outcome(&self, seq: u64, outcome: Result<Delivery, PublishError>) {
        self.spool_outcomes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((seq, outcome));
    }

    /// Apply queued outcomes of spool messages: remove them from the spool, resolve their
    /// handles, count them out of `inflight`. Takes `core` for at most
    /// `OUTCOMES_PER_LOCK` records at a time.
    fn apply_spool_outcomes(&self) {
        let outcomes = {
            let mut q = self
                .spool_outcomes
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if q.is_empty() {
                return;
            }
            std::mem::take(&mut *q)
        };
        let n = outcomes.len() as u64;
        let mut resolved = Vec::with_capacity(outcomes.len());
        for chunk in outcomes.chunks(OUTCOMES_PER_LOCK) {
            let mut core = self.lock();
            for (seq, outcome) in chunk {
                if core.spool.ack(*seq) && outcome.is_ok() {
                    inc(&self.counters.drained);
                }
                if let Some(tx) = core.pending.remove(seq) {
                    resolved.push((tx, outcome.clone()));
                }
            }
            drop(core);
            for (tx, outcome) in resolved.drain(..) {
                let _ = tx.send(outcome);
            }
        }
        self.inflight.fetch_sub(n, SeqCst);
    }

    /// A message is about to be handed to librdkafka: count it in flight and note its
    /// send time. Pair with [`Shared::landed`] when `send` refuses it.
    fn take_off(&self, seq: u64, origin: Origin) -> Box<Flight> {
        self.inflight.fetch_add(1, SeqCst);
        Box::new(Flight {
            seq,
            origin,
            slot: self.ages.sent(),
        })
    }

    /// librdkafka refused `flight` (it never flew).
    fn grounded(&self, flight: &Flight) {
        self.inflight.fetch_sub(1, SeqCst);
        self.ages.landed(flight.slot);
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
            Some(C::MessageTimedOut | C::RequestTimedOut | C::OperationTimedOut) => {
                inc_failed(&c.timeout, "timeout")
            }
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
            ) => inc_failed(&c.broker, "broker"),
            Some(C::QueueFull) => inc_failed(&c.queue_full, "queue_full"),
            Some(C::PurgeQueue | C::PurgeInflight) => inc_failed(&c.purged, "purged"),
            Some(C::Fatal | C::OutOfOrderSequenceNumber) => inc_failed(&c.fatal, "fatal"),
            Some(
                C::MessageSizeTooLarge
                | C::InvalidMessageSize
                | C::InvalidMessage
                | C::MessageBatchTooLarge
                | C::InvalidRecord
                | C::InvalidRequiredAcks
                | C::InvalidTopic,
            ) => {
                inc_failed(&c.rejected, "rejected");
                return true;
            }
            _ => inc_failed(&c.other, "other"),
        }
        false
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
            ages: SendAges::new(config.delivery_timeout()),
            spool_outcomes: Mutex::new(Vec::new()),
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

    /// Serve librdkafka's delivery reports and error events.
    fn poll_loop(self: Arc<Self>) {
        while !self.shared.stop.load(SeqCst) {
            self.kafka().poll(Duration::from_millis(50));
            self.shared.apply_spool_outcomes();
        }
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
        shared.apply_spool_outcomes();
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
