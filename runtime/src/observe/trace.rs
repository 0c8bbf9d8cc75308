//! Spans following the OpenTelemetry messaging conventions, as plain `tracing` spans.
//!
//! - `publish` (`otel.name = "publish <topic>"`, `otel.kind = "producer"`): entered while
//!   [`RobustProducer::publish`](crate::producer::RobustProducer::publish) hands the event
//!   to librdkafka or the spool.
//! - `process` (`otel.name = "process <topic>"`, `otel.kind = "consumer"`): around the
//!   decoding, handling (retries included) or dead-lettering of one consumed message.
//!
//! Fields: `messaging.system = "kafka"`, `messaging.destination.name` (topic),
//! `messaging.message.id` (the `event_id`), `pmp.event_type`, `pmp.event_version`, and on
//! `process` also `messaging.kafka.destination.partition`, `messaging.kafka.offset` and
//! `messaging.consumer.group.name`. The message key is not recorded (it may be `x-pii`);
//! payload values never are.
//!
//! Not built yet: W3C `traceparent`/`tracestate` record headers and the `otel` feature
//! (`tracing-opentelemetry`); `tracing-opentelemetry` reads `otel.name`/`otel.kind` as set here.

use rdkafka::message::{Message, OwnedMessage};
use tracing::field::Empty;
use tracing::Span;
use uuid::Uuid;

pub(crate) fn publish_span(
    topic: &'static str,
    event_type: &'static str,
    version: u32,
    event_id: Uuid,
) -> Span {
    tracing::info_span!(
        "publish",
        otel.name = %format_args!("publish {topic}"),
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = topic,
        messaging.message.id = %event_id,
        pmp.event_type = event_type,
        pmp.event_version = version,
    )
}

/// The `process` span of `msg`; the event fields are filled by [`record_event`] once decoded.
pub(crate) fn process_span(msg: &OwnedMessage, group: &str) -> Span {
    let topic = msg.topic();
    tracing::info_span!(
        "process",
        otel.name = %format_args!("process {topic}"),
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.destination.name = topic,
        messaging.kafka.destination.partition = msg.partition(),
        messaging.kafka.offset = msg.offset(),
        messaging.consumer.group.name = group,
        messaging.message.id = Empty,
        pmp.event_type = Empty,
        pmp.event_version = Empty,
    )
}

/// Record the decoded event's id, type and version on the current `process` span.
pub(crate) fn record_event(event_id: Uuid, event_type: &str, version: u32) {
    let span = Span::current();
    span.record("messaging.message.id", tracing::field::display(event_id));
    span.record("pmp.event_type", event_type);
    span.record("pmp.event_version", version);
}
