//! Liveness and readiness of a service built on this crate, for probes and load balancers.
//!
//! A [`Health`] watches the service's producer and consumers:
//!
//! - **Live** while every watched consumer's message loop runs (a producer is always live:
//!   it never gives up, it spools). A failed liveness probe means "restart me".
//! - **Ready** when every watched component is:
//!   - a producer: Kafka is reachable (state `up` or `draining`) **and** the spool holds
//!     fewer than [`ProducerReadiness::max_spool_events`] events;
//!   - a consumer: a broker is connected, the group has a settled assignment (possibly
//!     empty: more members than partitions is fine), and it is **not stuck**: it has lag
//!     and its committed offsets have not moved for [`ConsumerReadiness::stuck_after`].
//!
//! The consumer's view comes from librdkafka statistics (`statistics.interval.ms`, 5 s by
//! default, see [`observe`](crate::observe)); until the first report it is not ready.
//! Each check returns a short reason per component: component names and states, never an
//! event or payload value.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::consumer::Consumer;
use crate::producer::RobustProducer;

/// Readiness settings for a watched producer.
#[derive(Debug, Clone, Copy)]
pub struct ProducerReadiness {
    /// Not ready from this many spooled events on (default 10 000).
    pub max_spool_events: u64,
}

impl Default for ProducerReadiness {
    fn default() -> Self {
        ProducerReadiness {
            max_spool_events: 10_000,
        }
    }
}

/// Readiness settings for a watched consumer.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerReadiness {
    /// Stuck (not ready) when lagging with no committed progress for this long (default 120 s).
    pub stuck_after: Duration,
}

impl Default for ConsumerReadiness {
    fn default() -> Self {
        ConsumerReadiness {
            stuck_after: Duration::from_secs(120),
        }
    }
}

/// The outcome of one check: overall verdict plus one line per component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Every component passed.
    pub ok: bool,
    /// (component name, passed, reason).
    pub components: Vec<(String, bool, String)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", if self.ok { "ok" } else { "not ok" })?;
        for (name, ok, reason) in &self.components {
            writeln!(f, "{name}: {} ({reason})", if *ok { "ok" } else { "FAIL" })?;
        }
        Ok(())
    }
}

/// Watches components; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Health {
    components: Arc<RwLock<Vec<(String, Component)>>>,
}

enum Component {
    Producer(Arc<RobustProducer>, ProducerReadiness),
    Consumer(ConsumerProbe, ConsumerReadiness),
}

/// What [`Health`] keeps of a consumer: it outlives [`Consumer::shutdown`] (then not live).
#[derive(Clone)]
pub(crate) struct ConsumerProbe {
    pub running: Arc<AtomicBool>,
    pub state: Arc<ConsumerState>,
}

/// A consumer's connectivity and progress as its librdkafka statistics report them.
#[derive(Default)]
pub(crate) struct ConsumerState {
    inner: Mutex<Option<StatsView>>,
}

struct StatsView {
    broker_up: bool,
    group: String,
    lag: i64,
    committed_sum: i64,
    progress_at: Instant,
}

impl ConsumerState {
    /// Take in one statistics report.
    pub(crate) fn update(&self, stats: &rdkafka::Statistics) {
        let broker_up = stats
            .brokers
            .values()
            .any(|b| b.nodeid >= 0 && b.state == "UP");
        let group = stats.cgrp.as_ref().map_or_else(String::new, |g| {
            if g.state == "up" {
                g.join_state.clone()
            } else {
                g.state.clone()
            }
        });
        let parts = stats
            .topics
            .values()
            .flat_map(|t| t.partitions.iter())
            .filter(|(p, _)| **p >= 0);
        let (mut lag, mut committed_sum) = (0i64, 0i64);
        for (_, p) in parts {
            lag += p.consumer_lag.max(0);
            committed_sum += p.committed_offset.max(0);
        }
        let now = Instant::now();
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let progress_at = match &*g {
            Some(v) if v.committed_sum == committed_sum && lag > 0 => v.progress_at,
            _ => now,
        };
        *g = Some(StatsView {
            broker_up,
            group,
            lag,
            committed_sum,
            progress_at,
        });
    }

    fn ready(&self, r: &ConsumerReadiness) -> (bool, String) {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(v) = &*g else {
            return (false, "no statistics yet".into());
        };
        if !v.broker_up {
            return (false, "no broker connected".into());
        }
        if v.group != "steady" {
            return (false, format!("group not settled ({})", v.group));
        }
        let still = v.progress_at.elapsed();
        if v.lag > 0 && still >= r.stuck_after {
            return (
                false,
                format!(
                    "stuck: lag {} with no commit for {} s",
                    v.lag,
                    still.as_secs()
                ),
            );
        }
        (true, format!("assigned, lag {}", v.lag))
    }
}

