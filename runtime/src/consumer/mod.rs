//! The validating consumer: every payload is checked against its JSON Schema before a typed
//! handler sees it, and whatever arrives on the topic, the consumer keeps running.
//!
//! ```no_run
//! # use pmp_event_runtime::consumer::*;
//! # use pmp_event_runtime::{EventSet, EventPayload};
//! # async fn demo<AnyEvent: EventSet, PatientCreatedV1: EventPayload>() -> Result<(), ConsumerError> {
//! let config = ConsumerConfig::from_env()?; // KAFKA_BOOTSTRAP_SERVERS, KAFKA_GROUP_ID, ...
//! let consumer = ConsumerBuilder::<AnyEvent>::new(config)
//!     .on::<PatientCreatedV1, _, _>(|event| async move {
//!         // event: Envelope<PatientCreatedV1>, already schema-valid
//!         let _ = event.payload;
//!         Ok(())
//!     })
//!     .start()?;
//! // ... later
//! consumer.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! # Flow per message
//!
//! `size guard → UTF-8 → envelope → headers agree → (event_type, version) lookup → jsonschema
//! → serde into the typed payload → handler` (see `pipeline` for the failure class of each
//! step). Each assigned partition gets a lane: a task that handles that partition's
//! messages strictly in offset order, so per-partition order holds, including across
//! retries, while different partitions are handled concurrently (a slow handler or a retry
//! holds back only its own partition).
//!
//! # Guarantees
//!
//! - **At least once.** `enable.auto.offset.store` is off: the offset of a message is stored
//!   only after it was handled, skipped (no handler, duplicate) or acknowledged by the
//!   dead-letter topic. Stored offsets are committed every `commit_interval`, by librdkafka
//!   when partitions are revoked in a rebalance, and once more at shutdown. A message in
//!   flight when its partition is revoked is redelivered to the new owner.
//! - **Nothing skipped silently.** A dead-letter publish that fails transiently (broker
//!   down, no leader, timeout) is retried with backoff until it succeeds or shutdown;
//!   meanwhile nothing after it is committed. One the dead-letter topic can never accept
//!   (too large, invalid, not authorized) is written without the value; if even that is
//!   refused, the message is given up loudly (error log, `dlq_unwritable` metric) rather
//!   than stopping its partition forever. See the `dlq` module docs for the reasoning.
//! - **Never crashes on input.** Every bad message becomes a dead letter with a
//!   [`FailureClass`]; handler panics are caught. Two kinds of message are not bad, only
//!   newer than this consumer (a producer deployed first): a newer version of a known type
//!   that is valid against the newest known version is read as that version (see
//!   `pipeline`), and an event of an unknown type is skipped and committed (counted, logged
//!   once per type) unless [`UnknownEventTypePolicy::DeadLetter`] is set. Errors name topic/partition/offset and JSON
//!   pointers, never payload values.
//! - **Bounded shutdown.** [`Consumer::shutdown`] returns within its deadline even when the
//!   broker is gone; librdkafka's blocking close runs on a plain thread that is not waited
//!   for past the deadline.
//!
//! Dead-letter record format: see [`dlq_headers`].

mod config;
mod dedup;
mod dispatch;
mod dlq;
mod failure;
mod lanes;
mod metrics;
mod pipeline;
mod process;
mod retry;
mod validate;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio::sync::watch;

pub use config::{
    ConsumerConfig, OffsetReset, RetryPolicy, UnhandledPolicy, UnknownEventTypePolicy,
    DEFAULT_MAX_MESSAGE_BYTES,
};
pub use dispatch::{HandlerError, HandlerResult};
pub use dlq::headers as dlq_headers;
pub use failure::FailureClass;
pub use metrics::ConsumerMetrics;
pub use pipeline::{HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_VERSION};
pub use validate::{SchemaCompileError, SchemaLookup, SchemaValidators, SchemaViolation};

use crate::config::ConfigError;
use crate::envelope::Envelope;
use crate::payload::{EventPayload, EventSet};
use dedup::DedupWindow;
use dispatch::Handlers;
use dlq::DeadLetters;
use lanes::Worker;
use metrics::Metrics;
use pipeline::Pipeline;

