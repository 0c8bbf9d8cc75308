//! The supervisor thread: outage detection, reconnection probes, the drain, rebuilds.

use super::*;

impl Engine {
    /// Outage detection, reconnection probes, drain, drain rate, rebuilds.
    pub(super) fn supervise(self: Arc<Self>) {
        let shared = &self.shared;
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        let mut next_probe = Instant::now();
        let mut last_purge = Instant::now() - Duration::from_secs(10);
        let mut rate_at = (Instant::now(), 0u64);
        // Delivered count when the current cycle began: the backoff resets only once a
        // cycle really delivers, so a broker that answers probes but fails every delivery
        // is retried ever more slowly (and the state changes are logged ever more rarely).
        let mut delivered_at_cycle_start = u64::MAX;
        while !shared.stop.load(SeqCst) {
            let now = Instant::now();
            if now.duration_since(rate_at.0) >= Duration::from_secs(1) {
                let drained = shared.counters.drained.load(Relaxed);
                let rate =
                    (drained - rate_at.1) as f64 / now.duration_since(rate_at.0).as_secs_f64();
                shared
                    .counters
                    .drain_rate_bits
                    .store(rate.to_bits(), Relaxed);
                rate_at = (now, drained);
                let (depth, bytes) = {
                    let core = shared.lock();
                    (core.spool.len(), core.spool.bytes())
                };
                crate::observe::metrics::spool_depth(depth, bytes);
            }
            if shared.fatal.swap(false, SeqCst) || self.kafka_is_fatal() {
                self.rebuild();
                next_probe = Instant::now();
                continue;
            }
            let (state, failed, draining_enabled) = {
                let core = shared.lock();
                (core.state, core.cycle_failed, core.draining_enabled)
            };
            if !draining_enabled {
                self.idle(Duration::from_millis(50));
                continue;
            }
            if state.reachable() && !failed && shared.ages.expired() {
                // The delivery deadline (see `deadline`): take everything back at once.
                inc_failed(&shared.counters.timeout, "timeout");
                tracing::warn!(
                    inflight = shared.inflight.load(SeqCst),
                    "an event waited longer than message.timeout.ms for Kafka; \
                     taking every in-flight event back into the spool"
                );
                shared.mark_failed();
                continue;
            }
            if state.reachable() && !failed {
                if shared.counters.delivered.load(Relaxed) > delivered_at_cycle_start {
                    backoff.reset();
                    delivered_at_cycle_start = u64::MAX;
                }
                let sent = self.drain_step();
                if sent == 0 {
                    self.idle(Duration::from_millis(20));
                }
                continue;
            }
            // Connecting, Down, or a failure in this cycle.
            if state.reachable() {
                let mut core = shared.lock();
                shared.set_state(&mut core, ConnectionState::Down { since: now });
                drop(core);
                next_probe = now + backoff.next_delay();
                // Purge at once: whatever librdkafka still sends now could overtake the
                // events whose failure started this (a gap in their partition).
                last_purge = now - Duration::from_secs(1);
            }
            let inflight = shared.inflight.load(SeqCst);
            if inflight > 0 && now.duration_since(last_purge) >= Duration::from_millis(500) {
                // Take everything back from librdkafka so the spool is the one queue while
                // Kafka is away; delivery reports spool it.
                self.kafka()
                    .purge(PurgeConfig::default().queue().inflight());
                last_purge = now;
            }
            if now < next_probe {
                self.idle((next_probe - now).min(Duration::from_millis(100)));
                continue;
            }
            let ok = self
                .kafka()
                .client()
                .fetch_metadata(None, PROBE_TIMEOUT)
                .is_ok();
            if shared.stop.load(SeqCst) {
                return;
            }
            if ok {
                if shared.inflight.load(SeqCst) > 0 {
                    // Wait for the purged messages' reports before replaying.
                    next_probe = Instant::now() + Duration::from_millis(20);
                    continue;
                }
                delivered_at_cycle_start = shared.counters.delivered.load(Relaxed);
                let mut core = shared.lock();
                core.cycle_failed = false;
                core.cursor = 0;
                let next = if core.spool.is_empty() {
                    ConnectionState::Up
                } else {
                    ConnectionState::Draining
                };
                shared.set_state(&mut core, next);
            } else {
                let mut core = shared.lock();
                if !matches!(core.state, ConnectionState::Down { .. }) {
                    shared.set_state(
                        &mut core,
                        ConnectionState::Down {
                            since: Instant::now(),
                        },
                    );
                }
                drop(core);
                next_probe = Instant::now() + backoff.next_delay();
            }
        }
    }

