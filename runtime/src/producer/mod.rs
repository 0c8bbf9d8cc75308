//! The robust producer: publishing never blocks on Kafka, and an accepted event is
//! delivered at least once or stays in the local spool.
//!
//! librdkafka alone buffers only in memory, gives up after `message.timeout.ms`, purges
//! its queue when dropped and needs a new client after a fatal error. [`RobustProducer`]
//! puts a disk [spool](crate::spool) and a supervisor around it.
//!
//! # Guarantees
//!
//! * **Never blocks on Kafka.** [`RobustProducer::new`] fails only on bad configuration or
//!   an unusable spool directory; it does not contact Kafka. `publish` serializes,
//!   (optionally) validates, and either hands the event to librdkafka or appends it to the
//!   spool, under a short in-process lock; it returns a [`DeliveryHandle`] at once.
//! * **At least once.** The handle resolves to [`Delivery::Delivered`] (Kafka acknowledged,
//!   `acks=all`, idempotent producer) or [`Delivery::Spooled`] (fsynced to the spool; this
//!   producer, or the next one opened on the same directory, sends it later). A spooled
//!   record is deleted only after Kafka acknowledges it. Re-sends keep the `event_id`.
//! * **Per-key order.** Every event gets a publish sequence number. The spool is replayed
//!   in sequence order, and an event takes the direct path only when every spooled record
//!   has already been handed to librdkafka and no delivery failed since the current cycle
//!   began. On any retriable failure the producer stops sending, purges librdkafka (whose
//!   delivery reports put the purged events into the spool, under their original sequence
//!   numbers), waits until every in-flight message has resolved, and replays the spool from
//!   the oldest record. Within one partition librdkafka (idempotent) keeps order itself.
//!   librdkafka never expires a message on its own (it would expire the head of a
//!   partition's queue and still write the messages behind it: a gap); the producer applies
//!   `message.timeout.ms` itself and, once any event has waited that long, takes every
//!   in-flight event back at once (see `engine/deadline.rs`).
//!   Duplicates of an event can follow a newer one (at-least-once); consumers deduplicate by
//!   `event_id`.
//! * **True outcomes on a failing disk.** An `Err` from `publish` means the event is never
//!   sent; an accepted event's handle resolves only once it is delivered or on disk. A full
//!   or failing spool disk keeps accepted events in memory (bounded) and does not stop the
//!   producer while Kafka is up. See the [spool docs](crate::spool).
//! * **Bounded.** The spool is bounded (bytes, records); a publish beyond the bound fails
//!   with [`PublishError::SpoolFull`] at once. Nothing is dropped silently. The only events
//!   not retried are those Kafka rejects permanently (e.g. too large): they fail their
//!   handle with [`PublishError::Rejected`], are counted and logged (by `event_id`).
//!
//! # Connection state
//!
//! [`ConnectionState`]: `Connecting` (until the first probe answers; events are spooled),
//! `Up`, `Down { since }`, `Draining` (Kafka is back, the backlog is being replayed; new
//! events queue behind it). Read it with [`RobustProducer::state`] or watch it with
//! [`RobustProducer::state_watch`] (for readiness probes). It is logged on change only;
//! librdkafka's own logs go to `debug`. An outage is detected from librdkafka's
//! all-brokers-down error, from failed deliveries and from failed sends; reconnection is
//! probed with a metadata request, with exponential backoff and full jitter between
//! `backoff_min` and `backoff_max` (defaults 100 ms and 30 s).
//!
//! # Durability modes
//!
//! See [`Durability`]. `outage` (default) spools only what Kafka cannot take; `write-ahead`
//! spools everything first (group commit every `fsync_interval`, default 10 ms).
//!
//! # Fatal errors
//!
//! A fatal librdkafka error (e.g. an idempotence sequence gap) makes the producer build a
//! new librdkafka client. The old client's messages are purged into the spool; the spool
//! itself is never touched by a rebuild.
//!
//! # Shutdown and drop
//!
//! [`RobustProducer::shutdown`] stops accepting events, lets librdkafka deliver for up to
//! half the deadline (only while Kafka is up), purges whatever is left into the spool,
//! fsyncs, stops the background threads and releases the spool directory. It returns by the
//! deadline even when the broker is down, with a [`ShutdownReport`].
//!
//! Dropping a `RobustProducer` without calling `shutdown` does the same without the
//! flush phase: in-flight events are purged from librdkafka into the spool at once, the
//! spool is fsynced and the threads are stopped, bounded by 2 seconds. Nothing accepted is
//! lost, but events that were about to be delivered are sent again by the next producer on
//! the directory (duplicates, same `event_id`). If the process dies without running `Drop`
//! (`SIGKILL`, `abort`, power loss), `write-ahead` mode loses nothing whose handle resolved;
//! `outage` mode loses what only librdkafka's memory held at that moment.
//!
//! # Privacy
//!
//! Payloads and credentials never appear in logs, errors or `Debug` output: errors carry
//! event types, JSON pointers, schema keywords, error codes and `event_id`s only.

