//! Version skew on a mock cluster: a consumer that knows `test.created` up to v2 reads a v3
//! that is valid against v2 as v2 (envelope keeps `version` 3, counted), dead-letters a v3
//! that is not (`unknown_version`), and skips and commits a type it does not know (counted,
//! no dead letter) under the default policy. The real-broker test with generated catalogs
//! is `tests/tests/e2e_version_skew.rs`.

mod consumer_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_versions_are_read_as_the_newest_known_and_unknown_types_skipped() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();
    let v3_readable = json!({"id": 7, "code": "12345", "status": "open", "insurance": "private"});
    let v3_breaking = json!({"id": 8, "code": "12345", "state": "open"});
    let recs = vec![
        event(0, "test.created", 3, v3_readable).1,
        event(0, "test.exploded", 1, json!({"id": 1})).1,
        event(0, "test.created", 3, v3_breaking).1,
        event(0, "test.exploded", 2, json!({"id": 2})).1,
        event(
            0,
            "test.created",
            2,
            json!({"id": 9, "code": "12345", "status": "closed"}),
        )
        .1,
    ];
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let seen: Arc<Mutex<Vec<(u32, u32)>>> = Arc::default();
    let s = seen.clone();
    let consumer = ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "skew", &[TOPIC_EVENTS]))
        .on::<CreatedV2, _, _>(move |e| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((e.payload.id, e.version));
                Ok(())
            }
        })
        .start()
        .unwrap();
    wait_committed(&consumer, &ends).await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(7, 3), (9, 2)],
        "v3 handled as v2 with its real version"
    );
    let dead = read_dlq(&bootstrap, "test-events.dlq", 1, Duration::from_secs(60)).await;
    assert_eq!(dead[0].class(), "unknown_version");
    assert_eq!(dead[0].source().2, produced[2].1);
    assert!(
        dead[0].headers["dlq.error"].contains("not valid as v2"),
        "{dead:?}"
    );
    let m = consumer.metrics();
    assert_eq!(m.skipped_unknown_event_type, 2);
    assert_eq!(
        m.newer_versions_read.get(&("test.created".to_owned(), 2)),
        Some(&1)
    );
    assert_eq!(m.dead_lettered.get(&FailureClass::UnknownVersion), Some(&1));
    assert_eq!(m.dead_lettered_total(), 1);
    consumer.shutdown(Duration::from_secs(10)).await;
}
