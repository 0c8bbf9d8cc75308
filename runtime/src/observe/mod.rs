//! Observability: the metric names the runtime records and where they come from
//! ([`metrics`]), and the liveness/readiness checks built on the producer's and the
//! consumer's state ([`health`](crate::health)), the spans and the W3C trace context that
//! crosses Kafka ([`trace`]; with the feature `otel`, the module `otel`).
//!
//! Metrics go through the [`metrics`](https://docs.rs/metrics) facade: nothing is recorded
//! unless the service installs a recorder (the `http` feature's server installs the
//! Prometheus one). The `metrics()` snapshots of the producer and the consumer are bumped in
//! the same place as the facade, so the two never disagree.
//!
//! Labels are only ever a topic, an event type, a version, a failure class or a partition:
//! never a key, an event id or a payload value.

#[cfg(feature = "logging")]
pub mod logging;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
pub mod trace;

/// `statistics.interval.ms` the consumer sets (before the `KafkaConfig` settings, which can
/// override it): how often librdkafka reports the numbers behind `pmp_consumer_lag_messages`.
pub const CONSUMER_STATISTICS_INTERVAL_MS: &str = "5000";
