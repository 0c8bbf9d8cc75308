//! Duplicate JSON keys, at any depth of the envelope or payload, are refused: the record is
//! dead-lettered as `duplicate_key` with the JSON pointer of the repeated member, and no
//! handler sees it. (Before, the last value won: `{"event_type":"test.exploded", …,
//! "event_type":"test.deleted"}` was handled as `test.deleted`, while a tool reading the
//! first value routed it elsewhere.)

mod consumer_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass};
use serde_json::json;

/// An envelope of `event_type` v1 around the literal `payload` JSON, with `extra` spliced in
/// before the closing brace.
fn with_extra(event_type: &str, payload: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"event_id":"0190f5a8-0000-7000-8000-{:012}","event_type":"{event_type}","version":1,"timestamp":"2024-05-01T10:00:00Z","producer":"tests","payload":{payload}{extra}}}"#,
        rand_suffix()
    )
    .into_bytes()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_dead_lettered_with_their_pointer() {
    let cluster = cluster(&[(TOPIC_EVENTS, 1)]);
    let bootstrap = cluster.bootstrap_servers();

    // (record, expected dlq.pointer)
    let bad = [
        (
            // The issue's example: routed by the last value before.
            with_extra(
                "test.exploded",
                r#"{"id":1}"#,
                r#","event_type":"test.deleted""#,
            ),
            "/event_type",
        ),
        (
            with_extra("test.deleted", r#"{"id":1,"id":9}"#, ""),
            "/payload/id",
        ),
        (
            // Escaped spelling of the same key.
            with_extra("test.deleted", r#"{"id":1,"\u0069d":9}"#, ""),
            "/payload/id",
        ),
        (
            with_extra(
                "test.created",
                r#"{"id":2,"code":"12345","status":"open","name":{"a":[{"k":1,"k":2}]}}"#,
                "",
            ),
            "/payload/name/a/0/k",
        ),
        (
            with_extra("test.deleted", r#"{"id":1}"#, r#","x-new":1,"x-new":2"#),
            "/x-new",
        ),
    ];
    let mut recs: Vec<Rec> = bad.iter().map(|(b, _)| Rec::value(0, b.clone())).collect();
    recs.push(event(0, "test.deleted", 1, json!({"id": 5})).1);
    let produced = produce(&producer(&bootstrap), TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let handled: Arc<Mutex<Vec<u32>>> = Arc::default();
    let h = handled.clone();
    let consumer = ConsumerBuilder::<TestEvent>::new(config(&bootstrap, "dups", &[TOPIC_EVENTS]))
        .on::<DeletedV1, _, _>(move |e| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(e.payload.id);
                Ok(())
            }
        })
        .start()
        .unwrap();
    wait_committed(&consumer, &ends).await;
    assert_eq!(*handled.lock().unwrap(), vec![5], "only the clean event");

    let dead = read_dlq(
        &bootstrap,
        "test-events.dlq",
        bad.len(),
        Duration::from_secs(60),
    )
    .await;
    let by_offset: BTreeMap<i64, &DeadLetter> = dead.iter().map(|d| (d.source().2, d)).collect();
    for (i, (_, pointer)) in bad.iter().enumerate() {
        let d = by_offset[&produced[i].1];
        assert_eq!(d.class(), "duplicate_key", "{d:?}");
        assert_eq!(d.headers["dlq.pointer"], *pointer, "{d:?}");
        assert_eq!(d.value.as_deref(), Some(bad[i].0.as_slice()));
    }
    let m = consumer.metrics();
    assert_eq!(
        m.dead_lettered.get(&FailureClass::DuplicateKey),
        Some(&(bad.len() as u64))
    );
    consumer.shutdown(Duration::from_secs(10)).await;
}