    fn idle(&self, d: Duration) {
        let core = self.shared.lock();
        let _ = self.shared.wake.wait_timeout(core, d);
    }

    /// Hand the next batch of spooled records to librdkafka, oldest first. The batch is
    /// chosen under the lock; records are read and sent without it (publishing meanwhile
    /// sees them as not yet sent, so it queues behind them).
    fn drain_step(&self) -> usize {
        let shared = &self.shared;
        let batch: Vec<(u64, Option<RecordSource>)> = {
            let core = shared.lock();
            if core.cycle_failed || !core.state.reachable() {
                return 0;
            }
            let room = MAX_DRAIN_INFLIGHT.saturating_sub(shared.inflight.load(SeqCst)) as usize;
            let seqs = core.spool.seqs_from(core.cursor, DRAIN_BATCH.min(room));
            seqs.into_iter()
                .map(|seq| (seq, core.spool.locate(seq)))
                .collect()
        };
        let kafka = self.kafka();
        let mut sent = 0;
        let mut cursor = None;
        let mut failed = false;
        let mut damaged = Vec::new();
        for_each_loaded(batch, |seq, loaded| {
            let Some(loaded) = loaded else {
                cursor = Some(seq + 1);
                return true;
            };
            let rec = match loaded {
                Ok(r) => r,
                Err(SpoolError::Damaged { kind, .. }) => {
                    damaged.push((seq, kind));
                    cursor = Some(seq + 1);
                    return true;
                }
                Err(e) => {
                    inc_failed(&shared.counters.spool_io, "spool_io");
                    tracing::error!(error = %e, "spool read failed; retrying later");
                    return false;
                }
            };
            let record = BaseRecord::with_opaque_to(rec.topic, shared.take_off(seq, Origin::Spool))
                .key(rec.key)
                .payload(rec.value)
                .headers(record_headers(&rec));
            match kafka.send(record) {
                Ok(()) => {
                    inc(&shared.counters.retries);
                    crate::observe::metrics::producer_retry();
                    cursor = Some(seq + 1);
                    sent += 1;
                    true
                }
                Err((err, record)) => {
                    shared.grounded(&record.delivery_opaque);
                    shared.count_failure(err.rdkafka_error_code());
                    failed = err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull);
                    false
                }
            }
        });
        let mut core = shared.lock();
        if failed {
            core.cycle_failed = true;
        }
        if let Some(c) = cursor {
            core.cursor = core.cursor.max(c);
        }
        for (seq, kind) in damaged {
            tracing::error!(seq, ?kind, "spooled record damaged on disk; skipped");
            core.spool.ack(seq);
            inc(&shared.counters.skipped);
            if let Some(tx) = core.pending.remove(&seq) {
                let _ = tx.send(Err(PublishError::Spool(SpoolError::Damaged { seq, kind })));
            }
        }
        if matches!(core.state, ConnectionState::Draining) && !core.spool.has_in(core.cursor..) {
            shared.set_state(&mut core, ConnectionState::Up);
        }
        sent
    }

    /// Replace a librdkafka client that hit a fatal error. The spool is untouched; the old
    /// client's messages are purged and spooled by their delivery reports.
    fn rebuild(&self) {
        let shared = &self.shared;
        inc(&shared.counters.rebuilds);
        {
            let mut core = shared.lock();
            core.cycle_failed = true;
            shared.set_state(
                &mut core,
                ConnectionState::Down {
                    since: Instant::now(),
                },
            );
        }
        let new = match Self::create_kafka(&self.config, shared) {
            Ok(k) => Arc::new(k),
            Err(e) => {
                tracing::error!(error = %e, "could not rebuild the Kafka client; retrying");
                shared.fatal.store(true, SeqCst);
                std::thread::sleep(Duration::from_millis(500));
                return;
            }
        };
        let old = {
            let mut guard = self.kafka.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *guard, new)
        };
        old.purge(PurgeConfig::default().queue().inflight());
        let until = Instant::now() + Duration::from_secs(2);
        while old.in_flight_count() > 0 && Instant::now() < until {
            old.poll(Duration::from_millis(50));
        }
        old.poll(Duration::ZERO);
        tracing::warn!("Kafka client rebuilt after a fatal error; spool intact");
    }
}
