//! Spans on a mock cluster: `publish <topic>` and `process <topic>` carry the OpenTelemetry
//! messaging fields (same event id on both sides), the record key only because the schema
//! says it is not `x-pii`, and no span field carries a payload value. Plain `tracing` spans
//! (no `otel` feature; `observe_otel` covers trace propagation).
//!
//! One test per binary: the subscriber is process-global.

mod consumer_support;
mod span_capture;

use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::ConsumerBuilder;
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use span_capture::Capture;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_process_spans_carry_the_messaging_fields() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(capture.clone()))
        .expect("first subscriber");

    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let spool = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(ProducerConfig::new(
        "spans-test",
        KafkaConfig::new(&bootstrap),
        spool.path(),
    ))
    .unwrap();
    let handle = producer
        .publish(CreatedV1 {
            id: 7,
            code: "12345".into(),
            status: "open".into(),
            name: Some("PII-NAME".into()),
        })
        .unwrap();
    let event_id = handle.event_id().to_string();
    handle.await.unwrap();

    let consumer = ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "spans", &[TOPIC_EVENTS]))
        .on::<CreatedV1, _, _>(|_| async { Ok(()) })
        .start()
        .unwrap();

    let spans = capture.closed_after("process").await;
    let find = |name: &str| {
        spans
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, f)| f.clone())
            .unwrap_or_else(|| panic!("no {name} span in {spans:#?}"))
    };
    let publish = find("publish");
    let expect_publish = [
        ("otel.name", "publish test-events"),
        ("otel.kind", "producer"),
        ("messaging.system", "kafka"),
        ("messaging.destination.name", TOPIC_EVENTS),
        ("messaging.message.id", event_id.as_str()),
        ("messaging.kafka.message.key", "7"),
        ("pmp.event_type", "test.created"),
        ("pmp.event_version", "1"),
    ];
    for (k, v) in expect_publish {
        assert_eq!(
            publish.get(k).map(String::as_str),
            Some(v),
            "{k} in {publish:#?}"
        );
    }
    let process = find("process");
    let expect_process = [
        ("otel.name", "process test-events"),
        ("otel.kind", "consumer"),
        ("messaging.system", "kafka"),
        ("messaging.destination.name", TOPIC_EVENTS),
        ("messaging.kafka.destination.partition", "0"),
        ("messaging.kafka.offset", "0"),
        ("messaging.consumer.group.name", "spans"),
        ("messaging.message.id", event_id.as_str()),
        ("messaging.kafka.message.key", "7"),
        ("pmp.event_type", "test.created"),
        ("pmp.event_version", "1"),
    ];
    for (k, v) in expect_process {
        assert_eq!(
            process.get(k).map(String::as_str),
            Some(v),
            "{k} in {process:#?}"
        );
    }
    for (name, _, fields) in &spans {
        for (k, v) in fields {
            assert!(!v.contains("PII-NAME"), "payload value in {name}.{k}");
            let allowed = ["messaging.kafka.message.key"];
            assert!(
                !k.contains("key") || allowed.contains(&k.as_str()),
                "key field {k} on {name}"
            );
        }
    }

    producer.shutdown(Duration::from_secs(10)).await;
    consumer.shutdown(Duration::from_secs(10)).await;
}
