//! A mixed stream of valid events and every kind of bad message, on a mock cluster: each
//! valid event reaches its typed handler exactly once, each bad one lands in the dead-letter
//! topic with the right class and source offset, and the committed offsets cover everything.

mod consumer_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::*;
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass, UnknownEventTypePolicy};
use pmp_event_runtime::EventSet;
use serde_json::json;
use uuid::Uuid;

const SECRET: &str = "Geheimnis-Anna";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_stream_valid_to_handlers_bad_to_dlq() {
    let cluster = cluster(&[(TOPIC_EVENTS, 3)]);
    let bootstrap = cluster.bootstrap_servers();

    let good =
        |_p: i32, id: u32| json!({"id": id, "code": "12345", "status": "open", "name": SECRET});
    let mut recs: Vec<Rec> = Vec::new();
    // (index into recs, expected class)
    let mut bad: Vec<(usize, FailureClass)> = Vec::new();
    let mut valid: Vec<(usize, Uuid, &str, u32)> = Vec::new();
    let mut push_valid = |recs: &mut Vec<Rec>, t: &'static str, v: u32, payload| {
        let (id, rec) = event(recs.len() as i32 % 3, t, v, payload);
        valid.push((recs.len(), id, t, v));
        recs.push(rec);
    };
    let mut push_bad = |recs: &mut Vec<Rec>, class: FailureClass, mut rec: Rec| {
        rec.partition = recs.len() as i32 % 3;
        bad.push((recs.len(), class));
        recs.push(rec);
    };
    let payload_with = |field: &str, value: serde_json::Value| {
        let mut p = good(0, 7);
        p[field] = value;
        p
    };

    for round in 0..2u32 {
        push_valid(&mut recs, "test.created", 1, good(0, 10 + round));
        push_bad(
            &mut recs,
            FailureClass::NotUtf8,
            Rec::value(0, b"\xff\xfe{\"a\":1}".to_vec()),
        );
        push_valid(
            &mut recs,
            "test.created",
            2,
            json!({"id": 20 + round, "code": "54321", "status": "closed", "insurance": "private"}),
        );
        push_bad(
            &mut recs,
            FailureClass::NotJson,
            Rec::value(0, format!("{SECRET} is not json")),
        );
        push_bad(
            &mut recs,
            FailureClass::NotEnvelope,
            Rec::value(0, format!("[\"{SECRET}\", 1]")),
        );
        push_valid(&mut recs, "test.deleted", 1, json!({"id": 30 + round}));
        push_bad(&mut recs, FailureClass::Empty, Rec::value(0, Vec::new()));
        push_bad(
            &mut recs,
            FailureClass::Tombstone,
            Rec {
                key: Some(b"k".to_vec()),
                ..Rec::default()
            },
        );
        push_bad(
            &mut recs,
            FailureClass::NotEnvelope,
            Rec::value(
                0,
                json!({"event_type": "test.created", "payload": {"name": SECRET}}).to_string(),
            ),
        );
        let (_, mut wrong_types) = envelope("test.created", 1, good(0, 1));
        wrong_types = String::from_utf8(wrong_types)
            .unwrap()
            .replace("\"version\":1", "\"version\":\"eins\"")
            .into_bytes();
        push_bad(
            &mut recs,
            FailureClass::NotEnvelope,
            Rec::value(0, wrong_types),
        );
        push_bad(
            &mut recs,
            FailureClass::UnknownEventType,
            Rec::value(0, envelope("test.exploded", 1, good(0, 1)).1),
        );
        push_bad(
            &mut recs,
            FailureClass::UnknownVersion,
            // Newer than every known version and not valid as v2 (the newest known).
            Rec::value(
                0,
                envelope("test.created", 9, payload_with("colour", json!("red"))).1,
            ),
        );
        push_bad(
            &mut recs,
            FailureClass::SchemaViolation,
            Rec::value(
                0,
                envelope("test.created", 1, payload_with("code", json!(SECRET))).1,
            ),
        );
        push_bad(
            &mut recs,
            FailureClass::SchemaViolation,
            Rec::value(
                0,
                envelope("test.created", 1, payload_with("status", json!(SECRET))).1,
            ),
        );
        push_bad(
            &mut recs,
            FailureClass::SchemaViolation,
            Rec::value(
                0,
                envelope("test.created", 1, payload_with("id", json!(0))).1,
            ),
        );
        let mut missing = good(0, 3);
        missing.as_object_mut().unwrap().remove("code");
        push_bad(
            &mut recs,
            FailureClass::SchemaViolation,
            Rec::value(0, envelope("test.created", 1, missing).1),
        );
        push_bad(
            &mut recs,
            FailureClass::Deserialize,
            Rec::value(
                0,
                envelope(
                    "test.created",
                    1,
                    payload_with("id", json!(5_000_000_000u64)),
                )
                .1,
            ),
        );
        let (_, mismatched) = event(0, "test.created", 1, good(0, 4));
        let mut mismatched = mismatched;
        mismatched.headers[0].1 = "test.deleted".into();
        push_bad(&mut recs, FailureClass::HeaderMismatch, mismatched);
        let (_, mut wrong_version_header) = event(0, "test.created", 1, good(0, 4));
        wrong_version_header.headers[1].1 = "2".into();
        push_bad(
            &mut recs,
            FailureClass::HeaderMismatch,
            wrong_version_header,
        );
        let big = json!({"id": 5, "code": "12345", "status": "open", "name": SECRET.repeat(300)});
        push_bad(
            &mut recs,
            FailureClass::Oversized,
            Rec::value(0, envelope("test.created", 1, big).1),
        );
    }
    // Each round holds one of every bad kind (several kinds share a class).
    let classes: std::collections::BTreeSet<_> = bad.iter().map(|(_, c)| *c).collect();
    assert!(bad.len() / 2 >= 12 && classes.len() >= 11, "{classes:?}");

    let p = producer(&bootstrap);
    let produced = produce(&p, TOPIC_EVENTS, &recs).await;
    let ends = ends(TOPIC_EVENTS, &produced);

    let seen: Arc<Mutex<Vec<(Uuid, &'static str)>>> = Arc::default();
    let mut cfg = config(&bootstrap, "mixed", &[TOPIC_EVENTS]);
    cfg.unknown_event_type = UnknownEventTypePolicy::DeadLetter;
    cfg.max_message_bytes = 2048;
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let consumer = ConsumerBuilder::<TestEvent>::new(cfg)
        .on::<CreatedV1, _, _>(move |e| {
            let s = s1.clone();
            async move {
                assert_eq!(e.payload.code, "12345");
                s.lock().unwrap().push((e.event_id, "created.v1"));
                Ok(())
            }
        })
        .on::<CreatedV2, _, _>(move |e| {
            let s = s2.clone();
            async move {
                s.lock().unwrap().push((e.event_id, "created.v2"));
                Ok(())
            }
        })
        .on_any(move |e: TestEvent| {
            let s = s3.clone();
            async move {
                match e {
                    TestEvent::DeletedV1(d) => s.lock().unwrap().push((d.event_id, "deleted.v1")),
                    other => panic!("per-type handlers take {:?}", other.kind()),
                }
                Ok(())
            }
        })
        .start()
        .expect("consumer starts");

    let dead = read_dlq(
        &bootstrap,
        "test-events.dlq",
        bad.len(),
        Duration::from_secs(60),
    )
    .await;
    wait_for(
        "all offsets committed",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| covers(&m.stored_offsets, &ends) && covers(&m.committed_offsets, &ends),
    )
    .await;
    assert!(consumer.is_running());

    // Every valid event reached the right handler exactly once.
    let seen = seen.lock().unwrap().clone();
    let mut by_id: HashMap<Uuid, Vec<&str>> = HashMap::new();
    for (id, h) in &seen {
        by_id.entry(*id).or_default().push(h);
    }
    assert_eq!(seen.len(), valid.len(), "{seen:?}");
    for (_, id, t, v) in &valid {
        let want = match (*t, *v) {
            ("test.created", 1) => "created.v1",
            ("test.created", 2) => "created.v2",
            _ => "deleted.v1",
        };
        assert_eq!(
            by_id.get(id).map(Vec::as_slice),
            Some(&[want][..]),
            "event {id}"
        );
    }

    // Every bad message is in the DLQ once, with its class, source offset and original bytes.
    let mut by_source: BTreeMap<(i32, i64), &DeadLetter> = BTreeMap::new();
    for d in &dead {
        let (topic, p, o) = d.source();
        assert_eq!(topic, TOPIC_EVENTS);
        assert!(
            by_source.insert((p, o), d).is_none(),
            "dead-lettered twice: {d:?}"
        );
        assert_eq!(d.headers["dlq.group"], "mixed");
        assert!(chrono::DateTime::parse_from_rfc3339(&d.headers["dlq.time"]).is_ok());
        for (k, v) in &d.headers {
            assert!(
                !v.contains("Geheim"),
                "header {k} leaks a payload value: {v}"
            );
        }
    }
    for (i, class) in &bad {
        let (p, o) = produced[*i];
        let d = by_source
            .get(&(p, o))
            .unwrap_or_else(|| panic!("record {i} ({class}) not dead-lettered"));
        assert_eq!(d.class(), class.as_str(), "record {i}: {:?}", d.headers);
        assert_eq!(d.key, recs[*i].key);
        match class {
            FailureClass::Oversized => {
                assert_eq!(d.value, None);
                assert_eq!(
                    d.headers["dlq.original_size"],
                    recs[*i].value.as_ref().unwrap().len().to_string()
                );
            }
            _ => assert_eq!(d.value, recs[*i].value, "record {i} value not kept"),
        }
        if *class == FailureClass::SchemaViolation {
            assert!(
                d.headers["dlq.pointer"].starts_with("/payload"),
                "{:?}",
                d.headers
            );
        }
    }
    let pointers: Vec<&str> = dead
        .iter()
        .filter(|d| d.class() == "schema_violation")
        .map(|d| d.headers["dlq.pointer"].as_str())
        .collect();
    for want in [
        "/payload/code",
        "/payload/status",
        "/payload/id",
        "/payload",
    ] {
        assert!(pointers.contains(&want), "{pointers:?}");
    }

    let m = consumer.metrics();
    assert_eq!(m.dead_lettered_total(), bad.len() as u64);
    assert_eq!(m.processed_total(), valid.len() as u64);
    assert_eq!(m.processed[&("test.created".to_owned(), 2)], 2);
    assert_eq!(m.dead_lettered[&FailureClass::Oversized], 2);
    assert_eq!(m.dlq_publish_failures, 0);

    let report = consumer.shutdown(Duration::from_secs(10)).await;
    assert!(report.committed && report.closed, "{report:?}");
    let committed = broker_committed(&bootstrap, "mixed", &ends);
    assert!(covers(&committed, &ends), "{committed:?} vs {ends:?}");
}
