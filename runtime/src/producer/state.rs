//! Connection state and reconnection backoff.

use std::time::{Duration, Instant};

use rand::Rng;

/// The producer's view of Kafka, for readiness probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Just constructed; the first probe has not answered yet. Events are spooled.
    Connecting,
    /// Kafka answers; events go to librdkafka (in `write-ahead` mode, after the spool).
    Up,
    /// Kafka is unreachable or failing deliveries; events are spooled.
    Down {
        /// When the outage was noticed.
        since: Instant,
    },
    /// Kafka answers again and the spool backlog is being sent, oldest first; new events
    /// queue behind it.
    Draining,
}

impl ConnectionState {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Up => "up",
            ConnectionState::Down { .. } => "down",
            ConnectionState::Draining => "draining",
        }
    }

    pub(crate) fn same_kind(&self, other: &ConnectionState) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// Whether events may go to librdkafka now.
    pub(crate) fn reachable(&self) -> bool {
        matches!(self, ConnectionState::Up | ConnectionState::Draining)
    }
}

/// Exponential backoff with full jitter: the n-th delay is uniform in
/// `[0, min(max, min_delay * 2^n)]`, so many producers coming back after the same outage
/// do not probe in lockstep.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            attempt: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let cap = self
            .min
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(rand::thread_rng().gen_range(0..=ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        for attempt in 0..30u32 {
            let cap = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(20))
                .min(Duration::from_secs(30));
            assert!(b.next_delay() <= cap);
        }
        // Full jitter: over many draws at the cap, some are well below it.
        let small = (0..200)
            .filter(|_| b.next_delay() < Duration::from_secs(15))
            .count();
        assert!(small > 0);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
