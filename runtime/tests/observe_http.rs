//! The `http` feature over real HTTP on loopback, against a mock cluster: `/readyz` is 200
//! once the producer and the consumer are connected, 503 while the broker is down, 200
//! again when it is back; `/healthz` stays 200; `/metrics` serves the Prometheus text with
//! the counters that match what was sent.
//!
//! One test per binary: the Prometheus recorder is process-global.

mod consumer_support;

use std::sync::Arc;
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::health::{ConsumerReadiness, Health, ProducerReadiness};
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::{consumer::ConsumerBuilder, KafkaConfig};

/// GET `path`; (status, body). Non-2xx statuses are answers here, not errors.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut resp = agent.get(&url).call().expect("HTTP request");
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().expect("body");
        (status, body)
    })
    .await
    .unwrap()
}

/// Poll `path` until it answers `want` with a body containing every one of `lines`.
async fn wait_status(addr: std::net::SocketAddr, path: &str, want: u16, lines: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (status, body) = get(addr, path).await;
        if status == want && lines.iter().all(|l| body.contains(l)) {
            return body;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{path} still {status} (want {want}): {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the sample `series` (name with labels, as rendered) in Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_broker_and_metrics_are_served() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let spool = tempfile::tempdir().unwrap();
    let producer = Arc::new(
        RobustProducer::new(ProducerConfig::new(
            "http-test",
            KafkaConfig::new(&bootstrap),
            spool.path(),
        ))
        .unwrap(),
    );
    let mut cfg = config(&bootstrap, "http-test", &[TOPIC_EVENTS]);
    cfg.kafka = cfg.kafka.set("statistics.interval.ms", "100");
    let consumer = ConsumerBuilder::<TestEvent>::new(cfg)
        .on::<CreatedV1, _, _>(|_| async { Ok(()) })
        .start()
        .unwrap();

    let health = Health::new();
    health.watch_producer(
        "producer",
        Arc::clone(&producer),
        ProducerReadiness::default(),
    );
    health.watch_consumer("consumer", &consumer, ConsumerReadiness::default());
    let server = pmp_event_runtime::http::serve("127.0.0.1:0".parse().unwrap(), health)
        .await
        .unwrap();
    let addr = server.local_addr();

    // Not ready before the consumer has reported statistics and the producer connected.
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(get(addr, "/healthz").await.0, 200);

    for id in 1..=3u32 {
        let e = CreatedV1 {
            id,
            code: "12345".into(),
            status: "open".into(),
            name: None,
        };
        producer.publish(e).unwrap().await.unwrap();
    }
    wait_for(
        "3 processed",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| m.processed_total() == 3,
    )
    .await;
    wait_status(
        addr,
        "/readyz",
        200,
        &["producer: ok (kafka up", "consumer: ok (assigned"],
    )
    .await;

    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let published = "pmp_producer_published_events_total{topic=\"test-events\",event_type=\"test.created\",version=\"1\"}";
    assert_eq!(sample(&text, published), Some(3.0), "{text}");
    let processed =
        "pmp_consumer_processed_events_total{event_type=\"test.created\",version=\"1\"}";
    assert_eq!(sample(&text, processed), Some(3.0), "{text}");
    let handled =
        "pmp_consumer_handler_duration_seconds_count{event_type=\"test.created\",version=\"1\"}";
    assert_eq!(sample(&text, handled), Some(3.0), "{text}");
    assert!(
        text.contains("pmp_consumer_handler_duration_seconds_bucket{"),
        "{text}"
    );

    // Broker down: not ready (both components say why), still live.
    cluster.broker_down(1).unwrap();
    // Traffic makes the producer notice the outage at once; the consumer sees it in its
    // statistics.
    let _spooled = producer.publish(CreatedV1 {
        id: 4,
        code: "12345".into(),
        status: "open".into(),
        name: None,
    });
    wait_status(
        addr,
        "/readyz",
        503,
        &[
            "producer: FAIL (kafka down",
            "consumer: FAIL (no broker connected",
        ],
    )
    .await;
    assert_eq!(get(addr, "/healthz").await.0, 200);

    cluster.broker_up(1).unwrap();
    wait_status(addr, "/readyz", 200, &["producer: ok", "consumer: ok"]).await;

    server.shutdown().await;
    producer.shutdown(Duration::from_secs(10)).await;
    consumer.shutdown(Duration::from_secs(10)).await;
}