/// Why a consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// Bad configuration (names the setting or environment variable).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A schema of the event set does not compile.
    #[error(transparent)]
    Schema(#[from] SchemaCompileError),
    /// A handler was registered for an (event type, version) that is not in the event set.
    #[error("handler registered for {event_type} v{version}, which is not in the event set")]
    HandlerNotInSet {
        /// Event type of the handler's payload.
        event_type: &'static str,
        /// Version of the handler's payload.
        version: u32,
    },
    /// [`ConsumerBuilder::event_types`] names a type the event set does not have.
    #[error("event type {0:?} is not in the event set")]
    UnknownEventType(String),
    /// No topics configured and none can be derived from the handlers.
    #[error("no topics: set ConsumerConfig::topics (KAFKA_TOPICS), call event_types(), or register per-type handlers")]
    NoTopics,
    /// The Kafka client could not be created or subscribed.
    #[error("kafka client: {0}")]
    Kafka(#[from] KafkaError),
    /// `start` was called outside a Tokio runtime.
    #[error("start() must be called inside a Tokio runtime")]
    NoRuntime,
}

/// Collects handlers, then starts a [`Consumer`] over the event set `E` (the generated
/// all-events enum).
pub struct ConsumerBuilder<E: EventSet> {
    config: ConsumerConfig,
    handlers: Handlers<E>,
    event_types: Vec<String>,
    errors: Vec<ConsumerError>,
}

impl<E: EventSet> ConsumerBuilder<E> {
    /// Start from `config`, with no handlers.
    pub fn new(config: ConsumerConfig) -> Self {
        ConsumerBuilder {
            config,
            handlers: Handlers::new(),
            event_types: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Handle (event type, version) `P` with `handler`, which receives the typed envelope.
    /// Registering `P` twice keeps the last handler.
    pub fn on<P, F, Fut>(mut self, handler: F) -> Self
    where
        P: EventPayload,
        F: Fn(Envelope<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        if !E::schemas()
            .iter()
            .any(|s| s.event_type == P::EVENT_TYPE && s.version == P::VERSION)
        {
            self.errors.push(ConsumerError::HandlerNotInSet {
                event_type: P::EVENT_TYPE,
                version: P::VERSION,
            });
        }
        self.handlers.on::<P, F, Fut>(handler);
        self
    }

    /// Handle every event of the set that has no per-type handler, as the enum `E`.
    pub fn on_any<F, Fut>(mut self, handler: F) -> Self
    where
        E: Clone + Sync,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.handlers.on_any(handler);
        self
    }

    /// Subscribe to the topics that carry these event types (in addition to
    /// [`ConsumerConfig::topics`]).
    pub fn event_types<S: AsRef<str>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.event_types
            .extend(types.into_iter().map(|t| t.as_ref().to_owned()));
        self
    }

    fn topics(&self) -> Result<Vec<String>, ConsumerError> {
        let mut topics = self.config.topics.clone();
        for t in &self.event_types {
            let mut found = false;
            for s in E::schemas().iter().filter(|s| s.event_type == t) {
                found = true;
                topics.push(s.topic.to_owned());
            }
            if !found {
                return Err(ConsumerError::UnknownEventType(t.clone()));
            }
        }
        if topics.is_empty() {
            for (event_type, version) in self.handlers.kinds() {
                if let Some(s) = E::schemas()
                    .iter()
                    .find(|s| s.event_type == event_type && s.version == version)
                {
                    topics.push(s.topic.to_owned());
                }
            }
        }
        topics.sort();
        topics.dedup();
        if topics.is_empty() {
            return Err(ConsumerError::NoTopics);
        }
        Ok(topics)
    }

    /// Compile the validators, connect, subscribe and start consuming on the current Tokio
    /// runtime. Fails fast on configuration and schema problems; never waits for Kafka.
    pub fn start(mut self) -> Result<Consumer, ConsumerError> {
        if let Some(e) = self.errors.pop() {
            return Err(e);
        }
        self.config.validate()?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ConsumerError::NoRuntime)?;
        let topics = self.topics()?;
        let validators = SchemaValidators::compile(E::schemas(), self.config.validate_formats)?;
        let metrics = Arc::new(Metrics::default());

        let cfg = &self.config;
        let mut client = ClientConfig::new();
        client
            .set(
                "auto.offset.reset",
                match cfg.offset_reset {
                    OffsetReset::Earliest => "earliest",
                    OffsetReset::Latest => "latest",
                },
            )
            .set(
                "auto.commit.interval.ms",
                cfg.commit_interval
                    .as_millis()
                    .min(i32::MAX as u128)
                    .to_string(),
            )
            .set("enable.partition.eof", "false")
            // Consumer lag (`pmp_consumer_lag_messages`); a `KafkaConfig` setting overrides.
            .set(
                "statistics.interval.ms",
                crate::observe::CONSUMER_STATISTICS_INTERVAL_MS,
            );
        cfg.kafka.apply(&mut client);
        // Applied last: the at-least-once guarantee depends on them.
        client
            .set("group.id", &cfg.group_id)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false");
        let consumer: StreamConsumer<Context> = client.create_with_context(Context {
            metrics: Arc::clone(&metrics),
        })?;
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topic_refs)?;
        let consumer = Arc::new(consumer);
        let dlq = Arc::new(DeadLetters::new(cfg)?);

        let (stop_tx, stop_rx) = watch::channel(false);
        let running = Arc::new(AtomicBool::new(true));
        let worker = Worker {
            consumer: OffThreadDrop::new(Arc::clone(&consumer)),
            dlq: OffThreadDrop::new(Arc::clone(&dlq)),
            pipeline: Pipeline {
                validators,
                max_message_bytes: cfg.max_message_bytes,
            },
            handlers: self.handlers,
            metrics: Arc::clone(&metrics),
            retry: cfg.retry,
            unhandled: cfg.unhandled,
            unknown_event_type: cfg.unknown_event_type,
            dedup: (cfg.dedup_window > 0)
                .then(|| std::sync::Mutex::new(DedupWindow::new(cfg.dedup_window))),
        };
        let flag = Arc::clone(&running);
        let task = runtime.spawn(async move {
            worker.run(stop_rx).await;
            flag.store(false, Ordering::SeqCst);
        });
        Ok(Consumer {
            consumer: Some(OffThreadDrop::new(consumer)),
            dlq: Some(OffThreadDrop::new(dlq)),
            task: Some(task),
            stop: stop_tx,
            running,
            metrics,
            topics,
            group_id: self.config.group_id,
        })
    }
}

