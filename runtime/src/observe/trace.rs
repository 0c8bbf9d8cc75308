//! Spans following the OpenTelemetry messaging conventions, as plain `tracing` spans, and
//! the W3C trace context that crosses Kafka in record headers.
//!
//! # Spans
//!
//! - `publish` (`otel.name = "publish <topic>"`, `otel.kind = "producer"`): entered while
//!   [`RobustProducer::publish`](crate::producer::RobustProducer::publish) hands the event
//!   to librdkafka or the spool.
//! - `process` (`otel.name = "process <topic>"`, `otel.kind = "consumer"`): around the
//!   decoding, handling (retries included) or dead-lettering of one consumed message.
//!
//! Fields: `messaging.system = "kafka"`, `messaging.destination.name` (topic),
//! `messaging.message.id` (the `event_id`), `messaging.kafka.message.key` (see below),
//! `pmp.event_type`, `pmp.event_version`, and on `process` also
//! `messaging.kafka.destination.partition`, `messaging.kafka.offset` and
//! `messaging.consumer.group.name`. Payload values never are.
//!
//! # The record key
//!
//! Keys are entity ids (`patient_id`, `match_id`, …: the schema's `x-kafka-key`), which
//! help an operator find every event of one entity. `messaging.kafka.message.key` is
//! recorded only when the schema says the key is not personal data: neither the schema
//! itself nor the key property carries `"x-pii": true`, and the key property is declared
//! inline (a key property that is a `$ref` is treated as personal data, since its target's
//! marks are not followed here). A message that cannot be decoded has no schema to ask, so
//! its key is never recorded. See [`key_is_recordable`].
//!
//! # Trace context across Kafka
//!
//! With the `otel` feature (and a `tracing_opentelemetry` layer installed by the service),
//! the producer writes the W3C headers [`TRACEPARENT`] and [`TRACESTATE`] (the latter only
//! when not empty) from the `publish` span's context, so the producer span is the parent of
//! what the consumer does. The headers are part of the record from the moment `publish`
//! accepts it: a record that goes through the disk spool is stored with them and sent with
//! them, however late, so a spooled event keeps the context it was published with. The
//! transactional outbox (crate `pmp-event-outbox`) stores them with the staged row and the
//! relay sends them unchanged ([`TraceContextHeaders::current`] at staging time).
//!
//! The consumer reads them back and, following the messaging conventions for a span that
//! processes a single message, makes the message's creation context both the parent of its
//! `process` span (one trace from publisher to handler) and a link on it. A missing or
//! malformed `traceparent` only means no parent: the message is processed as usual.
//! Without the feature no trace context exists: nothing is written and nothing is read
//! (headers already on a record are still carried through the spool and the outbox).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use rdkafka::message::{Headers, Message, OwnedMessage};
use tracing::field::Empty;
use tracing::Span;
use uuid::Uuid;

use crate::SchemaInfo;

/// Record header with the W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
pub const TRACEPARENT: &str = "traceparent";
/// Record header with the W3C `tracestate` (vendor entries), written only when not empty.
pub const TRACESTATE: &str = "tracestate";

/// The W3C trace context of one record, as its header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContextHeaders {
    /// The `traceparent` header value.
    pub traceparent: String,
    /// The `tracestate` header value, if any.
    pub tracestate: Option<String>,
}

impl TraceContextHeaders {
    /// The context of the current `tracing` span, if it has a valid OpenTelemetry one
    /// (feature `otel`, with a `tracing_opentelemetry` layer). Always `None` without it.
    pub fn current() -> Option<Self> {
        Self::of(&Span::current())
    }

    /// The context of `span` (see [`current`](Self::current)).
    #[cfg(feature = "otel")]
    pub fn of(span: &Span) -> Option<Self> {
        super::otel::inject(span)
    }

    /// The context of `span` (see [`current`](Self::current)).
    #[cfg(not(feature = "otel"))]
    pub fn of(_span: &Span) -> Option<Self> {
        None
    }

    /// The trace context headers of a consumed record, if it has a UTF-8 `traceparent`.
    /// The value is not checked here; a malformed one is ignored when it is used.
    pub fn from_record(msg: &impl Message) -> Option<Self> {
        let headers = msg.headers()?;
        let text = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::to_owned)
        };
        Some(TraceContextHeaders {
            traceparent: text(TRACEPARENT)?,
            tracestate: text(TRACESTATE).filter(|s| !s.is_empty()),
        })
    }

    /// The headers as (name, value) pairs, `tracestate` only when present.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        std::iter::once((TRACEPARENT, self.traceparent.as_str()))
            .chain(self.tracestate.as_deref().map(|s| (TRACESTATE, s)))
    }
}

