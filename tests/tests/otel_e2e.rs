//! Trace context across the real broker of `scripts/kafka-local` (feature `otel`), with an
//! in-memory span exporter: three events, each published inside a request span, reach the
//! validating consumer's handler in the trace of that request, with the `process` span a
//! child of (and linked to) the `publish` span:
//!
//! - one published while the broker is up (the direct path);
//! - one published while the broker is SIGKILLed: spooled, sent after the restart;
//! - one staged in the transactional outbox (real PostgreSQL of `scripts/pg-local`) and sent
//!   by the relay: its context is the staging request's, carried in the row's headers.
//!
//! Span attributes follow the messaging conventions and carry no payload value.
//! Kills and restarts the broker: run with `--test-threads=1` (as `scripts/test` does).

mod e2e_support;
mod outbox_support;

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{robust_producer, run_name, WAIT};
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use outbox_support::fresh_database;
use pmp_e2e_tests::{broker, fault_lock, LocalBroker};
use pmp_event_outbox::{Outbox, Relay, RelayConfig};
use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
use pmp_event_runtime::producer::{ConnectionState, Delivery};
use pmp_event_runtime::{EventPayload, KafkaConfig};
use pmp_events::{AnyEvent, PatientDeletedV1};
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

/// Restarts whatever is down when a test step panics, so later tests find a running broker.
struct RestartOnDrop<'a>(&'a LocalBroker);

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new(&self.0.script).arg("restart").status();
        }
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attributes(span: &SpanData) -> BTreeMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The fault lock serializes whole tests: holding it across awaits is the point.
#[allow(clippy::await_holding_lock)]
async fn one_trace_per_event_across_the_real_broker_the_spool_and_the_outbox() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-e2e")));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let _lock = fault_lock();
    let b = broker();
    b.ensure_topics();
    let _guard = RestartOnDrop(&b);
    let run = run_name("otel");
    let spool = tempfile::tempdir().unwrap();
    let producer = robust_producer(&b.bootstrap, &run, spool.path());
    let base = 1 + u64::from(Uuid::new_v4().as_fields().0) * 4;
    let event = |n: u64| PatientDeletedV1 {
        patient_id: base + n,
        reason: Some("PII-REASON".into()),
    };
    // request span name -> (event id, key)
    let mut requests: Vec<(&str, Uuid, u64)> = Vec::new();

    // 1: the direct path (events published while still connecting are spooled).
    wait_until("the producer is up", || {
        producer.state() == ConnectionState::Up
    })
    .await;
    let handle = {
        let _request = tracing::info_span!("request direct").entered();
        producer.publish(event(0)).expect("publish")
    };
    requests.push(("request direct", handle.event_id(), base));
    let outcome = tokio::time::timeout(WAIT, handle).await.expect("resolves");
    assert!(
        matches!(outcome, Ok(Delivery::Delivered { .. })),
        "{outcome:?}"
    );

    // 2: through the spool while the broker is killed.
    b.kafka_local(&["kill", "broker"]);
    wait_until("the producer sees the outage", || {
        producer.state() != ConnectionState::Up
    })
    .await;
    let handle = {
        let _request = tracing::info_span!("request spooled").entered();
        producer.publish(event(1)).expect("publish while down")
    };
    requests.push(("request spooled", handle.event_id(), base + 1));
    let outcome = tokio::time::timeout(WAIT, handle).await.expect("resolves");
    assert!(matches!(outcome, Ok(Delivery::Spooled)), "{outcome:?}");
    b.kafka_local(&["restart"]);
    wait_until("the spool drained after the restart", || {
        producer.metrics().spool_depth == 0
    })
    .await;

    // 3: staged in the outbox, sent by the relay.
    let db = fresh_database("otel").await;
    let outbox = Outbox::new(&run);
    let staged = {
        let _request = tracing::info_span!("request outbox").entered();
        let mut tx = db.pool.begin().await.expect("begin");
        let id = outbox.stage(&mut tx, &event(2)).await.expect("stage");
        tx.commit().await.expect("commit");
        id
    };
    requests.push(("request outbox", staged, base + 2));
    let relay_spool = tempfile::tempdir().unwrap();
    let relay_producer = Arc::new(robust_producer(
        &b.bootstrap,
        "otel-relay",
        relay_spool.path(),
    ));
    let mut relay_config = RelayConfig::new(db.options.clone(), KafkaConfig::new(&b.bootstrap));
    relay_config.poll_interval = Duration::from_millis(200);
    let relay =
        Relay::start::<AnyEvent>(relay_config, relay_producer.clone()).expect("relay starts");

    // The consumer: a group of its own, reading the topic from the start.
    let seen: Arc<Mutex<HashMap<Uuid, ()>>> = Arc::default();
    let sink = seen.clone();
    let consumer = ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(
        KafkaConfig::new(&b.bootstrap),
        run.clone(),
    ))
    .on::<PatientDeletedV1, _, _>(move |e| {
        let sink = sink.clone();
        async move {
            tracing::info_span!("handler work").in_scope(|| {
                sink.lock().unwrap().insert(e.event_id, ());
            });
            Ok(())
        }
    })
    .start()
    .expect("consumer starts");
    wait_until("the handler saw all three events", || {
        let seen = seen.lock().unwrap();
        requests.iter().all(|(_, id, _)| seen.contains_key(id))
    })
    .await;
    consumer.shutdown(Duration::from_secs(10)).await;
    relay.shutdown(Duration::from_secs(10)).await;
    relay_producer.shutdown(Duration::from_secs(10)).await;
    producer.shutdown(Duration::from_secs(10)).await;
    let _ = provider.force_flush();
    let spans = exporter.get_finished_spans().unwrap();

    let topic = PatientDeletedV1::TOPIC;
    for (request_name, id, key) in &requests {
        let request = spans
            .iter()
            .find(|s| s.name == *request_name)
            .unwrap_or_else(|| panic!("no span {request_name}"));
        let trace = request.span_context.trace_id();
        let of_event = |prefix: &str| {
            spans.iter().find(|s| {
                s.name.starts_with(prefix)
                    && attributes(s).get("messaging.message.id") == Some(&id.to_string())
            })
        };
        let process = of_event("process ")
            .unwrap_or_else(|| panic!("no process span for {request_name}: {spans:#?}"));
        assert_eq!(process.name, format!("process {topic}"));
        assert_eq!(process.span_kind, SpanKind::Consumer);
        assert_eq!(
            process.span_context.trace_id(),
            trace,
            "{request_name}: the consumer's span is in the request's trace"
        );
        // The creation context: the `publish` span, or for the outbox the staging request.
        let creation = match of_event("publish ") {
            Some(publish) if *request_name != "request outbox" => {
                assert_eq!(publish.span_kind, SpanKind::Producer);
                assert_eq!(publish.span_context.trace_id(), trace);
                assert_eq!(publish.parent_span_id, request.span_context.span_id());
                publish.span_context.span_id()
            }
            _ => request.span_context.span_id(),
        };
        assert_eq!(process.parent_span_id, creation, "{request_name}: parent");
        assert!(
            process
                .links
                .iter()
                .any(|l| l.span_context.span_id() == creation),
            "{request_name}: the process span links its creation context"
        );
        let handler = spans
            .iter()
            .find(|s| s.name == "handler work" && s.span_context.trace_id() == trace)
            .unwrap_or_else(|| panic!("{request_name}: no handler span in the trace"));
        assert_eq!(handler.parent_span_id, process.span_context.span_id());
        let attrs = attributes(process);
        for (k, v) in [
            ("messaging.system", "kafka"),
            ("messaging.destination.name", topic),
            ("messaging.consumer.group.name", run.as_str()),
            ("messaging.kafka.message.key", key.to_string().as_str()),
            ("pmp.event_type", "patient.deleted"),
            ("pmp.event_version", "1"),
        ] {
            assert_eq!(attrs.get(k).map(String::as_str), Some(v), "{k}: {attrs:#?}");
        }
        assert!(attrs.contains_key("messaging.kafka.offset"));
        assert!(attrs.contains_key("messaging.kafka.destination.partition"));
    }
    for span in &spans {
        for (k, v) in attributes(span) {
            assert!(
                !v.contains("PII-REASON"),
                "payload value in {}.{k}",
                span.name
            );
        }
    }
    db.drop_database().await;
}