mod config;
mod delivery;
mod engine;
mod metrics;
mod state;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::ConfigError;
use crate::envelope::{redact_serde_message, Envelope};

use crate::observe::trace::TraceContextHeaders;
use crate::payload::EventPayload;
use crate::spool::{RecoveryReport, SpoolError};

pub use config::{Durability, ProducerConfig, OUTAGE_FSYNC_INTERVAL};
pub use delivery::{Delivery, DeliveryHandle, PublishError};
pub use metrics::{FailureCounts, ProducerMetrics};
pub use state::ConnectionState;

use engine::{Engine, Prepared};

/// The wire envelope, borrowed: same fields, order and skipping as
/// [`Envelope`]'s serialization, without copying strings per event.
#[derive(serde::Serialize)]
struct WireEnvelope<'a, P> {
    event_id: uuid::Uuid,
    event_type: &'static str,
    version: u32,
    timestamp: chrono::DateTime<chrono::Utc>,
    producer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation_id: Option<uuid::Uuid>,
    payload: &'a P,
}

/// A UUID v7 from the thread-local RNG: `Uuid::now_v7` asks the OS for randomness on every
/// call, a system call per event on the hot path.
fn new_event_id(now: chrono::DateTime<chrono::Utc>) -> uuid::Uuid {
    use rand::RngCore;
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// How long `Drop` may take to purge librdkafka into the spool.
const DROP_DEADLINE: Duration = Duration::from_secs(2);

/// Why a producer could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProducerError {
    /// A setting is invalid (names the setting; never shows a credential).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The spool directory cannot be used (permissions, locked by another process).
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

/// What `shutdown` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Events Kafka acknowledged over the producer's lifetime.
    pub delivered: u64,
    /// Events left in the spool; the next producer on the directory delivers them.
    pub spooled: u64,
    /// Of the spooled events, those taken back from librdkafka during shutdown.
    pub spooled_at_shutdown: u64,
    /// Events still inside librdkafka at the deadline (0 unless the deadline was too short
    /// to purge); they are spooled if their reports arrive before the process exits.
    pub unresolved: u64,
    /// Everything in flight was delivered without purging.
    pub flushed: bool,
}

/// A Kafka producer for typed events that keeps working while Kafka is away. See the
/// [module docs](self) for its guarantees.
pub struct RobustProducer {
    engine: Arc<Engine>,
    service_name: String,
    validate: bool,
    validators: validate::Validators,
    recovery: RecoveryReport,
}

