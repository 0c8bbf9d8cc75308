//! The dead-letter topic is unavailable (a transient error): the bad message is retried,
//! nothing after it is committed, and it is delivered (once) when the topic accepts writes
//! again. (Permanent refusals are in `consumer_dlq_refused.rs`.)

mod consumer_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::ConsumerBuilder;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_unavailable_no_commit_retried_then_delivered() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let recs = vec![
        event(
            0,
            "test.created",
            1,
            json!({"id": 1, "code": "12345", "status": "open"}),
        )
        .1,
        Rec::value(0, b"not json".to_vec()),
        event(
            0,
            "test.created",
            1,
            json!({"id": 3, "code": "12345", "status": "open"}),
        )
        .1,
    ];
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);
    let bad_offset = produced[1].1;

    // From now on every produce request fails with an error a retry can fix.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 10_000],
    );

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let h = handled.clone();
    let mut cfg = config(&bootstrap, "outage", &[TOPIC_EVENTS]);
    // Each attempt gives up after this (librdkafka retries inside it): failures come fast.
    cfg.dlq_delivery_timeout = Duration::from_millis(500);
    let consumer = ConsumerBuilder::<TestEvent>::new(cfg)
        .on::<CreatedV1, _, _>(move |e| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(e.payload.id);
                Ok(())
            }
        })
        .start()
        .unwrap();

    let key = (TOPIC_EVENTS.to_owned(), 0);
    // Wait until the DLQ publish has failed repeatedly and the first message is committed.
    // (The consumer does not poll while it retries, so the commit is read from the broker,
    // not from the metrics, which learn of commits through polled callbacks.)
    wait_for(
        "DLQ publish failures",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| m.dlq_publish_failures >= 3,
    )
    .await;
    let mut committed = None;
    for _ in 0..300 {
        committed = tokio::task::block_in_place(|| broker_committed(&bootstrap, "outage", &ends))
            .get(&key)
            .copied();
        if committed == Some(bad_offset) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The broker's committed offset stops at the bad message.
    assert_eq!(committed, Some(bad_offset));
    let m = consumer.metrics();
    assert_eq!(m.dead_lettered_total(), 0);
    assert_eq!(
        m.stored_offsets.get(&key),
        Some(&bad_offset),
        "nothing past the bad message is stored"
    );
    assert_eq!(
        *handled.lock().unwrap(),
        vec![1],
        "the message after it waits"
    );
    assert!(consumer.is_running());

    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    let dead = read_dlq(&bootstrap, "test-events.dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(dead[0].class(), "not_json");
    assert_eq!(dead[0].source().2, bad_offset);
    wait_committed(&consumer, &ends).await;
    assert_eq!(*handled.lock().unwrap(), vec![1, 3]);
    let m = consumer.metrics();
    assert_eq!(m.dead_lettered_total(), 1);

    // Exactly one dead letter despite all the failed attempts.
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "watermarks")
        .create()
        .unwrap();
    let (_, high) = reader
        .fetch_watermarks("test-events.dlq", 0, Duration::from_secs(10))
        .unwrap();
    assert_eq!(high, 1);
    consumer.shutdown(Duration::from_secs(10)).await;
}
