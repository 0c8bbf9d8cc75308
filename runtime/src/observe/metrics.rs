//! The metrics the runtime records through the [`metrics`] facade.
//!
//! Every name starts with `pmp_` and carries its unit (`_events_total`, `_seconds`,
//! `_bytes`, `_messages`). The table (also in the README, "Operating a service"):
//!
//! | name | kind | labels | meaning |
//! |---|---|---|---|
//! | `pmp_producer_published_events_total` | counter | topic, event_type, version | events accepted by `publish` |
//! | `pmp_producer_delivered_events_total` | counter | topic | events acknowledged by Kafka (re-sends count again) |
//! | `pmp_producer_spooled_events_total` | counter | topic | records written to the spool |
//! | `pmp_producer_failed_events_total` | counter | class | delivery failures by class (`timeout`, `broker`, `queue_full`, `purged`, `fatal`, `rejected`, `spool_io`, `other`, `spool_full`); a failure is not a loss |
//! | `pmp_producer_retries_total` | counter | | sends of spooled records |
//! | `pmp_producer_spool_depth_events` | gauge | | records in the spool (updated every second) |
//! | `pmp_producer_spool_depth_bytes` | gauge | | bytes in the spool (updated every second) |
//! | `pmp_producer_connected` | gauge | | 1 while Kafka is reachable (`up` or `draining`), else 0 |
//! | `pmp_consumer_consumed_messages_total` | counter | topic | messages received from Kafka |
//! | `pmp_consumer_processed_events_total` | counter | event_type, version | events handled successfully |
//! | `pmp_consumer_dead_lettered_messages_total` | counter | class | messages written to the dead-letter topic |
//! | `pmp_consumer_retries_total` | counter | | handler retries after transient errors |
//! | `pmp_consumer_handler_duration_seconds` | histogram | event_type, version | handler time per event, retries included |
//! | `pmp_consumer_commit_failures_total` | counter | | offset commits Kafka refused |
//! | `pmp_consumer_lag_messages` | gauge | topic, partition | high watermark minus committed offset (librdkafka statistics) |

use std::time::Duration;

use ::metrics::{counter, gauge, histogram};

/// `pmp_producer_published_events_total`
pub const PRODUCER_PUBLISHED: &str = "pmp_producer_published_events_total";
/// `pmp_producer_delivered_events_total`
pub const PRODUCER_DELIVERED: &str = "pmp_producer_delivered_events_total";
/// `pmp_producer_spooled_events_total`
pub const PRODUCER_SPOOLED: &str = "pmp_producer_spooled_events_total";
/// `pmp_producer_failed_events_total`
pub const PRODUCER_FAILED: &str = "pmp_producer_failed_events_total";
/// `pmp_producer_retries_total`
pub const PRODUCER_RETRIES: &str = "pmp_producer_retries_total";
/// `pmp_producer_spool_depth_events`
pub const PRODUCER_SPOOL_DEPTH_EVENTS: &str = "pmp_producer_spool_depth_events";
/// `pmp_producer_spool_depth_bytes`
pub const PRODUCER_SPOOL_DEPTH_BYTES: &str = "pmp_producer_spool_depth_bytes";
/// `pmp_producer_connected`
pub const PRODUCER_CONNECTED: &str = "pmp_producer_connected";
/// `pmp_consumer_consumed_messages_total`
pub const CONSUMER_CONSUMED: &str = "pmp_consumer_consumed_messages_total";
/// `pmp_consumer_processed_events_total`
pub const CONSUMER_PROCESSED: &str = "pmp_consumer_processed_events_total";
/// `pmp_consumer_dead_lettered_messages_total`
pub const CONSUMER_DEAD_LETTERED: &str = "pmp_consumer_dead_lettered_messages_total";
/// `pmp_consumer_retries_total`
pub const CONSUMER_RETRIES: &str = "pmp_consumer_retries_total";
/// `pmp_consumer_handler_duration_seconds`
pub const CONSUMER_HANDLER_DURATION: &str = "pmp_consumer_handler_duration_seconds";
/// `pmp_consumer_commit_failures_total`
pub const CONSUMER_COMMIT_FAILURES: &str = "pmp_consumer_commit_failures_total";
/// `pmp_consumer_lag_messages`
pub const CONSUMER_LAG: &str = "pmp_consumer_lag_messages";

