//! Counters, readable at any time through [`Consumer::metrics`](super::Consumer::metrics).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use super::failure::FailureClass;

/// A snapshot of the consumer's counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerMetrics {
    /// Events handled successfully, per (event type, version).
    pub processed: BTreeMap<(String, u32), u64>,
    /// Messages published to the dead-letter topic, per failure class.
    pub dead_lettered: BTreeMap<FailureClass, u64>,
    /// Handler retries after transient errors (not counting first attempts).
    pub retries: u64,
    /// Valid events skipped because no handler takes them.
    pub skipped_unhandled: u64,
    /// Events skipped because their type is not in the event set (policy `skip`; each
    /// type is logged once).
    pub skipped_unknown_event_type: u64,
    /// Events of a version newer than every version of their type known here, read as the
    /// newest known version because they are valid against its schema, per (event type,
    /// version read as).
    pub newer_versions_read: BTreeMap<(String, u32), u64>,
    /// Valid events skipped because their `event_id` was handled recently (dedup window).
    pub duplicates: u64,
    /// Failed attempts to publish to the dead-letter topic (transient ones are retried).
    pub dlq_publish_failures: u64,
    /// Dead letters written without the value because the dead-letter topic refused the
    /// full record permanently (e.g. too large); also counted in `dead_lettered`.
    pub dlq_value_dropped: u64,
    /// Messages given up, per class, because the dead-letter topic refused even the
    /// dead letter without the value: their offsets were committed with no dead letter
    /// written (the class and reason are logged). Alert on this.
    pub dlq_unwritable: BTreeMap<FailureClass, u64>,
    /// Errors reported by the Kafka client while consuming.
    pub consume_errors: u64,
    /// Next offset to consume per (topic, partition), stored after the message at the offset
    /// before it was handled or dead-lettered; committed in the background.
    pub stored_offsets: BTreeMap<(String, i32), i64>,
    /// Last offsets the broker confirmed as committed, per (topic, partition).
    pub committed_offsets: BTreeMap<(String, i32), i64>,
}

impl ConsumerMetrics {
    /// Sum of [`dead_lettered`](Self::dead_lettered).
    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.values().sum()
    }
    /// Sum of [`processed`](Self::processed).
    pub fn processed_total(&self) -> u64 {
        self.processed.values().sum()
    }
}

/// Live counters. One uncontended lock per message is cheap next to JSON parsing, and keeps
/// the snapshot consistent.
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Live>,
    /// Connectivity and progress from librdkafka statistics, for [`crate::health`].
    pub health: std::sync::Arc<crate::health::ConsumerState>,
}

#[derive(Default)]
struct Live {
    processed: HashMap<(&'static str, u32), u64>,
    dead_lettered: BTreeMap<FailureClass, u64>,
    retries: u64,
    skipped_unhandled: u64,
    skipped_unknown_event_type: u64,
    newer_versions_read: HashMap<(&'static str, u32), u64>,
    /// What was logged once already (unknown types; newer versions), bounded.
    logged_once: HashSet<(String, u32)>,
    duplicates: u64,
    dlq_publish_failures: u64,
    dlq_value_dropped: u64,
    dlq_unwritable: BTreeMap<FailureClass, u64>,
    consume_errors: u64,
    stored: HashMap<String, HashMap<i32, i64>>,
    committed: BTreeMap<(String, i32), i64>,
}

/// At most this many (type, version) pairs are remembered as logged: names come from the
/// wire, so the set must not grow without bound. Past it, every occurrence is logged at
/// debug level only.
const LOGGED_ONCE_LIMIT: usize = 1000;

impl Live {
    fn first_time(&mut self, event_type: &str, version: u32) -> bool {
        if self.logged_once.len() >= LOGGED_ONCE_LIMIT {
            return false;
        }
        self.logged_once.insert((event_type.to_owned(), version))
    }
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Live) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-update; counters stay usable.
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    pub fn processed(&self, event_type: &'static str, version: u32) {
        self.with(|m| *m.processed.entry((event_type, version)).or_default() += 1);
        crate::observe::metrics::processed(event_type, version);
    }
    /// A dead letter was acknowledged; `without_value` when the value was left out.
    pub fn dead_lettered(&self, class: FailureClass, without_value: bool) {
        self.with(|m| {
            *m.dead_lettered.entry(class).or_default() += 1;
            crate::observe::metrics::dead_lettered(class.as_str());
            if without_value && class != FailureClass::Oversized {
                m.dlq_value_dropped += 1;
            }
        });
    }
    pub fn dlq_unwritable(&self, class: FailureClass) {
        self.with(|m| *m.dlq_unwritable.entry(class).or_default() += 1);
    }
    pub fn retry(&self) {
        self.with(|m| m.retries += 1);
        crate::observe::metrics::consumer_retry();
    }
    pub fn skipped_unhandled(&self) {
        self.with(|m| m.skipped_unhandled += 1);
    }
    /// An unknown event type was skipped; `true` when this type was not logged before.
    pub fn skipped_unknown_event_type(&self, event_type: &str) -> bool {
        self.with(|m| {
            m.skipped_unknown_event_type += 1;
            m.first_time(event_type, 0)
        })
    }
    /// A newer version was read as `read_as`; `true` when (type, wire version) was not
    /// logged before.
    pub fn newer_version_read(&self, event_type: &'static str, read_as: u32, wire: u32) -> bool {
        self.with(|m| {
            *m.newer_versions_read
                .entry((event_type, read_as))
                .or_default() += 1;
            m.first_time(event_type, wire)
        })
    }
    pub fn duplicate(&self) {
        self.with(|m| m.duplicates += 1);
    }
    pub fn dlq_publish_failure(&self) {
        self.with(|m| m.dlq_publish_failures += 1);
    }
    pub fn consume_error(&self) {
        self.with(|m| m.consume_errors += 1);
    }
    pub fn stored(&self, topic: &str, partition: i32, next_offset: i64) {
        self.with(|m| {
            if let Some(p) = m.stored.get_mut(topic) {
                p.insert(partition, next_offset);
            } else {
                m.stored
                    .insert(topic.to_owned(), HashMap::from([(partition, next_offset)]));
            }
        });
    }
    pub fn committed(&self, topic: &str, partition: i32, offset: i64) {
        self.with(|m| {
            m.committed.insert((topic.to_owned(), partition), offset);
        });
    }

    pub fn snapshot(&self) -> ConsumerMetrics {
        self.with(|m| ConsumerMetrics {
            processed: m
                .processed
                .iter()
                .map(|((t, v), n)| (((*t).to_owned(), *v), *n))
                .collect(),
            dead_lettered: m.dead_lettered.clone(),
            retries: m.retries,
            skipped_unhandled: m.skipped_unhandled,
            skipped_unknown_event_type: m.skipped_unknown_event_type,
            newer_versions_read: m
                .newer_versions_read
                .iter()
                .map(|((t, v), n)| (((*t).to_owned(), *v), *n))
                .collect(),
            duplicates: m.duplicates,
            dlq_publish_failures: m.dlq_publish_failures,
            dlq_value_dropped: m.dlq_value_dropped,
            dlq_unwritable: m.dlq_unwritable.clone(),
            consume_errors: m.consume_errors,
            stored_offsets: m
                .stored
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |(p, o)| ((t.clone(), *p), *o)))
                .collect(),
            committed_offsets: m.committed.clone(),
        })
    }
}