/// A running consumer. Dropping it stops consuming without waiting; call
/// [`shutdown`](Self::shutdown) to commit and close within a deadline.
pub struct Consumer {
    consumer: Option<OffThreadDrop<Arc<StreamConsumer<Context>>>>,
    dlq: Option<OffThreadDrop<Arc<DeadLetters>>>,
    task: Option<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    running: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    topics: Vec<String>,
    group_id: String,
}

/// How [`Consumer::shutdown`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The message loop stopped by itself (no handler had to be cancelled).
    pub drained: bool,
    /// The final commit of stored offsets was confirmed by the broker (or there was nothing
    /// to commit). `false` when the broker was unreachable: those messages are seen again.
    pub committed: bool,
    /// Closing finished before the deadline; otherwise it continues on a background thread.
    pub closed: bool,
}

impl Consumer {
    /// A snapshot of the counters.
    pub fn metrics(&self) -> ConsumerMetrics {
        self.metrics.snapshot()
    }

    /// Whether the message loop is still running.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// What [`Health`](crate::health::Health) watches; outlives `shutdown`.
    pub(crate) fn probe(&self) -> crate::health::ConsumerProbe {
        crate::health::ConsumerProbe {
            running: Arc::clone(&self.running),
            state: Arc::clone(&self.metrics.health),
        }
    }

