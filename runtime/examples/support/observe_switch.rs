//! Observability that a benchmark turns on and off between cases of the same run: a global
//! `tracing` subscriber with the `tracing-opentelemetry` layer (spans batched to an exporter
//! that drops them, as a service exporting over the network would hand them off) and the
//! Prometheus `metrics` recorder, both behind one switch. Off, the layer's filter refuses
//! every span (they are disabled, as with no subscriber) and the recorder hands out no-op
//! handles. Shared by `bench_producer` (runtime) and `bench_consumer` (events) via `#[path]`.

use std::sync::atomic::{AtomicBool, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

static ON: AtomicBool = AtomicBool::new(false);

/// Turn spans and metrics on or off.
pub fn set(on: bool) {
    ON.store(on, Ordering::SeqCst);
}

/// Install the global subscriber and recorder (off until [`set`]). Call once.
pub fn install() -> SdkTracerProvider {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(DropSpans)
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("bench"))
        .with_filter(filter_fn(|_| ON.load(Ordering::Relaxed)));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("no subscriber yet");
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(Switched(prometheus)).expect("no recorder yet");
    provider
}

#[derive(Debug)]
struct DropSpans;

impl SpanExporter for DropSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

struct Switched<R>(R);

impl<R: Recorder> Recorder for Switched<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description)
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description)
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description)
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if ON.load(Ordering::Relaxed) {
            self.0.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if ON.load(Ordering::Relaxed) {
            self.0.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if ON.load(Ordering::Relaxed) {
            self.0.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
}
