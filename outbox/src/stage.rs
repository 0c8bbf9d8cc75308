//! Writing events into the outbox, inside the caller's transaction.
//!
//! [`Outbox::stage`] builds the envelope exactly as
//! [`RobustProducer::publish`](pmp_event_runtime::producer::RobustProducer::publish) does
//! (`event_id` UUID v7, now, this service), validates the payload against its bundled JSON
//! Schema (formats included), and inserts one `event_outbox` row. The trigger's `NOTIFY`
//! reaches the relay when the transaction commits.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use pmp_event_runtime::consumer::{SchemaCompileError, SchemaValidators, SchemaViolation};
use pmp_event_runtime::observe::trace::TraceContextHeaders;
use pmp_event_runtime::{Envelope, EventPayload};
use uuid::Uuid;

use crate::PgTransaction;

/// Why an event was not staged. The transaction is untouched by a refused event (nothing
/// was inserted); what to do with it is the caller's decision.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The payload breaks its JSON Schema. Names the pointer and keyword, never the value.
    #[error("{event_type} v{version} not staged: {violation}")]
    Invalid {
        /// Event type.
        event_type: &'static str,
        /// Schema version.
        version: u32,
        /// Where and why.
        violation: SchemaViolation,
    },
    /// The payload could not be serialized (a `Serialize` impl failed).
    #[error("{event_type} v{version} could not be serialized")]
    Serialize {
        /// Event type.
        event_type: &'static str,
        /// Schema version.
        version: u32,
    },
    /// The payload type's bundled schema does not compile (a generator bug).
    #[error(transparent)]
    Schema(#[from] SchemaCompileError),
    /// The insert failed; the transaction is probably aborted and must be rolled back.
    #[error("outbox insert: {0}")]
    Database(#[from] sqlx::Error),
}

/// Stages typed events into `event_outbox`. Cheap to clone; compiled schemas are shared.
#[derive(Clone)]
pub struct Outbox {
    service_name: Arc<str>,
    validators: Arc<RwLock<HashMap<&'static str, Arc<SchemaValidators>>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox whose envelopes name `service_name` as their `producer`.
    pub fn new(service_name: impl Into<String>) -> Self {
        Outbox {
            service_name: Arc::from(service_name.into()),
            validators: Arc::default(),
        }
    }

    /// Stage `payload` in a new envelope (`event_id` UUID v7, now, this service) inside `tx`.
    /// Returns the `event_id`. Published by the relay after `tx` commits; never if it rolls
    /// back.
    pub async fn stage<P: EventPayload>(
        &self,
        tx: &mut PgTransaction<'_>,
        payload: &P,
    ) -> Result<Uuid, StageError> {
        let envelope = Envelope {
            event_id: Uuid::now_v7(),
            event_type: P::EVENT_TYPE.to_owned(),
            version: P::VERSION,
            timestamp: chrono::Utc::now(),
            producer: self.service_name.to_string(),
            correlation_id: None,
            causation_id: None,
            payload,
        };
        self.insert::<P>(tx, envelope).await
    }

    /// Stage a prepared envelope (e.g. with correlation or causation ids). Its `event_id` is
    /// kept; an empty `producer` is filled with the service name; `event_type` and `version`
    /// are taken from `P`.
    pub async fn stage_envelope<P: EventPayload>(
        &self,
        tx: &mut PgTransaction<'_>,
        envelope: &Envelope<P>,
    ) -> Result<Uuid, StageError> {
        let producer = if envelope.producer.is_empty() {
            self.service_name.to_string()
        } else {
            envelope.producer.clone()
        };
        let borrowed = Envelope {
            event_id: envelope.event_id,
            event_type: P::EVENT_TYPE.to_owned(),
            version: P::VERSION,
            timestamp: envelope.timestamp,
            producer,
            correlation_id: envelope.correlation_id,
            causation_id: envelope.causation_id,
            payload: &envelope.payload,
        };
        self.insert::<P>(tx, borrowed).await
    }

    async fn insert<P: EventPayload>(
        &self,
        tx: &mut PgTransaction<'_>,
        envelope: Envelope<&P>,
    ) -> Result<Uuid, StageError> {
        let serialize = |_| StageError::Serialize {
            event_type: P::EVENT_TYPE,
            version: P::VERSION,
        };
        let payload = serde_json::to_value(envelope.payload).map_err(serialize)?;
        self.validators::<P>()?
            .validate(0, &payload)
            .map_err(|violation| StageError::Invalid {
                event_type: P::EVENT_TYPE,
                version: P::VERSION,
                violation,
            })?;
        let event_id = envelope.event_id;
        let key = envelope.payload.partition_key();
        let wire = Envelope {
            event_id,
            event_type: envelope.event_type,
            version: envelope.version,
            timestamp: envelope.timestamp,
            producer: envelope.producer,
            correlation_id: envelope.correlation_id,
            causation_id: envelope.causation_id,
            payload,
        };
        let bytes = serde_json::to_vec(&wire).map_err(serialize)?;
        let mut headers = serde_json::json!({
            "event_type": P::EVENT_TYPE,
            "version": P::VERSION.to_string(),
            "event_id": event_id.hyphenated().to_string(),
        });
        // The context the event is created in (the request's span, feature `otel` of
        // pmp-event-runtime): the relay sends it as the record's trace context.
        if let (Some(trace), Some(map)) = (TraceContextHeaders::current(), headers.as_object_mut())
        {
            for (name, value) in trace.pairs() {
                map.insert(name.to_owned(), value.into());
            }
        }
        sqlx::query(
            "INSERT INTO event_outbox (event_id, event_type, version, topic, key, headers, envelope) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event_id)
        .bind(P::EVENT_TYPE)
        .bind(i32::try_from(P::VERSION).unwrap_or(i32::MAX))
        .bind(P::TOPIC)
        .bind(key)
        .bind(headers)
        .bind(bytes)
        .execute(&mut **tx)
        .await?;
        Ok(event_id)
    }

    /// The compiled schema of `P`, compiled on first use.
    fn validators<P: EventPayload>(&self) -> Result<Arc<SchemaValidators>, SchemaCompileError> {
        let id = P::INFO.schema_id;
        if let Some(v) = self.validators.read().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(v);
        }
        let compiled = Arc::new(SchemaValidators::compile(
            std::slice::from_ref(P::INFO),
            true,
        )?);
        if let Ok(mut m) = self.validators.write() {
            m.insert(id, compiled.clone());
        }
        Ok(compiled)
    }
}