    /// The subscribed topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The consumer group.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Stop consuming, commit stored offsets and close, returning within `deadline`.
    ///
    /// The messages in progress (at most one per partition lane) may finish (handler, DLQ
    /// publish) during the first half of the deadline; after that they are cancelled and
    /// their offsets stay uncommitted. Commit
    /// and close get the rest; if the broker is gone they continue on a background thread.
    pub async fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        let start = Instant::now();
        let _ = self.stop.send(true);
        let mut drained = true;
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(deadline / 2, &mut task).await.is_err() {
                drained = false;
                task.abort();
                let left = deadline.saturating_sub(start.elapsed());
                let _ = tokio::time::timeout(left, task).await;
            }
        }
        let consumer = self.consumer.take();
        let dlq = self.dlq.take();
        let metrics = Arc::clone(&self.metrics);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("pmp-consumer-close".into())
            .spawn(move || {
                let committed = match consumer.as_ref() {
                    None => true,
                    Some(c) => {
                        let result = c.get().commit_consumer_state(CommitMode::Sync);
                        let ok = matches!(
                            result,
                            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset))
                        );
                        if ok {
                            // A synchronous commit of the stored offsets: they are now committed.
                            for ((topic, partition), offset) in metrics.snapshot().stored_offsets {
                                metrics.committed(&topic, partition, offset);
                            }
                        }
                        ok
                    }
                };
                // Dropping closes: librdkafka leaves the group, which blocks without a broker.
                drop(consumer.map(OffThreadDrop::into_inner));
                drop(dlq.map(OffThreadDrop::into_inner));
                let _ = tx.send(committed);
            });
        if spawned.is_err() {
            return ShutdownReport {
                drained,
                committed: false,
                closed: false,
            };
        }
        let left = deadline.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, rx).await {
            Ok(Ok(committed)) => ShutdownReport {
                drained,
                committed,
                closed: true,
            },
            _ => ShutdownReport {
                drained,
                committed: false,
                closed: false,
            },
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn record_committed(metrics: &Metrics, tpl: &TopicPartitionList) {
    for e in tpl.elements() {
        if let Offset::Offset(o) = e.offset() {
            metrics.committed(e.topic(), e.partition(), o);
        }
    }
}

/// librdkafka callbacks: record confirmed commits.
struct Context {
    metrics: Arc<Metrics>,
}

impl ClientContext for Context {
    fn stats(&self, statistics: rdkafka::Statistics) {
        crate::observe::metrics::consumer_lag_from_stats(&statistics);
        self.metrics.health.update(&statistics);
    }
}

impl ConsumerContext for Context {
    /// Commit stored offsets before partitions are taken away, so their next owner starts
    /// after everything this member handled. Skipped when the assignment is already lost
    /// (session timed out): the commit would be rejected anyway. A coordinator that refuses
    /// commits while the rebalance is in progress (librdkafka's mock cluster does) makes the
    /// new owner replay what this member handled since its last successful commit: at least
    /// once still holds, but those messages are handled (or dead-lettered) twice.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            if consumer.assignment_lost() {
                return;
            }
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => {
                    for ((topic, partition), offset) in self.metrics.snapshot().stored_offsets {
                        self.metrics.committed(&topic, partition, offset);
                    }
                }
                Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
                Err(e) => {
                    crate::observe::metrics::commit_failure();
                    tracing::warn!(error = %e, "commit before rebalance failed; the new owner may see messages again")
                }
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => record_committed(&self.metrics, offsets),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => {
                crate::observe::metrics::commit_failure();
                tracing::warn!(error = %e, "offset commit failed; it is retried with the next commit")
            }
        }
    }
}

/// Drops its value on a fresh thread: dropping librdkafka clients blocks (closing a group
/// consumer waits for the broker), which must not stall a Tokio worker.
struct OffThreadDrop<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> OffThreadDrop<T> {
    fn new(v: T) -> Self {
        OffThreadDrop(Some(v))
    }
    fn get(&self) -> &T {
        match &self.0 {
            Some(v) => v,
            None => unreachable!("only emptied by into_inner, which consumes self"),
        }
    }
    fn into_inner(mut self) -> T {
        match self.0.take() {
            Some(v) => v,
            None => unreachable!("only emptied here"),
        }
    }
}

impl<T: Send + 'static> Drop for OffThreadDrop<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            let _ = std::thread::Builder::new()
                .name("pmp-consumer-drop".into())
                .spawn(move || drop(v));
        }
    }
}
