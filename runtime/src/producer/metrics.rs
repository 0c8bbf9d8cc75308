//! Counters of the robust producer, read with [`RobustProducer::metrics`](super::RobustProducer::metrics).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::state::ConnectionState;

/// Delivery failures seen from librdkafka, by kind. A failure is not a loss: retriable
/// failures are spooled and sent again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCounts {
    /// Message or request timed out.
    pub timeout: u64,
    /// Broker unreachable, transport failure, no leader, not enough replicas.
    pub broker: u64,
    /// librdkafka's queue was full.
    pub queue_full: u64,
    /// Purged from librdkafka (outage detected, shutdown, rebuild).
    pub purged: u64,
    /// Fatal librdkafka error (the client is rebuilt).
    pub fatal: u64,
    /// Permanently rejected by Kafka (not retried; reported on the handle).
    pub rejected: u64,
    /// Spool write or fsync failed.
    pub spool_io: u64,
    /// Anything else (retried).
    pub other: u64,
}

/// A point-in-time copy of the producer's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerMetrics {
    /// Connection state now.
    pub state: ConnectionState,
    /// Events accepted by `publish`.
    pub published: u64,
    /// Events acknowledged by Kafka (duplicates from re-sends count again).
    pub delivered: u64,
    /// Records written to the spool (new events and failed in-flight ones).
    pub spooled: u64,
    /// Records in the spool now.
    pub spool_depth: u64,
    /// Bytes in the spool now.
    pub spool_bytes: u64,
    /// Spooled records acknowledged by Kafka.
    pub drained: u64,
    /// Drain rate over the last second, records per second.
    pub drain_rate: f64,
    /// Sends of spooled records to librdkafka (first attempts from the spool included).
    pub retries: u64,
    /// Delivery failures by kind.
    pub failures: FailureCounts,
    /// Publishes refused because the spool was full.
    pub spool_full_rejections: u64,
    /// Damaged spool records skipped (at recovery or on read).
    pub spool_skipped_records: u64,
    /// Times the librdkafka client was rebuilt after a fatal error.
    pub rebuilds: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub published: AtomicU64,
    pub delivered: AtomicU64,
    pub spooled: AtomicU64,
    pub drained: AtomicU64,
    pub drain_rate_bits: AtomicU64,
    pub retries: AtomicU64,
    pub timeout: AtomicU64,
    pub broker: AtomicU64,
    pub queue_full: AtomicU64,
    pub purged: AtomicU64,
    pub fatal: AtomicU64,
    pub rejected: AtomicU64,
    pub spool_io: AtomicU64,
    pub other: AtomicU64,
    pub spool_full: AtomicU64,
    pub skipped: AtomicU64,
    pub rebuilds: AtomicU64,
}

pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Count a failure in the snapshot counter `c` and in `pmp_producer_failed_events_total`
/// with label `class`.
pub(crate) fn inc_failed(c: &AtomicU64, class: &'static str) {
    inc(c);
    crate::observe::metrics::producer_failed(class);
}

impl Counters {
    pub(crate) fn snapshot(
        &self,
        state: ConnectionState,
        spool_depth: u64,
        spool_bytes: u64,
    ) -> ProducerMetrics {
        let g = |c: &AtomicU64| c.load(Relaxed);
        ProducerMetrics {
            state,
            published: g(&self.published),
            delivered: g(&self.delivered),
            spooled: g(&self.spooled),
            spool_depth,
            spool_bytes,
            drained: g(&self.drained),
            drain_rate: f64::from_bits(g(&self.drain_rate_bits)),
            retries: g(&self.retries),
            failures: FailureCounts {
                timeout: g(&self.timeout),
                broker: g(&self.broker),
                queue_full: g(&self.queue_full),
                purged: g(&self.purged),
                fatal: g(&self.fatal),
                rejected: g(&self.rejected),
                spool_io: g(&self.spool_io),
                other: g(&self.other),
            },
            spool_full_rejections: g(&self.spool_full),
            spool_skipped_records: g(&self.skipped),
            rebuilds: g(&self.rebuilds),
        }
    }
}
