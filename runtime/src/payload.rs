//! The contract between generated payload types and the runtime.

use serde::{de::DeserializeOwned, Serialize};

/// Whether a schema describes a domain event (something that happened) or a command
/// (something a service is asked to do). Both travel in the same envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A domain event, `schemas/events/<type>/vN.json`.
    Event,
    /// A command, `schemas/commands/<type>/vN.json`.
    Command,
}

/// Static facts about one (event type, version) schema, emitted by the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaInfo {
    /// Wire name, e.g. `patient.created`.
    pub event_type: &'static str,
    /// Payload schema version (the `N` of `vN.json`).
    pub version: u32,
    /// Event or command.
    pub kind: EventKind,
    /// Kafka topic (`x-kafka-topic`).
    pub topic: &'static str,
    /// Payload property whose value is the record key (`x-kafka-key`).
    pub key_field: &'static str,
    /// The schema's `$id`.
    pub schema_id: &'static str,
    /// Declared compatibility level (`x-compatibility`), e.g. `BACKWARD_TRANSITIVE`.
    pub compatibility: &'static str,
    /// The payload schema as a self-contained JSON document: every external `$ref` target
    /// is bundled under `$defs` with its own `$id`, so validation never fetches anything.
    pub schema_json: &'static str,
}

/// A generated payload type for one (event type, version).
pub trait EventPayload:
    Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send + Sync + 'static
{
    /// Static schema facts for this payload.
    const INFO: &'static SchemaInfo;
    /// Wire name, e.g. `patient.created`.
    const EVENT_TYPE: &'static str = Self::INFO.event_type;
    /// Payload schema version.
    const VERSION: u32 = Self::INFO.version;
    /// Kafka topic.
    const TOPIC: &'static str = Self::INFO.topic;
    /// Name of the key property.
    const KEY_FIELD: &'static str = Self::INFO.key_field;

    /// The record key: the value of the key property, rendered as a string
    /// (integers in decimal, UUIDs hyphenated).
    fn partition_key(&self) -> String;
}

/// A closed set of (event type, version) payloads, generated as one enum with a variant
/// per schema. The consumer dispatches over it.
pub trait EventSet: Sized + Send + 'static {
    /// Every schema in the set, sorted by (event type, version).
    fn schemas() -> &'static [SchemaInfo];

    /// Deserialize the payload of an already parsed envelope into the variant for
    /// (`envelope.event_type`, `envelope.version`).
    fn from_raw(envelope: crate::RawEnvelope) -> Result<Self, crate::DecodeError>;

    /// The (event type, version) of this value's variant.
    fn kind(&self) -> (&'static str, u32);

    /// This event with its envelope's `version` set to `version`. The consumer calls it
    /// when it reads a version newer than every one in the set as the newest it knows (see
    /// [`RawEnvelope::read_as`](crate::RawEnvelope::read_as)), so that a catch-all handler
    /// sees the version that was on the wire while [`kind`](Self::kind) names the variant.
    /// Generated sets implement it; the default returns the event unchanged (the envelope
    /// then shows the variant's version).
    fn with_wire_version(self, version: u32) -> Self {
        let _ = version;
        self
    }

    /// Parse envelope JSON bytes and dispatch on `event_type` + `version`.
    fn decode(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
        Self::from_raw(crate::RawEnvelope::parse(bytes)?)
    }
}