/// Every name above, for exporters that want to describe them.
pub const ALL: &[&str] = &[
    PRODUCER_PUBLISHED,
    PRODUCER_DELIVERED,
    PRODUCER_SPOOLED,
    PRODUCER_FAILED,
    PRODUCER_RETRIES,
    PRODUCER_SPOOL_DEPTH_EVENTS,
    PRODUCER_SPOOL_DEPTH_BYTES,
    PRODUCER_CONNECTED,
    CONSUMER_CONSUMED,
    CONSUMER_PROCESSED,
    CONSUMER_DEAD_LETTERED,
    CONSUMER_RETRIES,
    CONSUMER_HANDLER_DURATION,
    CONSUMER_COMMIT_FAILURES,
    CONSUMER_LAG,
];

// Recording helpers, called next to the snapshot counters (crate-internal: the names
// above are the public contract).

pub(crate) fn published(topic: &'static str, event_type: &'static str, version: u32) {
    counter!(PRODUCER_PUBLISHED, "topic" => topic, "event_type" => event_type,
        "version" => version.to_string())
    .increment(1);
}

pub(crate) fn delivered(topic: &str) {
    counter!(PRODUCER_DELIVERED, "topic" => topic.to_owned()).increment(1);
}

pub(crate) fn spooled(topic: &str) {
    counter!(PRODUCER_SPOOLED, "topic" => topic.to_owned()).increment(1);
}

pub(crate) fn producer_failed(class: &'static str) {
    counter!(PRODUCER_FAILED, "class" => class).increment(1);
}

pub(crate) fn producer_retry() {
    counter!(PRODUCER_RETRIES).increment(1);
}

pub(crate) fn spool_depth(events: u64, bytes: u64) {
    gauge!(PRODUCER_SPOOL_DEPTH_EVENTS).set(events as f64);
    gauge!(PRODUCER_SPOOL_DEPTH_BYTES).set(bytes as f64);
}

pub(crate) fn producer_connected(connected: bool) {
    gauge!(PRODUCER_CONNECTED).set(if connected { 1.0 } else { 0.0 });
}

pub(crate) fn consumed(topic: &str) {
    counter!(CONSUMER_CONSUMED, "topic" => topic.to_owned()).increment(1);
}

pub(crate) fn processed(event_type: &'static str, version: u32) {
    counter!(CONSUMER_PROCESSED, "event_type" => event_type,
        "version" => version.to_string())
    .increment(1);
}

pub(crate) fn dead_lettered(class: &'static str) {
    counter!(CONSUMER_DEAD_LETTERED, "class" => class).increment(1);
}

pub(crate) fn consumer_retry() {
    counter!(CONSUMER_RETRIES).increment(1);
}

pub(crate) fn handler_duration(event_type: &'static str, version: u32, took: Duration) {
    histogram!(CONSUMER_HANDLER_DURATION, "event_type" => event_type,
        "version" => version.to_string())
    .record(took.as_secs_f64());
}

pub(crate) fn commit_failure() {
    counter!(CONSUMER_COMMIT_FAILURES).increment(1);
}

pub(crate) fn consumer_lag(topic: &str, partition: i32, lag: i64) {
    gauge!(CONSUMER_LAG, "topic" => topic.to_owned(), "partition" => partition.to_string())
        .set(lag as f64);
}

/// Record per-partition lag from librdkafka statistics: `consumer_lag` is the high watermark
/// (the last stable offset under `read_committed`) minus the committed offset, `-1` while
/// either is unknown (then nothing is recorded). The internal partition `-1` is skipped.
pub(crate) fn consumer_lag_from_stats(stats: &rdkafka::Statistics) {
    for (topic, t) in &stats.topics {
        for (partition, p) in &t.partitions {
            if *partition >= 0 && p.consumer_lag >= 0 {
                consumer_lag(topic, *partition, p.consumer_lag);
            }
        }
    }
}
