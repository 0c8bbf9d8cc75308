//! Robust producer against librdkafka's mock cluster: outages, unreachable brokers,
//! injected request errors, fatal errors, shutdown and drop with the broker down.

mod producer_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pmp_event_runtime::producer::{ConnectionState, Delivery, ProducerConfig, RobustProducer};
use pmp_event_runtime::KafkaConfig;
use producer_support::*;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_at_start_then_up_delivers_everything_in_key_order() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    cluster.broker_down(-1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    let handles = publish_range(&producer, 0..2_000, 17);
    let published = ids(&handles);
    for h in handles {
        assert_eq!(h.await.unwrap(), Delivery::Spooled);
    }
    assert!(matches!(
        producer.state(),
        ConnectionState::Down { .. } | ConnectionState::Connecting
    ));
    assert_eq!(producer.metrics().spool_depth, 2_000);

    cluster.broker_up(-1).unwrap();
    wait_drained(&producer).await;
    let consumed = consume_until(&bootstrap, &published);
    verify(&published, &consumed);
    let m = producer.metrics();
    assert_eq!(m.published, 2_000);
    assert!(m.drained >= 2_000, "{m:?}");
    let report = producer.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.spooled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_address_spools_and_the_next_producer_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let published;
    {
        // Port 1 on loopback refuses connections.
        let producer = RobustProducer::new(config("127.0.0.1:1", dir.path())).unwrap();
        let handles = publish_range(&producer, 0..500, 7);
        published = ids(&handles);
        for h in handles {
            assert_eq!(h.await.unwrap(), Delivery::Spooled);
        }
        let report = tokio::time::timeout(
            Duration::from_secs(60),
            producer.shutdown(Duration::from_secs(2)),
        )
        .await
        .expect("shutdown returned");
        assert_eq!(report.spooled, 500);
        assert_eq!(report.delivered, 0);
        assert_eq!(report.unresolved, 0);
    }
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    assert_eq!(producer.recovery_report().records_recovered, 500);
    wait_drained(&producer).await;
    let consumed = consume_until(&bootstrap, &published);
    verify(&published, &consumed);
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_mid_stream_loses_nothing() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    const KEYS: u64 = 101;
    let mut handles = publish_range(&producer, 0..20_000, KEYS);

    cluster.broker_down(-1).unwrap();
    // Keep publishing through a ~3 s outage.
    for chunk in 0..30u64 {
        let start = 20_000 + chunk * 700;
        handles.extend(publish_range(&producer, start..start + 700, KEYS));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.broker_up(-1).unwrap();
    handles.extend(publish_range(&producer, 41_000..52_000, KEYS));

    let published = ids(&handles);
    assert_eq!(published.len(), 52_000);
    for h in handles {
        h.await.expect("accepted events are delivered or spooled");
    }
    wait_drained(&producer).await;
    let m = producer.metrics();
    assert!(m.spooled > 0, "the outage must have spooled events: {m:?}");
    let consumed = consume_until(&bootstrap, &published);
    let duplicates = verify(&published, &consumed);
    eprintln!("outage test: {m:?}, duplicates {duplicates}");
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_request_errors_are_retried_and_delivered() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    wait_until_async("producer up", || producer.state() == ConnectionState::Up).await;
    let errors = [
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
    ];
    let mut all = Vec::new();
    for _ in 0..4 {
        all.extend_from_slice(&errors);
    }
    cluster.request_errors(RDKafkaApiKey::Produce, &all);
    let handles = publish_range(&producer, 0..3_000, 11);
    let published = ids(&handles);
    for h in handles {
        h.await.expect("delivered or spooled");
    }
    wait_drained(&producer).await;
    let consumed = consume_until(&bootstrap, &published);
    verify(&published, &consumed);
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_broker_down_returns_and_reports_what_was_spooled() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let mut published = HashSet::new();
    {
        let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
        wait_until_async("producer up", || producer.state() == ConnectionState::Up).await;
        let first = publish_range(&producer, 0..200, 5);
        published.extend(ids(&first));
        for h in first {
            assert!(matches!(h.await.unwrap(), Delivery::Delivered { .. }));
        }
        cluster.broker_down(-1).unwrap();
        // Published right away: most go to librdkafka before the outage is noticed.
        let second = publish_range(&producer, 200..1_200, 5);
        published.extend(ids(&second));
        let report = tokio::time::timeout(
            Duration::from_secs(60),
            producer.shutdown(Duration::from_secs(3)),
        )
        .await
        .expect("shutdown returned");
        assert_eq!(report.unresolved, 0, "{report:?}");
        assert_eq!(report.delivered + report.spooled, 1_200, "{report:?}");
        assert!(report.spooled > 0, "{report:?}");
        for h in second {
            h.await
                .expect("every accepted event is delivered or spooled");
        }
        assert!(matches!(
            producer.publish(event(0, 1)),
            Err(pmp_event_runtime::producer::PublishError::ShuttingDown)
        ));
    }
    cluster.broker_up(-1).unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    wait_drained(&producer).await;
    let consumed = consume_until(&bootstrap, &published);
    verify(&published, &consumed);
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_without_shutdown_keeps_accepted_events_in_the_spool() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    cluster.broker_down(-1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let published;
    {
        let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
        let handles = publish_range(&producer, 0..300, 3);
        published = ids(&handles);
        drop(producer);
        for h in handles {
            assert_eq!(h.await.unwrap(), Delivery::Spooled);
        }
    }
    cluster.broker_up(-1).unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    assert_eq!(producer.recovery_report().records_recovered, 300);
    wait_drained(&producer).await;
    verify(&published, &consume_until(&bootstrap, &published));
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_error_rebuilds_the_client_and_loses_nothing() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    wait_until_async("producer up", || producer.state() == ConnectionState::Up).await;
    let mut handles = publish_range(&producer, 0..1_000, 9);
    producer.__inject_fatal_error();
    handles.extend(publish_range(&producer, 1_000..2_000, 9));
    let published = ids(&handles);
    for h in handles {
        h.await.expect("delivered or spooled");
    }
    wait_until_async("rebuilt", || producer.metrics().rebuilds >= 1).await;
    wait_drained(&producer).await;
    verify(&published, &consume_until(&bootstrap, &published));
    producer.shutdown(Duration::from_secs(10)).await;
}

/// A partition that cannot take writes for longer than `message.timeout.ms` (here: every
/// produce request refused with NOT_ENOUGH_REPLICAS, as with too few in-sync replicas)
/// while events keep coming. librdkafka alone would expire the oldest events and then
/// write younger ones of the same key once the partition recovers (a gap); the producer's
/// own deadline takes everything back at once, so first occurrences stay in key order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_refusing_writes_past_the_deadline_is_spooled_whole_and_replayed_in_order() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let cfg = ProducerConfig::new(
        "test-service",
        KafkaConfig::new(&bootstrap)
            .set("message.timeout.ms", "700")
            .set("retry.backoff.max.ms", "200"),
        dir.path(),
    )
    .with_backoff(Duration::from_millis(50), Duration::from_millis(300));
    let producer = Arc::new(RobustProducer::new(cfg).unwrap());
    wait_until_async("producer up", || producer.state() == ConnectionState::Up).await;
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 5_000],
    );
    // Publish at a steady pace through the refusals and past their end.
    let publisher = {
        let producer = producer.clone();
        std::thread::spawn(move || {
            let mut handles = Vec::new();
            for i in 0..8_000u64 {
                handles.push(producer.publish(event(i, 7)).expect("publish accepted"));
                if i % 4 == 3 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            handles
        })
    };
    // Refuse writes for 2.5 s (over three deadlines), then heal the partition mid-stream.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    let handles = tokio::task::spawn_blocking(move || publisher.join().unwrap())
        .await
        .unwrap();
    let published = ids(&handles);
    for h in handles {
        h.await.expect("delivered or spooled");
    }
    wait_drained(&producer).await;
    let m = producer.metrics();
    assert!(
        m.failures.timeout > 0 && m.spooled > 0,
        "the deadline must have taken events back: {m:?}"
    );
    let consumed = consume_until(&bootstrap, &published);
    let duplicates = verify(&published, &consumed);
    eprintln!("deadline test: {m:?}, duplicates {duplicates}");
    producer.shutdown(Duration::from_secs(10)).await;
}
