//! Feature `otel`: W3C trace context between `tracing` spans (through
//! `tracing-opentelemetry`) and Kafka record headers. See [`trace`](super::trace) for what
//! is written, when, and how the consumer uses it.
//!
//! The runtime only reads and writes contexts; the service decides where spans go. A
//! service sets up its tracer provider and adds the layer, e.g.
//!
//! ```
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
//!     // .with_batch_exporter(an OTLP or other exporter)
//!     .build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("my-service")));
//! let _guard = tracing::subscriber::set_default(subscriber);
//! ```
//!
//! The headers are always W3C Trace Context (`TraceContextPropagator`), whatever global
//! propagator the service installed: the other side of Kafka must be able to read them.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::trace::{TraceContextHeaders, TRACEPARENT, TRACESTATE};

/// The W3C headers of `span`'s OpenTelemetry context; `None` when it has no valid one (no
/// `tracing_opentelemetry` layer, or the span is disabled).
pub(crate) fn inject(span: &Span) -> Option<TraceContextHeaders> {
    if span.is_disabled() {
        return None;
    }
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut out = Carrier::default();
    TraceContextPropagator::new().inject_context(&cx, &mut out);
    Some(TraceContextHeaders {
        traceparent: out.traceparent?,
        tracestate: out.tracestate.filter(|s| !s.is_empty()),
    })
}

/// Make the message's creation context the parent of `span` and a link on it (must run
/// before `span` is first entered). A malformed `traceparent` is ignored.
pub(crate) fn continue_from(span: &Span, creation: &TraceContextHeaders) {
    let carrier = Carrier {
        traceparent: Some(creation.traceparent.clone()),
        tracestate: creation.tracestate.clone(),
    };
    let cx = TraceContextPropagator::new().extract(&carrier);
    let linked = cx.span().span_context().clone();
    if !linked.is_valid() {
        return;
    }
    // Fails only without a `tracing_opentelemetry` layer, when there is nothing to parent.
    let _ = span.set_parent(cx);
    span.add_link(linked);
}

#[derive(Default)]
struct Carrier {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        match key {
            TRACEPARENT => self.traceparent = Some(value),
            TRACESTATE => self.tracestate = Some(value),
            _ => {}
        }
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => self.traceparent.as_deref(),
            TRACESTATE => self.tracestate.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}
