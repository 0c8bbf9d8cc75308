//! An inbox consumer as its own process, for the fault test that SIGKILLs it between its
//! database commits and its Kafka offset commit (`outbox_e2e.rs`).
//!
//! Environment: `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_GROUP_ID` and the other
//! consumer settings (the test sets `KAFKA_CONSUMER_COMMIT_INTERVAL_MS` to an hour, so no
//! offset is committed before the kill), `INBOX_PRODUCER` (only events of this envelope
//! `producer` count as effects). Handles `patient.deleted` v1 with `on_tx`: the effect is
//! `effects.applied += 1` for the event's id, in the inbox transaction. Prints the inbox
//! counters every 100 ms as `handled=.. duplicates=..`.

use std::time::Duration;

use pmp_event_outbox::{Inbox, OnTx};
use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig, HandlerError};
use pmp_events::{AnyEvent, PatientDeletedV1};
use sqlx::postgres::PgPoolOptions;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let run = std::env::var("INBOX_PRODUCER").map_err(|_| "INBOX_PRODUCER is not set")?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    let config = ConsumerConfig::from_env()?;
    let inbox = Inbox::new(pool, config.group_id.clone());
    let consumer = ConsumerBuilder::<AnyEvent>::new(config)
        .on_tx::<PatientDeletedV1, _>(&inbox, move |event, tx| {
            let run = run.clone();
            Box::pin(async move {
                if event.producer != run {
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO effects (event_id, applied) VALUES ($1, 1) \
                     ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1",
                )
                .bind(event.event_id)
                .execute(&mut **tx)
                .await
                .map_err(|e| HandlerError::transient(e.to_string()))?;
                Ok(())
            })
        })
        .start()?;
    // Registered once, before anything can send it: a signal between two polls is kept.
    let mut int = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = int.recv() => break,
            _ = tick.tick() => {
                let m = inbox.metrics();
                println!("handled={} duplicates={}", m.handled, m.duplicates);
            }
        }
    }
    consumer.shutdown(Duration::from_secs(10)).await;
    Ok(())
}
