//! Runtime for the platform's schema-first Kafka events.
//!
//! Generated code (from `pmp-event-codegen`) depends on the small, stable core of this
//! crate: [`EventPayload`], [`SchemaInfo`], [`Envelope`] and [`EventSet`]. Services use
//! the rest: the robust producer and the validating consumer.

pub mod config;
pub mod consumer;
pub mod envelope;
pub mod payload;
pub mod producer;
pub mod spool;

pub use config::{ConfigError, KafkaConfig, SaslMechanism, SecurityProtocol};
pub use envelope::{DecodeError, Envelope, RawEnvelope};
pub use payload::{EventKind, EventPayload, EventSet, SchemaInfo};

/// Re-exports used by generated code, so a service needs no direct dependency on them.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use uuid;
}