/// Whether `messaging.kafka.message.key` may be recorded for events of `info` (see the
/// module docs). Decided once per schema from its JSON; an unreadable schema says no.
pub fn key_is_recordable(info: &SchemaInfo) -> bool {
    static DECIDED: OnceLock<RwLock<HashMap<&'static str, bool>>> = OnceLock::new();
    let decided = DECIDED.get_or_init(Default::default);
    if let Some(known) = decided
        .read()
        .ok()
        .and_then(|m| m.get(info.schema_id).copied())
    {
        return known;
    }
    let answer = decide_key_recordable(info.schema_json, info.key_field);
    if let Ok(mut m) = decided.write() {
        m.insert(info.schema_id, answer);
    }
    answer
}

fn decide_key_recordable(schema_json: &str, key_field: &str) -> bool {
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(schema_json) else {
        return false;
    };
    let pii = |v: &serde_json::Value| v.get("x-pii") == Some(&serde_json::Value::Bool(true));
    if pii(&schema) {
        return false;
    }
    match schema.get("properties").and_then(|p| p.get(key_field)) {
        Some(property) => !pii(property) && property.get("$ref").is_none(),
        None => false,
    }
}

pub(crate) fn publish_span(info: &'static SchemaInfo, event_id: Uuid, key: &str) -> Span {
    let topic = info.topic;
    let span = tracing::info_span!(
        "publish",
        otel.name = %format_args!("publish {topic}"),
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = topic,
        messaging.message.id = %event_id,
        messaging.kafka.message.key = Empty,
        pmp.event_type = info.event_type,
        pmp.event_version = info.version,
    );
    if !span.is_disabled() && key_is_recordable(info) {
        span.record("messaging.kafka.message.key", key);
    }
    span
}

/// A retry of the handler (attempt `retry` + 1), a child of the `process` span.
pub(crate) fn retry_span(retry: u32) -> Span {
    tracing::info_span!(
        "retry",
        otel.name = "retry",
        otel.kind = "internal",
        pmp.retry = retry,
    )
}

/// Writing a dead letter to `dlq_topic`, a child of the `process` span: the failure's class
/// and whether the value was left out, never the value or the failure's text.
pub(crate) fn dead_letter_span(dlq_topic: &str, class: &str, without_value: bool) -> Span {
    tracing::info_span!(
        "dead_letter",
        otel.name = %format_args!("publish {dlq_topic}"),
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = dlq_topic,
        pmp.dlq.class = class,
        pmp.dlq.without_value = without_value,
    )
}

/// The `process` span of `msg`; the event fields are filled by [`record_event`] once decoded.
/// With the `otel` feature its parent (and link) is the record's trace context, if any.
pub(crate) fn process_span(msg: &OwnedMessage, group: &str) -> Span {
    let topic = msg.topic();
    let span = tracing::info_span!(
        "process",
        otel.name = %format_args!("process {topic}"),
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.destination.name = topic,
        messaging.kafka.destination.partition = msg.partition(),
        messaging.kafka.offset = msg.offset(),
        messaging.consumer.group.name = group,
        messaging.message.id = Empty,
        messaging.kafka.message.key = Empty,
        pmp.event_type = Empty,
        pmp.event_version = Empty,
    );
    #[cfg(feature = "otel")]
    if !span.is_disabled() {
        if let Some(creation) = TraceContextHeaders::from_record(msg) {
            super::otel::continue_from(&span, &creation);
        }
    }
    span
}

/// Record the decoded event's id, type, version and (if recordable) key on the current
/// `process` span.
pub(crate) fn record_event(msg: &OwnedMessage, event_id: Uuid, info: &SchemaInfo, version: u32) {
    let span = Span::current();
    if span.is_disabled() {
        return;
    }
    span.record("messaging.message.id", tracing::field::display(event_id));
    span.record("pmp.event_type", info.event_type);
    span.record("pmp.event_version", version);
    if key_is_recordable(info) {
        if let Some(key) = msg.key().and_then(|k| std::str::from_utf8(k).ok()) {
            span.record("messaging.kafka.message.key", key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decide_key_recordable;

    #[test]
    fn key_is_recorded_only_when_the_schema_says_it_is_not_personal_data() {
        let plain = r#"{"properties":{"patient_id":{"type":"integer"}}}"#;
        assert!(decide_key_recordable(plain, "patient_id"));
        let marked = r#"{"properties":{"email":{"type":"string","x-pii":true}}}"#;
        assert!(!decide_key_recordable(marked, "email"));
        let unmarked_false = r#"{"properties":{"id":{"type":"string","x-pii":false}}}"#;
        assert!(decide_key_recordable(unmarked_false, "id"));
        let whole = r#"{"x-pii":true,"properties":{"id":{"type":"string"}}}"#;
        assert!(!decide_key_recordable(whole, "id"));
        let by_ref = r#"{"properties":{"id":{"$ref":"../common/id.json"}}}"#;
        assert!(!decide_key_recordable(by_ref, "id"));
        assert!(!decide_key_recordable(plain, "missing"));
        assert!(!decide_key_recordable("not json", "patient_id"));
    }
}
