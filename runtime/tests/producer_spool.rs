//! Robust producer: spool recovery after corruption, the spool-full policy, write-ahead
//! delivery, validation before send, and configuration errors.

mod producer_support;

use std::collections::HashSet;
use std::time::Duration;

use pmp_event_runtime::producer::{Delivery, ProducerError, PublishError, RobustProducer};
use pmp_event_runtime::spool::{SpoolError, SpoolLimits};
use pmp_event_runtime::{KafkaConfig, SaslMechanism};
use producer_support::*;

/// Refuses connections: everything published is spooled.
const UNREACHABLE: &str = "127.0.0.1:1";

fn segments_with_records(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .filter(|p| std::fs::metadata(p).unwrap().len() > 16)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_spool_is_recovered_up_to_the_damage_and_the_rest_delivered() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let published;
    {
        let producer = RobustProducer::new(config(UNREACHABLE, dir.path())).unwrap();
        let handles = publish_range(&producer, 0..100, 4);
        published = ids(&handles);
        for h in handles {
            assert_eq!(h.await.unwrap(), Delivery::Spooled);
        }
        assert_eq!(producer.shutdown(Duration::from_secs(2)).await.spooled, 100);
    }
    let segs = segments_with_records(dir.path());
    assert_eq!(segs.len(), 1, "{segs:?}");
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    // One flipped byte in the middle (one record) and a torn tail (the last record).
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&segs[0], &bytes).unwrap();

    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let producer = RobustProducer::new(config(&bootstrap, dir.path())).unwrap();
    let report = producer.recovery_report().clone();
    assert_eq!(report.skipped_records, 2, "{report:?}");
    assert_eq!(report.records_recovered, 98, "{report:?}");
    assert_eq!(report.damaged_segments.len(), 1, "{report:?}");
    assert_eq!(producer.metrics().spool_skipped_records, 2);
    wait_drained(&producer).await;
    let consumed = consume_distinct(&bootstrap, 98);
    let got: HashSet<_> = consumed.iter().map(|c| c.event_id).collect();
    assert_eq!(got.len(), 98);
    assert!(got.is_subset(&published));
    check_key_order(&consumed);
    producer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_spool_rejects_new_events_with_a_typed_error() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(UNREACHABLE, dir.path()).with_spool_limits(SpoolLimits {
        max_bytes: u64::MAX,
        max_records: 50,
    });
    let producer = RobustProducer::new(cfg).unwrap();
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for i in 0..80 {
        match producer.publish(event(i, 3)) {
            Ok(h) => accepted.push(h),
            Err(PublishError::SpoolFull { records, .. }) => {
                assert_eq!(records, 50);
                rejected += 1;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(accepted.len(), 50);
    assert_eq!(rejected, 30);
    for h in accepted {
        assert_eq!(h.await.unwrap(), Delivery::Spooled);
    }
    let m = producer.metrics();
    assert_eq!(m.spool_full_rejections, 30);
    assert_eq!(m.published, 50);
    assert_eq!(m.spool_depth, 50);
    assert_eq!(producer.shutdown(Duration::from_secs(2)).await.spooled, 50);
    drop(producer);

    // The byte bound works the same way.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(UNREACHABLE, dir.path()).with_spool_limits(SpoolLimits {
        max_bytes: 4_000,
        max_records: u64::MAX,
    });
    let producer = RobustProducer::new(cfg).unwrap();
    let results: Vec<_> = (0..100).map(|i| producer.publish(event(i, 3))).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(ok > 0 && ok < 100, "{ok}");
    assert!(results[ok..]
        .iter()
        .all(|r| matches!(r, Err(PublishError::SpoolFull { .. }))));
    assert!(producer.metrics().spool_bytes <= 4_000);
    producer.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_ahead_spools_every_event_and_delivers_all() {
    let cluster = mock_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(write_ahead(config(&bootstrap, dir.path()))).unwrap();
    let handles = publish_range(&producer, 0..3_000, 13);
    let published = ids(&handles);
    for h in handles {
        h.await.expect("delivered or fsynced");
    }
    wait_drained(&producer).await;
    let m = producer.metrics();
    assert_eq!(m.spooled, 3_000, "write-ahead spools everything: {m:?}");
    verify(&published, &consume_until(&bootstrap, &published));
    let report = producer.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.spooled, 0);
}

#[test]
fn invalid_payload_is_refused_without_showing_its_value() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let producer = RobustProducer::new(config(UNREACHABLE, dir.path())).unwrap();
    let mut e = event(1, 1);
    e.note = "Anna Schmidt, Diagnose F32.1 ".repeat(10);
    let err = producer.publish(e.clone()).unwrap_err();
    match &err {
        PublishError::Invalid {
            pointer, keyword, ..
        } => {
            assert_eq!(pointer, "/note");
            assert_eq!(keyword, "maxLength");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = format!("{err} {err:?}");
    assert!(!text.contains("Anna"), "{text}");
    let mut e2 = event(2, 1);
    e2.entity_id.clear();
    assert!(matches!(
        producer.publish(e2),
        Err(PublishError::Invalid { ref keyword, .. }) if keyword == "minLength"
    ));
    assert_eq!(producer.metrics().published, 0);
    producer.shutdown_blocking(Duration::from_secs(2));
    drop(producer);

    // With validation off the same payload is accepted (and the schema is the
    // consumer's problem).
    let dir = tempfile::tempdir().unwrap();
    let producer =
        RobustProducer::new(config(UNREACHABLE, dir.path()).with_validation(false)).unwrap();
    assert!(producer.publish(e).is_ok());
    producer.shutdown_blocking(Duration::from_secs(2));
}

#[test]
fn bad_configuration_fails_construction_with_a_named_setting() {
    let dir = tempfile::tempdir().unwrap();
    let err = RobustProducer::new(config("nohost", dir.path())).unwrap_err();
    assert!(
        matches!(&err, ProducerError::Config(c) if c.setting == "bootstrap.servers"),
        "{err}"
    );
    let cfg = config("127.0.0.1:1", dir.path());
    let mut bad = cfg.clone();
    bad.kafka = bad.kafka.set("acks", "sometimes");
    let err = RobustProducer::new(bad).unwrap_err();
    assert!(
        matches!(&err, ProducerError::Config(c) if c.setting == "acks"),
        "{err}"
    );

    // One producer per spool directory.
    let first = RobustProducer::new(cfg.clone()).unwrap();
    let err = RobustProducer::new(cfg).unwrap_err();
    assert!(
        matches!(err, ProducerError::Spool(SpoolError::Locked { .. })),
        "{err}"
    );
    drop(first);

    // Credentials never show in Debug output.
    let kafka =
        KafkaConfig::new("b:9093").with_sasl_ssl(SaslMechanism::ScramSha512, "svc", "hunter2");
    let cfg = config("b:9093", dir.path());
    let cfg = pmp_event_runtime::producer::ProducerConfig { kafka, ..cfg };
    assert!(!format!("{cfg:?}").contains("hunter2"));
}
