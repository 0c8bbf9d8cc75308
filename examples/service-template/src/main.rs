//! `service-template produce` publishes `appointment.requested` v1 with the robust producer;
//! `service-template consume` handles it with the validating consumer. Both take their
//! settings from the environment (`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_GROUP_ID`,
//! `PMP_PRODUCER_SPOOL_DIR`, ...: see `ProducerConfig` and `ConsumerConfig`), the service
//! name from `SERVICE_NAME` and the log filter from `RUST_LOG`. They run until SIGINT/SIGTERM.
//!
//! Operating it: logs go to stderr (`PMP_LOG_FORMAT=json` for JSON lines, colours only on a
//! terminal, `NO_COLOR` honoured); with `PMP_METRICS_ADDR` set (e.g. `0.0.0.0:9464`) it serves
//! `/metrics` (Prometheus), `/healthz` (liveness) and `/readyz` (readiness: Kafka reachable,
//! the spool short, the consumer assigned and not stuck).

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
use pmp_event_runtime::health::{ConsumerReadiness, Health, ProducerReadiness};
use pmp_event_runtime::http::{serve_from_env, MetricsServer};
use pmp_event_runtime::observe::logging::init_logging;
use pmp_event_runtime::producer::{Delivery, ProducerConfig, RobustProducer};
use tracing::{error, info, warn};

use service_template::{AnyEvent, AppointmentRequestedV1, AppointmentRequestedV1Mode};

/// How long shutdown may take: the producer spools what it cannot deliver by then, the
/// consumer commits what it handled.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The service's name when `SERVICE_NAME` is not set (the producer's `producer` field).
const DEFAULT_SERVICE_NAME: &str = "service-template";

/// service-template: publish and consume appointment.requested.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Publish one appointment request per interval until stopped.
    Produce {
        /// Milliseconds between events.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Stop after this many events (default: run until stopped).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Handle appointment requests until stopped.
    Consume,
}

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = init_logging() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let service = std::env::var("SERVICE_NAME").unwrap_or_else(|_| DEFAULT_SERVICE_NAME.into());
    let result = match Cli::parse().command {
        Command::Produce { interval_ms, count } => {
            produce(service, Duration::from_millis(interval_ms), count).await
        }
        Command::Consume => consume().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn produce(
    service: String,
    interval: Duration,
    count: Option<u64>,
) -> Result<(), Box<dyn Error>> {
    // Never waits for Kafka: while it is away, events go to the spool directory.
    let producer = Arc::new(RobustProducer::new(ProducerConfig::from_env(service)?)?);
    let health = Health::new();
    health.watch_producer("producer", producer.clone(), ProducerReadiness::default());
    let _server = serve_metrics(health).await?;
    let mut ticker = tokio::time::interval(interval);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut n = 0;
    while count != Some(n) {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {}
        }
        let handle = match producer.publish(sample_request(n)) {
            Ok(handle) => handle,
            // Spool full or schema violation: this event is not sent, the next may be.
            Err(e) => {
                warn!(error = %e, "event not accepted");
                continue;
            }
        };
        let event_id = handle.event_id();
        match handle.await {
            Ok(Delivery::Delivered { partition, offset }) => {
                info!(%event_id, partition, offset, "delivered")
            }
            Ok(Delivery::Spooled) => info!(%event_id, "spooled; sent when Kafka is back"),
            Err(e) => warn!(%event_id, error = %e, "not delivered"),
        }
        n += 1;
    }
    let report = producer.shutdown(SHUTDOWN_DEADLINE).await;
    info!(
        delivered = report.delivered,
        spooled = report.spooled,
        "producer stopped"
    );
    Ok(())
}

/// Subscribes to the topics of the handled types (`appointment-events`); bad messages go
/// to `appointment-events.dlq`.
async fn consume() -> Result<(), Box<dyn Error>> {
    let consumer = ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::from_env()?)
        .on::<AppointmentRequestedV1, _, _>(|event| async move {
            // Ids only: payloads are personal data (`note` is marked x-pii).
            info!(
                event_id = %event.event_id,
                appointment_id = %event.payload.appointment_id,
                "appointment requested"
            );
            Ok(())
        })
        .start()?;
    let health = Health::new();
    health.watch_consumer("consumer", &consumer, ConsumerReadiness::default());
    let _server = serve_metrics(health).await?;
    shutdown_signal().await;
    let report = consumer.shutdown(SHUTDOWN_DEADLINE).await;
    info!(committed = report.committed, "consumer stopped");
    Ok(())
}

/// `/metrics`, `/healthz` and `/readyz` on `PMP_METRICS_ADDR` (none when it is unset).
async fn serve_metrics(health: Health) -> Result<Option<MetricsServer>, Box<dyn Error>> {
    let server = serve_from_env(health).await?;
    if let Some(server) = &server {
        info!(addr = %server.local_addr(), "serving /metrics, /healthz and /readyz");
    }
    Ok(server)
}

/// A plausible request; a real service publishes what its business logic decided.
fn sample_request(n: u64) -> AppointmentRequestedV1 {
    AppointmentRequestedV1 {
        appointment_id: uuid::Uuid::now_v7(),
        patient_id: 1 + n % 100,
        therapist_id: 1 + n % 7,
        requested_for: chrono::Utc::now() + chrono::TimeDelta::days(7),
        mode: AppointmentRequestedV1Mode::ALL[n as usize % AppointmentRequestedV1Mode::ALL.len()],
        note: None,
    }
}

/// Resolves on Ctrl-C or SIGTERM (`docker stop`).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(e) => warn!(error = %e, "no SIGTERM handler; stopping on Ctrl-C only"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
