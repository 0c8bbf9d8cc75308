//! Failure classes: why a message went to the dead-letter topic.
//!
//! Class names are a stable contract: they appear in the `dlq.class` header of every
//! dead-lettered record and as keys of [`ConsumerMetrics::dead_lettered`](super::ConsumerMetrics),
//! so dashboards and replay tools can rely on them. New classes may be added; existing names
//! never change meaning.

use std::fmt;

/// Why a message could not be handled. Every class is permanent: the message is published to
/// `<topic><suffix>` and its offset committed (except `unknown_event_type` under the default
/// [`UnknownEventTypePolicy::Skip`](super::UnknownEventTypePolicy::Skip): skipped and
/// committed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureClass {
    /// The record has a key but no value (a compaction tombstone).
    Tombstone,
    /// The record value is zero bytes long.
    Empty,
    /// The value is longer than `max_message_bytes`. The DLQ record does not copy the value
    /// (it could exceed the DLQ's own size limit); `dlq.original_size` gives its length.
    /// (Any other class is also written without the value, with `dlq.original_size`, when
    /// the dead-letter topic refuses the full record permanently.)
    Oversized,
    /// The value is not valid UTF-8.
    NotUtf8,
    /// The value is UTF-8 but not JSON.
    NotJson,
    /// JSON, but not an envelope: not an object, a missing field, or a field of the wrong type.
    NotEnvelope,
    /// An object in the envelope or payload has the same key twice (at any depth);
    /// `dlq.pointer` names the repeated member. Refused because JSON parsers disagree on
    /// which value wins.
    DuplicateKey,
    /// The `event_type`, `version` or `event_id` record header disagrees with the envelope.
    HeaderMismatch,
    /// No schema in the event set has this `event_type`.
    UnknownEventType,
    /// The `event_type` is known, but not in this `version`: an older or skipped version, or
    /// a newer one whose payload is not valid against the newest known version.
    UnknownVersion,
    /// The payload does not validate against its JSON Schema.
    SchemaViolation,
    /// The payload validated but did not deserialize into the generated type.
    Deserialize,
    /// A valid event without a handler, when the consumer is configured to dead-letter those.
    Unhandled,
    /// The handler returned [`HandlerError::Permanent`](super::HandlerError::Permanent).
    HandlerPermanent,
    /// The handler panicked.
    HandlerPanic,
    /// The handler kept returning [`HandlerError::Transient`](super::HandlerError::Transient)
    /// after every retry of the retry policy.
    RetriesExhausted,
}

impl FailureClass {
    /// Every class, in a fixed order.
    pub const ALL: [FailureClass; 16] = [
        FailureClass::Tombstone,
        FailureClass::Empty,
        FailureClass::Oversized,
        FailureClass::NotUtf8,
        FailureClass::NotJson,
        FailureClass::NotEnvelope,
        FailureClass::DuplicateKey,
        FailureClass::HeaderMismatch,
        FailureClass::UnknownEventType,
        FailureClass::UnknownVersion,
        FailureClass::SchemaViolation,
        FailureClass::Deserialize,
        FailureClass::Unhandled,
        FailureClass::HandlerPermanent,
        FailureClass::HandlerPanic,
        FailureClass::RetriesExhausted,
    ];

    /// The stable wire name, e.g. `schema_violation`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureClass::Tombstone => "tombstone",
            FailureClass::Empty => "empty",
            FailureClass::Oversized => "oversized",
            FailureClass::NotUtf8 => "not_utf8",
            FailureClass::NotJson => "not_json",
            FailureClass::NotEnvelope => "not_envelope",
            FailureClass::DuplicateKey => "duplicate_key",
            FailureClass::HeaderMismatch => "header_mismatch",
            FailureClass::UnknownEventType => "unknown_event_type",
            FailureClass::UnknownVersion => "unknown_version",
            FailureClass::SchemaViolation => "schema_violation",
            FailureClass::Deserialize => "deserialize",
            FailureClass::Unhandled => "unhandled",
            FailureClass::HandlerPermanent => "handler_permanent",
            FailureClass::HandlerPanic => "handler_panic",
            FailureClass::RetriesExhausted => "retries_exhausted",
        }
    }

    /// Parse a wire name (as found in the `dlq.class` header).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed message: its class, where in the record the problem is, and what is wrong.
/// Never holds a payload value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub class: FailureClass,
    /// JSON pointer into the envelope (`/payload/...` for payload problems), a header name
    /// (`header:event_type`) for header problems, or empty.
    pub pointer: String,
    /// What is wrong, built from error kinds and schema facts only.
    pub message: String,
    /// For `unknown_event_type`: the unknown type (cut to 100 characters), so a skipped
    /// type can be logged once.
    pub event_type: Option<String>,
}

impl Failure {
    pub fn new(
        class: FailureClass,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Failure {
            class,
            pointer: pointer.into(),
            message: message.into(),
            event_type: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in FailureClass::ALL {
            assert!(seen.insert(c.as_str()));
            assert_eq!(FailureClass::from_name(c.as_str()), Some(c));
        }
        assert_eq!(FailureClass::from_name("nope"), None);
    }
}
