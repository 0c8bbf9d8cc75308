//! Feature `otel` on a mock cluster: a message published inside a request span and consumed
//! by the validating consumer ends up in one trace (request -> `publish` -> `process` ->
//! the handler's own span), with the `process` span linked to the producer span and the
//! messaging attributes on both, also when the event went through the spool while the
//! brokers were down; a record with a malformed `traceparent` is processed as a new trace.
//! No attribute carries a payload value.
//!
//! One test per binary: the subscriber is process-global.

mod consumer_support;

use std::collections::BTreeMap;
use std::time::Duration;

use consumer_support::*;
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use pmp_event_runtime::consumer::ConsumerBuilder;
use pmp_event_runtime::observe::trace::TRACEPARENT;
use pmp_event_runtime::producer::{ConnectionState, Delivery, ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use tracing_subscriber::layer::SubscriberExt;

fn attributes(span: &SpanData) -> BTreeMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| {
            let v = match &kv.value {
                Value::String(s) => s.as_str().to_owned(),
                other => other.to_string(),
            };
            (kv.key.as_str().to_owned(), v)
        })
        .collect()
}

fn assert_attrs(span: &SpanData, expected: &[(&str, &str)]) {
    let attrs = attributes(span);
    for (k, v) in expected {
        assert_eq!(
            attrs.get(*k).map(String::as_str),
            Some(*v),
            "{k} on {}: {attrs:#?}",
            span.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_publishing_request_to_the_handler() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("observe-otel-test")));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let spool = tempfile::tempdir().unwrap();
    let producer_config = || {
        ProducerConfig::new("otel-test", KafkaConfig::new(&bootstrap), spool.path())
            .with_backoff(Duration::from_millis(50), Duration::from_millis(500))
    };
    let producer = RobustProducer::new(producer_config()).unwrap();
    // Until its first probe answers the producer spools (state `Connecting`); the direct
    // path needs it `Up`.
    wait_for(
        "the producer is up",
        Duration::from_secs(60),
        || producer.state(),
        |s| *s == ConnectionState::Up,
    )
    .await;
    let payload = |id: u32| CreatedV1 {
        id,
        code: "12345".into(),
        status: "open".into(),
        name: Some("PII-NAME".into()),
    };

    // 1: the direct path.
    let direct = {
        let _request = tracing::info_span!("request direct").entered();
        producer.publish(payload(7)).unwrap()
    };
    let direct_id = direct.event_id().to_string();
    assert!(matches!(direct.await.unwrap(), Delivery::Delivered { .. }));

    // 2: through the spool on disk: published while the brokers are down, left in the spool
    // by shutdown, sent by the next producer on the same directory.
    cluster.broker_down(-1).unwrap();
    wait_for(
        "the producer sees the outage",
        Duration::from_secs(60),
        || producer.state(),
        |s| *s != ConnectionState::Up,
    )
    .await;
    let spooled = {
        let _request = tracing::info_span!("request spooled").entered();
        producer.publish(payload(8)).unwrap()
    };
    let spooled_id = spooled.event_id().to_string();
    assert!(
        matches!(spooled.await.unwrap(), Delivery::Spooled),
        "published while the brokers were down: spooled"
    );
    producer.shutdown(Duration::from_secs(2)).await;
    drop(producer);
    cluster.broker_up(-1).unwrap();
    let producer = RobustProducer::new(producer_config()).unwrap();
    assert_eq!(producer.recovery_report().records_recovered, 1);
    wait_for(
        "the spool drained by the next producer",
        Duration::from_secs(60),
        || producer.metrics(),
        |m| m.spool_depth == 0,
    )
    .await;

    // 3: a record with a malformed traceparent (raw producer): a new trace, no error.
    let (bad_id, rec) = event(
        0,
        "test.created",
        1,
        serde_json::json!({"id": 9, "code": "12345", "status": "open"}),
    );
    let raw = consumer_support::producer(&bootstrap);
    produce(
        &raw,
        TOPIC_EVENTS,
        &[rec.header(TRACEPARENT, "00-not-a-trace-context")],
    )
    .await;

    let consumer =
        ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "otel-group", &[TOPIC_EVENTS]))
            .on::<CreatedV1, _, _>(|env| async move {
                tracing::info_span!("handler work", entity = env.payload.id).in_scope(|| ());
                Ok(())
            })
            .start()
            .unwrap();
    let finished = || {
        let _ = provider.force_flush();
        exporter.get_finished_spans().unwrap()
    };
    wait_for(
        "three process spans",
        Duration::from_secs(60),
        finished,
        |spans| {
            spans
                .iter()
                .filter(|s| s.name.starts_with("process "))
                .count()
                >= 3
        },
    )
    .await;
    let spans = finished();

    let by_id = |kind: &str, id: &str| {
        spans
            .iter()
            .find(|s| {
                s.name.starts_with(kind)
                    && attributes(s)
                        .get("messaging.message.id")
                        .map(String::as_str)
                        == Some(id)
            })
            .unwrap_or_else(|| panic!("no {kind} span for {id} in {spans:#?}"))
    };
    let named = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no span {name}"))
    };
    for (request, id, key, offset) in [
        ("request direct", &direct_id, "7", "0"),
        ("request spooled", &spooled_id, "8", "1"),
    ] {
        let request = named(request);
        let publish = by_id("publish ", id);
        let process = by_id("process ", id);
        let trace = request.span_context.trace_id();
        assert_eq!(publish.name, "publish test-events");
        assert_eq!(publish.span_kind, SpanKind::Producer);
        assert_eq!(publish.span_context.trace_id(), trace);
        assert_eq!(publish.parent_span_id, request.span_context.span_id());
        assert_eq!(process.name, "process test-events");
        assert_eq!(process.span_kind, SpanKind::Consumer);
        assert_eq!(
            process.span_context.trace_id(),
            trace,
            "one trace across Kafka"
        );
        assert_eq!(
            process.parent_span_id,
            publish.span_context.span_id(),
            "the producer span is the process span's parent"
        );
        assert!(
            process
                .links
                .iter()
                .any(|l| l.span_context.span_id() == publish.span_context.span_id()),
            "the process span links its creation context: {:?}",
            process.links
        );
        let handler = spans
            .iter()
            .find(|s| s.name == "handler work" && s.span_context.trace_id() == trace)
            .expect("the handler's span in the same trace");
        assert_eq!(handler.parent_span_id, process.span_context.span_id());
        let common = [
            ("messaging.system", "kafka"),
            ("messaging.destination.name", TOPIC_EVENTS),
            ("messaging.message.id", id.as_str()),
            ("messaging.kafka.message.key", key),
            ("pmp.event_type", "test.created"),
            ("pmp.event_version", "1"),
        ];
        assert_attrs(publish, &common);
        assert_attrs(process, &common);
        assert_attrs(
            process,
            &[
                ("messaging.kafka.destination.partition", "0"),
                ("messaging.kafka.offset", offset),
                ("messaging.consumer.group.name", "otel-group"),
            ],
        );
    }
    let bad = by_id("process ", &bad_id.to_string());
    assert_eq!(
        bad.parent_span_id,
        opentelemetry::trace::SpanId::INVALID,
        "a malformed traceparent starts a new trace"
    );
    assert!(bad.links.is_empty());
    for span in &spans {
        for (k, v) in attributes(span) {
            assert!(
                !v.contains("PII-NAME"),
                "payload value in {}.{k}",
                span.name
            );
        }
    }

    producer.shutdown(Duration::from_secs(10)).await;
    consumer.shutdown(Duration::from_secs(10)).await;
}
