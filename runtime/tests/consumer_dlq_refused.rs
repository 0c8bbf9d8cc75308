//! The dead-letter topic refuses a record for good (too large, not authorized): the consumer
//! falls back to a dead letter without the value, and when even that is refused it gives
//! the message up (counted) instead of stopping the partition. Either way the records after
//! it are handled and committed. (The same on a real broker with default topic settings:
//! `tests/tests/e2e_dlq_oversized.rs`.)

mod consumer_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use serde_json::json;

/// Records: a good event, a schema violation, a good event; returns them produced.
async fn good_bad_good(bootstrap: &str) -> (Vec<(i32, i64)>, usize) {
    let bad = event(
        0,
        "test.created",
        1,
        json!({"id": 2, "code": "not-a-postal-code", "status": "open"}),
    )
    .1;
    let bad_len = bad.value.as_ref().map_or(0, Vec::len);
    let recs = vec![
        event(
            0,
            "test.created",
            1,
            json!({"id": 1, "code": "12345", "status": "open"}),
        )
        .1,
        bad,
        event(
            0,
            "test.created",
            1,
            json!({"id": 3, "code": "12345", "status": "open"}),
        )
        .1,
    ];
    (
        produce(&producer(bootstrap), TOPIC_EVENTS, &recs).await,
        bad_len,
    )
}

fn start(
    bootstrap: &str,
    group: &str,
    handled: &Arc<Mutex<Vec<u32>>>,
) -> pmp_event_runtime::consumer::Consumer {
    let h = handled.clone();
    ConsumerBuilder::<TestEvent>::new(config(bootstrap, group, &[TOPIC_EVENTS]))
        .on::<CreatedV1, _, _>(move |e| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(e.payload.id);
                Ok(())
            }
        })
        .start()
        .unwrap()
}

fn dlq_high_watermark(cluster: &MockCluster<'static, DefaultProducerContext>) -> i64 {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", "watermarks")
        .create()
        .unwrap();
    reader
        .fetch_watermarks("test-events.dlq", 0, Duration::from_secs(10))
        .unwrap()
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_dead_letter_is_sent_again_without_the_value() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let (produced, bad_len) = good_bad_good(&bootstrap).await;
    let ends = ends(TOPIC_EVENTS, &produced);
    // The next produce request (the first dead letter) is refused as too large; a retry of
    // the same record could never succeed (the old code retried it forever).
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let consumer = start(&bootstrap, "refused", &handled);
    wait_committed(&consumer, &ends).await;
    assert_eq!(
        *handled.lock().unwrap(),
        vec![1, 3],
        "the next record is handled"
    );

    let dead = read_dlq(&bootstrap, "test-events.dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(
        dead[0].class(),
        "schema_violation",
        "the original class is kept"
    );
    assert_eq!(dead[0].source().2, produced[1].1);
    assert_eq!(dead[0].value, None, "the value is left out");
    assert_eq!(dead[0].headers["dlq.original_size"], bad_len.to_string());
    assert_eq!(dead[0].headers["dlq.pointer"], "/payload/code");
    assert_eq!(
        dead[0].headers["event_type"], "test.created",
        "original headers kept"
    );

    let m = consumer.metrics();
    assert_eq!(
        m.dead_lettered.get(&FailureClass::SchemaViolation),
        Some(&1)
    );
    assert_eq!(m.dlq_value_dropped, 1);
    assert_eq!(m.dlq_publish_failures, 1);
    assert!(m.dlq_unwritable.is_empty());
    assert_eq!(dlq_high_watermark(&cluster), 1, "exactly one dead letter");
    consumer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_dead_letter_is_given_up_and_the_partition_moves_on() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let (produced, _) = good_bad_good(&bootstrap).await;
    let ends = ends(TOPIC_EVENTS, &produced);
    // Every produce request is refused: the dead-letter topic is not writable for this
    // client, with or without the value.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 100],
    );

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let consumer = start(&bootstrap, "unwritable", &handled);
    wait_committed(&consumer, &ends).await;
    assert_eq!(*handled.lock().unwrap(), vec![1, 3]);
    let m = consumer.metrics();
    assert_eq!(
        m.dlq_unwritable.get(&FailureClass::SchemaViolation),
        Some(&1),
        "{m:#?}"
    );
    assert_eq!(
        m.dlq_publish_failures, 2,
        "with and without the value, no retries"
    );
    assert_eq!(m.dead_lettered_total(), 0);
    assert!(consumer.is_running());
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    assert_eq!(dlq_high_watermark(&cluster), 0);
    consumer.shutdown(Duration::from_secs(10)).await;
}