impl std::fmt::Debug for RobustProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobustProducer")
            .field("service_name", &self.service_name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl RobustProducer {
    /// Build the producer: validate the configuration, open (and recover) the spool, create
    /// the librdkafka client and start the background threads. Never contacts Kafka.
    pub fn new(config: ProducerConfig) -> Result<Self, ProducerError> {
        let service_name = config.service_name.clone();
        let validate = config.validate_before_send;
        let engine = Engine::start(config)?;
        let recovery = engine.shared.lock().spool.recovery().clone();
        Ok(RobustProducer {
            engine,
            service_name,
            validate,
            validators: validate::Validators::default(),
            recovery,
        })
    }

    /// Publish a payload in a new envelope (`event_id` UUID v7, now, this service).
    /// Returns at once; see [`DeliveryHandle`].
    pub fn publish<P: EventPayload>(&self, payload: P) -> Result<DeliveryHandle, PublishError> {
        let now = chrono::Utc::now();
        self.send_parts(WireEnvelope {
            event_id: new_event_id(now),
            event_type: P::EVENT_TYPE,
            version: P::VERSION,
            timestamp: now,
            producer: &self.service_name,
            correlation_id: None,
            causation_id: None,
            payload: &payload,
        })
    }

    /// Publish a prepared envelope (e.g. with correlation ids). An empty `producer` is
    /// filled with the service name; `event_type` and `version` are taken from `P`.
    /// Topic from `P::TOPIC`, key from `partition_key()`, headers `event_type`, `version`,
    /// `event_id`.
    pub fn publish_envelope<P: EventPayload>(
        &self,
        envelope: Envelope<P>,
    ) -> Result<DeliveryHandle, PublishError> {
        let producer = if envelope.producer.is_empty() {
            self.service_name.as_str()
        } else {
            envelope.producer.as_str()
        };
        self.send_parts(WireEnvelope {
            event_id: envelope.event_id,
            event_type: P::EVENT_TYPE,
            version: P::VERSION,
            timestamp: envelope.timestamp,
            producer,
            correlation_id: envelope.correlation_id,
            causation_id: envelope.causation_id,
            payload: &envelope.payload,
        })
    }

    /// Publish an envelope that is already serialized, e.g. one the transactional outbox
    /// stored in PostgreSQL (crate `pmp-event-outbox`). `info` names the topic and the
    /// `event_type`/`version` headers; `key` is the record key and `event_id` the envelope's
    /// id (its header and its handle). The bytes are sent as they are: neither parsed nor
    /// validated here, so the caller must have checked them against `info`'s schema. Order,
    /// spooling and at-least-once are those of [`publish`](Self::publish). The trace context
    /// headers are the `publish` span's, as for `publish`.
    pub fn publish_serialized(
        &self,
        info: &'static crate::SchemaInfo,
        key: String,
        event_id: uuid::Uuid,
        envelope_json: Vec<u8>,
    ) -> Result<DeliveryHandle, PublishError> {
        self.publish_serialized_traced(info, key, event_id, envelope_json, None)
    }

    /// [`publish_serialized`](Self::publish_serialized) with the trace context the event was
    /// created in (e.g. stored with an outbox row): written as the `traceparent`/`tracestate`
    /// headers as it is. `None` takes the `publish` span's context, as `publish` does.
    pub fn publish_serialized_traced(
        &self,
        info: &'static crate::SchemaInfo,
        key: String,
        event_id: uuid::Uuid,
        envelope_json: Vec<u8>,
        creation: Option<TraceContextHeaders>,
    ) -> Result<DeliveryHandle, PublishError> {
        let (handle, tx) = DeliveryHandle::new(event_id);
        let span = crate::observe::trace::publish_span(info, event_id, &key);
        let _entered = span.enter();
        let trace = creation.or_else(|| TraceContextHeaders::of(&span));
        self.engine.publish(
            Prepared {
                topic: info.topic,
                key,
                value: envelope_json,
                event_id,
                event_type: info.event_type,
                version: info.version,
                trace,
            },
            tx,
        )?;
        Ok(handle)
    }

    fn send_parts<P: EventPayload>(
        &self,
        envelope: WireEnvelope<'_, P>,
    ) -> Result<DeliveryHandle, PublishError> {
        let ser_err = |e: serde_json::Error| PublishError::Serialize {
            event_type: P::EVENT_TYPE,
            version: P::VERSION,
            message: redact_serde_message(&e.to_string()),
        };
        if self.validate {
            // Validate what `to_writer` below puts on the wire: a key the payload's
            // `Serialize` writes twice (e.g. a flattened map repeating a declared property)
            // is refused as `duplicate_key`, as every consumer would refuse it. Checked while
            // building the value, so the wire bytes are not parsed back.
            let payload = pmp_strict_json::to_value(envelope.payload).map_err(|e| match e {
                pmp_strict_json::ToValueError::DuplicateKey { pointer } => PublishError::Invalid {
                    event_type: P::EVENT_TYPE,
                    version: P::VERSION,
                    pointer,
                    keyword: "duplicate_key".to_owned(),
                },
                pmp_strict_json::ToValueError::Serialize(e) => ser_err(e),
            })?;
            self.validators.validate::<P>(&payload)?;
        }
        let mut value = Vec::with_capacity(512);
        serde_json::to_writer(&mut value, &envelope).map_err(ser_err)?;
        let event_id = envelope.event_id;
        let (handle, tx) = DeliveryHandle::new(event_id);
        let key = envelope.payload.partition_key();
        let span = crate::observe::trace::publish_span(P::INFO, event_id, &key);
        let _entered = span.enter();
        self.engine.publish(
            Prepared {
                topic: P::TOPIC,
                key,
                value,
                event_id,
                event_type: P::EVENT_TYPE,
                version: P::VERSION,
                trace: TraceContextHeaders::of(&span),
            },
            tx,
        )?;
        Ok(handle)
    }

    /// The connection state now.
    pub fn state(&self) -> ConnectionState {
        *self.engine.shared.state_tx.borrow()
    }

    /// The connection state's name: `connecting`, `up`, `down` or `draining`.
    pub fn state_name(&self) -> &'static str {
        self.state().name()
    }

    /// A receiver that sees every state change (for readiness probes).
    pub fn state_watch(&self) -> watch::Receiver<ConnectionState> {
        self.engine.shared.state_tx.subscribe()
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> ProducerMetrics {
        let shared = &self.engine.shared;
        let (state, depth, bytes) = {
            let core = shared.lock();
            (core.state, core.spool.len(), core.spool.bytes())
        };
        shared.counters.snapshot(state, depth, bytes)
    }

    /// What opening the spool found (recovered and skipped records).
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Stop accepting events, deliver what can be delivered within half of `deadline`,
    /// spool the rest, and release the spool directory. Returns by `deadline` even with
    /// the broker down (plus the time of a final fsync). Later calls return the same report.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let engine = self.engine.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("pmp-producer-shutdown".into())
            .spawn(move || {
                let _ = tx.send(engine.shutdown(deadline, true));
            });
        match spawned {
            Ok(_) => match rx.await {
                Ok(report) => report,
                Err(_) => self.engine.shutdown(Duration::ZERO, false),
            },
            Err(_) => self.engine.shutdown(deadline, true),
        }
    }

    /// [`shutdown`](Self::shutdown) for code without an async runtime.
    pub fn shutdown_blocking(&self, deadline: Duration) -> ShutdownReport {
        self.engine.shutdown(deadline, true)
    }

    #[doc(hidden)]
    /// Make librdkafka raise a fatal error (tests of the rebuild path).
    pub fn __inject_fatal_error(&self) {
        self.engine.inject_fatal();
    }
}

/// See the module docs: purge into the spool, fsync, stop threads; bounded by 2 s.
impl Drop for RobustProducer {
    fn drop(&mut self) {
        self.engine.shutdown(DROP_DEADLINE, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_envelope_serializes_exactly_like_envelope() {
        let now = chrono::Utc::now();
        for corr in [None, Some(uuid::Uuid::new_v4())] {
            let env = Envelope {
                event_id: new_event_id(now),
                event_type: "patient.created".to_owned(),
                version: 2,
                timestamp: now,
                producer: "svc".to_owned(),
                correlation_id: corr,
                causation_id: None,
                payload: serde_json::json!({"a": 1, "b": "x"}),
            };
            let wire = WireEnvelope {
                event_id: env.event_id,
                event_type: "patient.created",
                version: 2,
                timestamp: now,
                producer: "svc",
                correlation_id: corr,
                causation_id: None,
                payload: &env.payload,
            };
            assert_eq!(
                serde_json::to_vec(&env).unwrap(),
                serde_json::to_vec(&wire).unwrap()
            );
            assert_eq!(env.event_id.get_version_num(), 7);
        }
    }
}
