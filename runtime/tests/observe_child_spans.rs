//! Child spans of `process <topic>` on a mock cluster: every retry of a failing handler is a
//! `retry` span and the dead-letter write a `publish <topic>.dlq` span, both children of the
//! message's `process` span, carrying the failure's class but never a payload value.
//!
//! One test per binary: the subscriber is process-global.

mod consumer_support;
mod span_capture;

use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, HandlerError};
use serde_json::json;
use span_capture::{Capture, Closed};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_the_dead_letter_are_children_of_process() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(capture.clone()))
        .expect("first subscriber");

    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let (_id, rec) = event(
        0,
        "test.created",
        1,
        json!({"id": 7, "code": "12345", "status": "open", "name": "PII-NAME"}),
    );
    produce(&producer(&bootstrap), TOPIC_EVENTS, &[rec]).await;

    // config(): 3 retries, then the message is dead-lettered as `retries_exhausted`.
    let consumer =
        ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "child-spans", &[TOPIC_EVENTS]))
            .on::<CreatedV1, _, _>(|_| async { Err(HandlerError::Transient("db away".into())) })
            .start()
            .unwrap();
    let spans = capture.closed_after("process").await;

    let retries: Vec<&Closed> = spans.iter().filter(|(n, _, _)| n == "retry").collect();
    let numbers: Vec<&str> = retries
        .iter()
        .map(|(_, _, f)| f.get("pmp.retry").map_or("?", String::as_str))
        .collect();
    assert_eq!(numbers, ["1", "2", "3"], "one span per retry: {spans:#?}");
    for (_, parent, _) in &retries {
        assert_eq!(parent.as_deref(), Some("process"), "{spans:#?}");
    }
    let dead: Vec<&Closed> = spans
        .iter()
        .filter(|(n, _, _)| n == "dead_letter")
        .collect();
    assert_eq!(dead.len(), 1, "one dead-letter write: {spans:#?}");
    let (_, parent, fields) = dead[0];
    assert_eq!(parent.as_deref(), Some("process"));
    for (k, v) in [
        ("otel.name", "publish test-events.dlq"),
        ("otel.kind", "producer"),
        ("messaging.system", "kafka"),
        ("messaging.destination.name", "test-events.dlq"),
        ("pmp.dlq.class", "retries_exhausted"),
        ("pmp.dlq.without_value", "false"),
    ] {
        assert_eq!(
            fields.get(k).map(String::as_str),
            Some(v),
            "{k} in {fields:#?}"
        );
    }
    for (name, _, fields) in &spans {
        for (k, v) in fields {
            assert!(!v.contains("PII-NAME"), "payload value in {name}.{k}");
            assert!(!v.contains("db away"), "handler error text in {name}.{k}");
        }
    }
    consumer.shutdown(Duration::from_secs(10)).await;
}
