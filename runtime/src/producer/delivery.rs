//! What a publish call returns: [`DeliveryHandle`], [`Delivery`] and [`PublishError`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::spool::SpoolError;

/// Where an accepted event is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Kafka acknowledged it (`acks=all`).
    Delivered {
        /// Partition written to.
        partition: i32,
        /// Offset in that partition.
        offset: i64,
    },
    /// It is in the local spool, fsynced; the producer (or the next one on the same spool
    /// directory) delivers it when Kafka is reachable.
    Spooled,
}

/// Why an event was not accepted, or could not be kept. Never contains payload values.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PublishError {
    /// The payload breaks its JSON Schema (validation before send is on).
    #[error("{event_type} v{version} payload invalid at #{pointer}: fails `{keyword}`")]
    Invalid {
        /// Event type.
        event_type: &'static str,
        /// Schema version.
        version: u32,
        /// JSON pointer into the payload.
        pointer: String,
        /// The schema keyword that failed (e.g. `format`, `maxLength`).
        keyword: String,
    },
    /// The payload could not be serialized.
    #[error("{event_type} v{version} payload could not be serialized: {message}")]
    Serialize {
        /// Event type.
        event_type: &'static str,
        /// Schema version.
        version: u32,
        /// What went wrong (values removed).
        message: String,
    },
    /// The embedded schema of the payload type does not compile (a generator bug).
    #[error("schema of {event_type} v{version} is unusable: {message}")]
    SchemaUnusable {
        /// Event type.
        event_type: &'static str,
        /// Schema version.
        version: u32,
        /// What is wrong.
        message: String,
    },
    /// The spool is at its bound and Kafka cannot take the event now: not accepted.
    #[error("not accepted: spool full ({records} records, {bytes} bytes)")]
    SpoolFull {
        /// Records in the spool.
        records: u64,
        /// Bytes in the spool.
        bytes: u64,
    },
    /// The spool could not take the event (its disk is failing and the memory it may hold
    /// meanwhile is used up, or the record is too large): not accepted, never sent.
    /// Returned by `publish` only; an accepted event's handle never fails because of the
    /// disk (see the [spool docs](crate::spool)).
    #[error("spool error: {0}")]
    Spool(SpoolError),
    /// Kafka rejected the event permanently (e.g. too large); it is not retried.
    #[error("event {event_id} rejected by Kafka: {code}")]
    Rejected {
        /// The event's id.
        event_id: Uuid,
        /// librdkafka's error code name.
        code: String,
    },
    /// `shutdown` was called; no new events are accepted.
    #[error("producer is shut down")]
    ShuttingDown,
    /// The producer went away before the event's fate was known: `shutdown`'s deadline was
    /// too short to even purge librdkafka's queue, or the spool's disk was still failing at
    /// shutdown and the event was held only in memory (it is lost).
    #[error("producer went away before the event was delivered or spooled")]
    Abandoned,
}

impl From<SpoolError> for PublishError {
    fn from(e: SpoolError) -> Self {
        match e {
            SpoolError::Full { records, bytes, .. } => PublishError::SpoolFull { records, bytes },
            other => PublishError::Spool(other),
        }
    }
}

pub(crate) type Notifier = oneshot::Sender<Result<Delivery, PublishError>>;

/// Resolves when the event is delivered or durably spooled. Dropping it does not cancel
/// anything: the event is already accepted.
#[derive(Debug)]
pub struct DeliveryHandle {
    event_id: Uuid,
    rx: oneshot::Receiver<Result<Delivery, PublishError>>,
}

impl DeliveryHandle {
    pub(crate) fn new(event_id: Uuid) -> (Self, Notifier) {
        let (tx, rx) = oneshot::channel();
        (DeliveryHandle { event_id, rx }, tx)
    }

    /// The `event_id` of the published envelope.
    pub fn event_id(&self) -> Uuid {
        self.event_id
    }
}

impl Future for DeliveryHandle {
    type Output = Result<Delivery, PublishError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(Ok(r)) => Poll::Ready(r),
            Poll::Ready(Err(_)) => Poll::Ready(Err(PublishError::Abandoned)),
            Poll::Pending => Poll::Pending,
        }
    }
}
