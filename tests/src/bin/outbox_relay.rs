//! The outbox relay as its own process, for the fault tests (`outbox_e2e.rs`) that SIGKILL it.
//!
//! Environment: `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS` (and the other `KAFKA_*` settings),
//! `OUTBOX_RELAY_SPOOL` (the producer's spool directory). Runs the relay over the platform's
//! events until SIGTERM or SIGINT, then shuts down gracefully; prints its counters every
//! 100 ms as `role=.. delivered=.. resent=.. dead_lettered=..`.

use std::sync::Arc;
use std::time::Duration;

use pmp_event_outbox::{Relay, RelayConfig};
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use pmp_events::AnyEvent;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spool = std::env::var("OUTBOX_RELAY_SPOOL").map_err(|_| "OUTBOX_RELAY_SPOOL is not set")?;
    let kafka = KafkaConfig::from_env()?;
    let producer = ProducerConfig::new("outbox-relay", kafka, spool)
        .with_backoff(Duration::from_millis(100), Duration::from_secs(2));
    let producer = Arc::new(RobustProducer::new(producer)?);
    let mut config = RelayConfig::from_env()?;
    config.backoff_max = Duration::from_secs(2);
    let relay = Relay::start::<AnyEvent>(config, producer.clone())?;
    // Registered once, before anything can send them: a signal between two polls is kept.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = tick.tick() => {
                let m = relay.metrics();
                println!(
                    "role={:?} delivered={} resent={} dead_lettered={}",
                    relay.role(), m.delivered, m.resent, m.dead_lettered
                );
            }
        }
    }
    let report = relay.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    println!(
        "stopped delivered={} unresolved={}",
        report.metrics.delivered, report.unresolved
    );
    Ok(())
}