impl Health {
    /// Nothing watched yet: live and ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Watch a producer under `name`.
    pub fn watch_producer(
        &self,
        name: impl Into<String>,
        producer: Arc<RobustProducer>,
        readiness: ProducerReadiness,
    ) {
        self.add(name.into(), Component::Producer(producer, readiness));
    }

    /// Watch a consumer under `name`; keeps watching (as not live) after its shutdown.
    pub fn watch_consumer(
        &self,
        name: impl Into<String>,
        consumer: &Consumer,
        readiness: ConsumerReadiness,
    ) {
        self.add(
            name.into(),
            Component::Consumer(consumer.probe(), readiness),
        );
    }

    fn add(&self, name: String, c: Component) {
        self.components
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, c));
    }

    /// Liveness: every consumer loop still runs.
    pub fn liveness(&self) -> Report {
        self.check(|c| match c {
            Component::Producer(p, _) => (true, p.state_name().to_owned()),
            Component::Consumer(probe, _) => {
                if probe.running.load(SeqCst) {
                    (true, "running".into())
                } else {
                    (false, "message loop stopped".into())
                }
            }
        })
    }

    /// Readiness (see the module docs).
    pub fn readiness(&self) -> Report {
        self.check(|c| match c {
            Component::Producer(p, r) => {
                let m = p.metrics();
                let state = p.state_name();
                if !matches!(state, "up" | "draining") {
                    (false, format!("kafka {state}"))
                } else if m.spool_depth >= r.max_spool_events {
                    (false, format!("spool holds {} events", m.spool_depth))
                } else {
                    (true, format!("kafka {state}, spool {}", m.spool_depth))
                }
            }
            Component::Consumer(probe, r) => {
                if !probe.running.load(SeqCst) {
                    (false, "message loop stopped".into())
                } else {
                    probe.state.ready(r)
                }
            }
        })
    }

    fn check(&self, f: impl Fn(&Component) -> (bool, String)) -> Report {
        let components: Vec<(String, bool, String)> = self
            .components
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, c)| {
                let (ok, reason) = f(c);
                (name.clone(), ok, reason)
            })
            .collect();
        Report {
            ok: components.iter().all(|c| c.1),
            components,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::statistics::{Broker, ConsumerGroup, Partition, Statistics, Topic};

    fn stats(broker_state: &str, join_state: &str, lag: i64, committed: i64) -> Statistics {
        let mut s = Statistics::default();
        s.brokers.insert(
            "b1".into(),
            Broker {
                nodeid: 1,
                state: broker_state.into(),
                ..Broker::default()
            },
        );
        s.cgrp = Some(ConsumerGroup {
            state: "up".into(),
            join_state: join_state.into(),
            ..ConsumerGroup::default()
        });
        let mut t = Topic::default();
        t.partitions.insert(
            0,
            Partition {
                consumer_lag: lag,
                committed_offset: committed,
                ..Partition::default()
            },
        );
        s.topics.insert("t".into(), t);
        s
    }

    #[test]
    fn consumer_readiness_from_statistics() {
        let state = ConsumerState::default();
        let patient = ConsumerReadiness {
            stuck_after: Duration::from_secs(3600),
        };
        let impatient = ConsumerReadiness {
            stuck_after: Duration::from_millis(20),
        };
        assert!(!state.ready(&patient).0, "no statistics yet");

        state.update(&stats("DOWN", "steady", 0, 10));
        assert_eq!(state.ready(&patient).1, "no broker connected");
        state.update(&stats("UP", "wait-join", 0, 10));
        assert!(!state.ready(&patient).0);
        state.update(&stats("UP", "steady", 0, 10));
        assert!(state.ready(&patient).0);

        // Lag with no committed progress: stuck once `stuck_after` has passed.
        state.update(&stats("UP", "steady", 5, 10));
        std::thread::sleep(Duration::from_millis(30));
        state.update(&stats("UP", "steady", 5, 10));
        let (ready, reason) = state.ready(&impatient);
        assert!(!ready && reason.starts_with("stuck: lag 5"), "{reason}");
        assert!(state.ready(&patient).0);
        // Progress (commits moved) restarts the clock.
        let before = Instant::now();
        state.update(&stats("UP", "steady", 3, 12));
        let progress_at = state.inner.lock().unwrap().as_ref().unwrap().progress_at;
        assert!(progress_at >= before);
        // No lag is never stuck, however long nothing moves.
        state.update(&stats("UP", "steady", 0, 12));
        std::thread::sleep(Duration::from_millis(30));
        assert!(state.ready(&impatient).0);
    }
}
