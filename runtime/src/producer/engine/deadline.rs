//! The producer's own delivery deadline, in place of librdkafka's `message.timeout.ms`.
//!
//! # Why librdkafka's timeout is switched off
//!
//! librdkafka expires messages one by one. When the head of a partition's queue expires
//! while the broker cannot take it (e.g. too few in-sync replicas), the messages behind it
//! stay queued, and once the broker recovers they are written — before the expired one,
//! which comes back as a failed delivery report, is spooled and replayed later. That is a
//! gap in the partition (librdkafka's docs: "1, 2, 3, 4, 5 produced; 2 and 3 time out;
//! written: 1, 4, 5"), and a broken per-key order for us. However fast the producer reacts
//! to the first expiry, librdkafka's broker thread may already have sent the next batch.
//!
//! So the producer gives librdkafka `message.timeout.ms=0` (never expire) and applies the
//! configured `message.timeout.ms` itself, to the whole client at once: when any message
//! has been in librdkafka longer than the deadline, the cycle fails and *everything* is
//! purged together (queue and in flight). With an idempotent producer what Kafka wrote of a
//! partition is then a prefix of what was sent, and the replay from the spool re-sends the
//! rest in sequence order: per-key order of first occurrences holds.
//!
//! # How ages are tracked
//!
//! A ring of counters, one per time slot (the deadline divided into at most 512 slots, at
//! least 10 ms each). Each send adds one to the slot of its send time and its delivery
//! report takes it away again. The supervisor asks [`SendAges::expired`]: is any message
//! older than the deadline still out? Two relaxed atomic operations per message; no lock.
//! A message stuck longer than the ring's span (twice the deadline) aliases with newer
//! ones and is noticed one span later; the first purge resolves it anyway.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Messages in librdkafka, counted per send-time slot.
pub(crate) struct SendAges {
    start: Instant,
    slot: Duration,
    /// Slots a message may age before it is overdue.
    deadline_slots: u64,
    counts: Box<[AtomicU64]>,
}

impl SendAges {
    /// Ages against `deadline`; `None` (no deadline) never expires.
    pub(crate) fn new(deadline: Option<Duration>) -> SendAges {
        let deadline = deadline.unwrap_or(Duration::ZERO);
        let slot = (deadline / 512).max(Duration::from_millis(10));
        let deadline_slots = if deadline.is_zero() {
            0
        } else {
            (deadline.as_nanos().div_ceil(slot.as_nanos())) as u64
        };
        let len = (2 * deadline_slots + 4) as usize;
        SendAges {
            start: Instant::now(),
            slot,
            deadline_slots,
            counts: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn slot_at(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_nanos() / self.slot.as_nanos()) as u64
    }

    /// Count a message handed to librdkafka now; returns the slot to pass to [`Self::landed`].
    pub(crate) fn sent(&self) -> u64 {
        self.sent_at(Instant::now())
    }

    /// The ring's counter of `slot`.
    fn counter(&self, slot: u64) -> &AtomicU64 {
        &self.counts[(slot % self.counts.len() as u64) as usize]
    }

    fn sent_at(&self, at: Instant) -> u64 {
        let slot = self.slot_at(at);
        self.counter(slot).fetch_add(1, Relaxed);
        slot
    }

    /// A message sent in `slot` resolved (delivered, failed, purged or never sent).
    pub(crate) fn landed(&self, slot: u64) {
        // Never below zero, even if a report were counted twice.
        let _ = self
            .counter(slot)
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    /// Is a message older than the deadline still in librdkafka?
    pub(crate) fn expired(&self) -> bool {
        self.expired_at(Instant::now())
    }

    fn expired_at(&self, at: Instant) -> bool {
        if self.deadline_slots == 0 {
            return false;
        }
        let now = self.slot_at(at);
        // Ages deadline+1 ..= len-1 slots: older than the deadline by at least one slot.
        ((self.deadline_slots + 1)..self.counts.len() as u64)
            .filter_map(|age| now.checked_sub(age))
            .any(|slot| self.counter(slot).load(Relaxed) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_message_is_overdue_only_after_the_deadline_and_until_it_lands() {
        let ages = SendAges::new(Some(200 * MS));
        let t0 = ages.start;
        let old = ages.sent_at(t0);
        assert!(!ages.expired_at(t0), "just sent");
        let young = ages.sent_at(t0 + 100 * MS);
        assert!(!ages.expired_at(t0 + 150 * MS), "younger than the deadline");
        assert!(
            !ages.expired_at(t0 + 200 * MS),
            "at the deadline, not past it"
        );
        assert!(
            ages.expired_at(t0 + 260 * MS),
            "the first one is past the deadline"
        );
        ages.landed(old);
        assert!(
            !ages.expired_at(t0 + 260 * MS),
            "only the younger one is out"
        );
        assert!(
            ages.expired_at(t0 + 330 * MS),
            "now the younger one is overdue"
        );
        ages.landed(young);
        ages.landed(young);
        assert!(
            !ages.expired_at(t0 + 330 * MS),
            "nothing out; a double report does not underflow"
        );
        let late = ages.sent_at(t0 + 330 * MS);
        assert!(
            ages.expired_at(t0 + 600 * MS),
            "ages count from their own send"
        );
        ages.landed(late);
    }

    #[test]
    fn a_message_stuck_past_the_ring_is_still_noticed() {
        let ages = SendAges::new(Some(100 * MS));
        let t0 = ages.start;
        ages.sent_at(t0);
        // The ring spans 2 * 10 + 4 slots of 10 ms; at 240 ms the slot is "new" again,
        // 110 ms later it is overdue once more.
        assert!(ages.expired_at(t0 + 150 * MS));
        assert!(ages.expired_at(t0 + (240 + 120) * MS));
    }

    #[test]
    fn no_deadline_never_expires() {
        let ages = SendAges::new(None);
        let t0 = ages.start;
        ages.sent_at(t0);
        assert!(!ages.expired_at(t0 + Duration::from_secs(3600)));
    }
}
