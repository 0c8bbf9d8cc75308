//! Typed handlers and calling them safely.
//!
//! A handler is registered per (event type, version) with
//! [`ConsumerBuilder::on`](super::ConsumerBuilder::on) and receives the typed
//! [`Envelope<P>`](crate::Envelope), or once for the whole event set with
//! [`ConsumerBuilder::on_any`](super::ConsumerBuilder::on_any) and receives the generated enum
//! (match it exhaustively, and the compiler tells you when the catalog grows). A per-type
//! handler wins over the catch-all.
//!
//! The payload is deserialized once; each attempt (the first and every retry) gets a clone.
//! A panic while creating or polling the handler's future is caught and reported as
//! `handler_panic`; the panic message is not kept, since it may quote payload values.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::envelope::{DecodeError, Envelope, RawEnvelope};
use crate::payload::{EventPayload, EventSet, SchemaInfo};

/// What a handler reports when it could not handle an event.
///
/// The message goes into the `dlq.error` header and logs: describe the problem, never copy
/// payload values into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a database or downstream service is briefly unavailable). Retried with
    /// exponential backoff, then dead-lettered as `retries_exhausted`.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help (the event contradicts the service's state). Dead-lettered at
    /// once as `handler_permanent`.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl HandlerError {
    /// A retryable error.
    pub fn transient(message: impl Into<String>) -> Self {
        HandlerError::Transient(message.into())
    }
    /// A non-retryable error.
    pub fn permanent(message: impl Into<String>) -> Self {
        HandlerError::Permanent(message.into())
    }
}

/// The result every handler returns.
pub type HandlerResult = Result<(), HandlerError>;

/// One prepared call: the typed value bound, callable once per attempt.
pub(crate) type Invocation = Box<dyn Fn() -> BoxFuture<'static, HandlerResult> + Send + Sync>;
/// Builds the invocation from the envelope and the version to read it as (its own, or for
/// version skew the newest known, which is older).
type Preparer = Arc<dyn Fn(RawEnvelope, u32) -> Result<Invocation, DecodeError> + Send + Sync>;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Ok,
    Failed(HandlerError),
    Panicked,
}

pub(crate) struct Handlers<E> {
    by_kind: HashMap<(&'static str, u32), Preparer>,
    any: Option<Preparer>,
    _set: PhantomData<fn() -> E>,
}

impl<E: EventSet> Handlers<E> {
    pub fn new() -> Self {
        Handlers {
            by_kind: HashMap::new(),
            any: None,
            _set: PhantomData,
        }
    }

    pub fn on<P, F, Fut>(&mut self, handler: F)
    where
        P: EventPayload,
        F: Fn(Envelope<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let prepare: Preparer = Arc::new(move |raw: RawEnvelope, _read_as: u32| {
            let envelope = raw.read_as::<P>()?;
            let handler = Arc::clone(&handler);
            let call: Invocation = Box::new(move || handler(envelope.clone()).boxed());
            Ok(call)
        });
        self.by_kind.insert((P::EVENT_TYPE, P::VERSION), prepare);
    }

    pub fn on_any<F, Fut>(&mut self, handler: F)
    where
        E: Clone + Sync,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let prepare: Preparer = Arc::new(move |mut raw: RawEnvelope, read_as: u32| {
            let wire_version = raw.version;
            raw.version = read_as;
            let mut event = E::from_raw(raw)?;
            if wire_version != read_as {
                event = event.with_wire_version(wire_version);
            }
            let handler = Arc::clone(&handler);
            let call: Invocation = Box::new(move || handler(event.clone()).boxed());
            Ok(call)
        });
        self.any = Some(prepare);
    }

    /// The (event type, version) pairs with a dedicated handler.
    pub fn kinds(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        self.by_kind.keys().copied()
    }

    /// Deserialize for the handler that takes `info`'s events (as `info`'s version, which
    /// is older than the envelope's for version skew); `None` when none does.
    pub fn prepare(
        &self,
        info: &SchemaInfo,
        raw: RawEnvelope,
    ) -> Option<Result<Invocation, DecodeError>> {
        let prepare = self
            .by_kind
            .get(&(info.event_type, info.version))
            .or(self.any.as_ref())?;
        Some(prepare(raw, info.version))
    }
}

/// Run one attempt, turning a panic (while building or polling the future) into
/// [`Attempt::Panicked`].
pub(crate) async fn attempt(call: &Invocation) -> Attempt {
    let future = match std::panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(f) => f,
        Err(_) => return Attempt::Panicked,
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(Ok(())) => Attempt::Ok,
        Ok(Err(e)) => Attempt::Failed(e),
        Err(_) => Attempt::Panicked,
    }
}
