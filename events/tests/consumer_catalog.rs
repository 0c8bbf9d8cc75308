//! The validating consumer over the real catalog (`pmp_events::AnyEvent`), on a mock cluster:
//! every example of every (event type, version) reaches the right typed handler exactly
//! once, interleaved with every kind of bad message, each of which is dead-lettered with
//! its class and source offset; and v1-only and v1+v2 consumers share `patient-events`.

#[path = "../../runtime/tests/consumer_support/mod.rs"]
mod consumer_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_support::{
    broker_committed, config, covers, envelope, produce, producer, read_dlq, wait_committed,
    wait_for, DeadLetter, Rec,
};
use pmp_event_runtime::consumer::{ConsumerBuilder, FailureClass, UnknownEventTypePolicy};
use pmp_event_runtime::{EventSet, SchemaInfo};
use pmp_events::{AnyEvent, PatientCreatedV1, PatientCreatedV2, SCHEMAS};
use rdkafka::mocking::MockCluster;
use serde_json::{json, Value};
use uuid::Uuid;

fn catalog_topics() -> BTreeSet<&'static str> {
    SCHEMAS.iter().map(|s| s.topic).collect()
}

fn mock_catalog_cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let c = MockCluster::new(1).unwrap();
    for t in catalog_topics() {
        c.create_topic(t, 3, 1).unwrap();
        c.create_topic(&format!("{t}.dlq"), 1, 1).unwrap();
    }
    c
}

fn examples(info: &SchemaInfo) -> Vec<Value> {
    let schema: Value = serde_json::from_str(info.schema_json).unwrap();
    let ex = schema["examples"].as_array().cloned().unwrap_or_default();
    assert!(
        ex.len() >= 2,
        "{} v{} has no examples",
        info.event_type,
        info.version
    );
    ex
}

fn info(event_type: &str, version: u32) -> &'static SchemaInfo {
    SCHEMAS
        .iter()
        .find(|s| s.event_type == event_type && s.version == version)
        .unwrap()
}

/// A valid record for `payload`, keyed by the schema's key field, with the usual headers.
fn valid_rec(partition: i32, info: &SchemaInfo, payload: Value) -> (Uuid, Rec) {
    let (id, bytes) = envelope(info.event_type, info.version, payload.clone());
    let key = match &payload[info.key_field] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut rec = Rec::value(partition, bytes)
        .header("event_type", info.event_type)
        .header("version", &info.version.to_string())
        .header("event_id", &id.to_string());
    rec.key = Some(key.into_bytes());
    (id, rec)
}

/// The full example of patient.created v1, changed by `f`, in an envelope claiming v1.
fn patient_v1_with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut p = examples(info("patient.created", 1))[1].clone();
    f(&mut p);
    envelope("patient.created", 1, p).1
}

/// Names the handler that saw an event: the exhaustive match is the point, adding a
/// schema to the catalog makes this fail to compile until it is handled.
fn handler_name(e: &AnyEvent) -> &'static str {
    match e {
        AnyEvent::CommunicationCallScheduledV1(_) => "communication.call_scheduled/1",
        AnyEvent::CommunicationEmailSentV1(_) => "communication.email_sent/1",
        AnyEvent::EmailSendV1(_) => "email.send/1",
        AnyEvent::GeocodingCalculateDistanceV1(_) => "geocoding.calculate_distance/1",
        AnyEvent::MatchCreatedV1(_) => "match.created/1",
        AnyEvent::MatchStatusChangedV1(_) => "match.status_changed/1",
        AnyEvent::PatientCreatedV1(_) | AnyEvent::PatientCreatedV2(_) => {
            "catch-all got a per-type event"
        }
        AnyEvent::PatientDeletedV1(_) => "patient.deleted/1",
        AnyEvent::PatientUpdatedV1(_) => "patient.updated/1",
        AnyEvent::ScrapingRunV1(_) => "scraping.run/1",
        AnyEvent::TherapistBlockedV1(_) => "therapist.blocked/1",
        AnyEvent::TherapistCreatedV1(_) => "therapist.created/1",
        AnyEvent::TherapistUnblockedV1(_) => "therapist.unblocked/1",
        AnyEvent::TherapistUpdatedV1(_) => "therapist.updated/1",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_mixed_stream() {
    let cluster = mock_catalog_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let prod = producer(&bootstrap);

    // Valid: every example of every schema, on its own topic.
    let mut valid: Vec<(Uuid, String)> = Vec::new();
    let mut by_topic: BTreeMap<&str, Vec<Rec>> = BTreeMap::new();
    for s in SCHEMAS.iter() {
        for (i, ex) in examples(s).into_iter().enumerate() {
            let (id, rec) = valid_rec(i as i32 % 3, s, ex);
            valid.push((id, format!("{}/{}", s.event_type, s.version)));
            by_topic.entry(s.topic).or_default().push(rec);
        }
    }

    // Bad, on patient-events, interleaved with the valid ones there.
    let pc1 = info("patient.created", 1);
    let (_, mismatch) = valid_rec(0, pc1, examples(pc1)[0].clone());
    let mut mismatch = mismatch;
    mismatch.headers[1].1 = "2".into();
    let wrong_types = String::from_utf8(patient_v1_with(|_| {}))
        .unwrap()
        .replace("\"version\":1", "\"version\":\"1\"");
    let bad: Vec<(&str, FailureClass, Rec)> = vec![
        (
            "not utf-8",
            FailureClass::NotUtf8,
            Rec::value(0, b"{\"event_type\": \"\xc3\x28\"}".to_vec()),
        ),
        (
            "not json",
            FailureClass::NotJson,
            Rec::value(1, b"{\"event_id\": ".to_vec()),
        ),
        (
            "json, not an object",
            FailureClass::NotEnvelope,
            Rec::value(2, b"\"patient.created\"".to_vec()),
        ),
        (
            "empty value",
            FailureClass::Empty,
            Rec::value(0, Vec::new()),
        ),
        (
            "tombstone",
            FailureClass::Tombstone,
            Rec {
                partition: 1,
                key: Some(b"42".to_vec()),
                ..Rec::default()
            },
        ),
        (
            "missing envelope fields",
            FailureClass::NotEnvelope,
            Rec::value(
                2,
                json!({"event_type": "patient.created", "version": 1}).to_string(),
            ),
        ),
        (
            "wrong field types",
            FailureClass::NotEnvelope,
            Rec::value(0, wrong_types),
        ),
        (
            "unknown event_type",
            FailureClass::UnknownEventType,
            Rec::value(
                1,
                envelope("patient.teleported", 1, json!({"patient_id": 1})).1,
            ),
        ),
        (
            "unknown version",
            FailureClass::UnknownVersion,
            Rec::value(
                2,
                // Newer than every known version, and not valid as v2 (the newest known).
                envelope(
                    "patient.created",
                    7,
                    json!({"patient_id": 1, "colour": "red"}),
                )
                .1,
            ),
        ),
        (
            "pattern (postal code)",
            FailureClass::SchemaViolation,
            Rec::value(
                0,
                patient_v1_with(|p| p["address"]["postal_code"] = json!("Geheim")),
            ),
        ),
        (
            "enum (status)",
            FailureClass::SchemaViolation,
            Rec::value(1, patient_v1_with(|p| p["status"] = json!("Geheim"))),
        ),
        (
            "range (max_distance_km)",
            FailureClass::SchemaViolation,
            Rec::value(
                2,
                patient_v1_with(|p| p["preferences"]["max_distance_km"] = json!(5000)),
            ),
        ),
        (
            "required (name)",
            FailureClass::SchemaViolation,
            Rec::value(
                0,
                patient_v1_with(|p| {
                    p.as_object_mut().unwrap().remove("name");
                }),
            ),
        ),
        (
            "format (birth_date)",
            FailureClass::SchemaViolation,
            Rec::value(1, patient_v1_with(|p| p["birth_date"] = json!("Geheim"))),
        ),
        (
            "v2 field in a v1 envelope",
            FailureClass::SchemaViolation,
            Rec::value(
                2,
                patient_v1_with(|p| p["insurance"] = json!({"kind": "private"})),
            ),
        ),
        (
            "header/body disagree",
            FailureClass::HeaderMismatch,
            mismatch,
        ),
        (
            "oversized",
            FailureClass::Oversized,
            Rec::value(
                0,
                patient_v1_with(|p| p["name"]["first_name"] = json!("Geheim".repeat(2000))),
            ),
        ),
    ];
    let expected_pointer: HashMap<&str, &str> = HashMap::from([
        ("pattern (postal code)", "/payload/address/postal_code"),
        ("enum (status)", "/payload/status"),
        (
            "range (max_distance_km)",
            "/payload/preferences/max_distance_km",
        ),
        ("required (name)", "/payload"),
        ("format (birth_date)", "/payload/birth_date"),
        ("v2 field in a v1 envelope", "/payload"),
        ("missing envelope fields", ""),
    ]);
    assert!(bad.len() >= 12);

    // Produce: patient-events interleaves valid and bad records; other topics only valid ones.
    let mut bad_offsets: Vec<(i32, i64)> = Vec::new();
    let mut ends = BTreeMap::new();
    for (topic, recs) in &by_topic {
        let mut stream: Vec<(Option<usize>, Rec)> = Vec::new();
        let mut bad_iter = bad.iter().enumerate();
        for r in recs {
            stream.push((None, r.clone()));
            if *topic == "patient-events" {
                for (i, (_, _, b)) in bad_iter.by_ref().take(2) {
                    stream.push((Some(i), b.clone()));
                }
            }
        }
        if *topic == "patient-events" {
            for (i, (_, _, b)) in bad_iter {
                stream.push((Some(i), b.clone()));
            }
        }
        let recs: Vec<Rec> = stream.iter().map(|(_, r)| r.clone()).collect();
        let produced = produce(&prod, topic, &recs).await;
        if *topic == "patient-events" {
            bad_offsets = vec![(0, 0); bad.len()];
            for ((i, _), po) in stream.iter().zip(&produced) {
                if let Some(i) = i {
                    bad_offsets[*i] = *po;
                }
            }
        }
        ends.extend(consumer_support::ends(topic, &produced));
    }

    let seen: Arc<Mutex<Vec<(Uuid, String)>>> = Arc::default();
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let topics: Vec<&str> = catalog_topics().into_iter().collect();
    let mut cfg = config(&bootstrap, "catalog", &topics);
    cfg.max_message_bytes = 4096;
    cfg.unknown_event_type = UnknownEventTypePolicy::DeadLetter;
    let consumer = ConsumerBuilder::<AnyEvent>::new(cfg)
        .on::<PatientCreatedV1, _, _>(move |e| {
            let s = s1.clone();
            async move {
                s.lock()
                    .unwrap()
                    .push((e.event_id, "patient.created/1".into()));
                Ok(())
            }
        })
        .on::<PatientCreatedV2, _, _>(move |e| {
            let s = s2.clone();
            async move {
                s.lock()
                    .unwrap()
                    .push((e.event_id, "patient.created/2".into()));
                Ok(())
            }
        })
        .on_any(move |e: AnyEvent| {
            let s = s3.clone();
            async move {
                let (t, v) = e.kind();
                let name = handler_name(&e);
                assert_eq!(name, format!("{t}/{v}"));
                s.lock().unwrap().push((e.event_id(), name.to_owned()));
                Ok(())
            }
        })
        .start()
        .unwrap();

    let dead = read_dlq(
        &bootstrap,
        "patient-events.dlq",
        bad.len(),
        Duration::from_secs(60),
    )
    .await;
    wait_for(
        "everything committed",
        Duration::from_secs(60),
        || consumer.metrics(),
        |m| covers(&m.stored_offsets, &ends) && covers(&m.committed_offsets, &ends),
    )
    .await;
    assert!(consumer.is_running());

    let mut seen_by_id: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, h) in seen.lock().unwrap().iter() {
        seen_by_id.entry(*id).or_default().push(h.clone());
    }
    assert_eq!(seen_by_id.len(), valid.len());
    for (id, want) in &valid {
        assert_eq!(seen_by_id.get(id), Some(&vec![want.clone()]), "event {id}");
    }
    let kinds: BTreeSet<&String> = valid.iter().map(|(_, k)| k).collect();
    assert_eq!(kinds.len(), SCHEMAS.len(), "every type and version covered");

    let by_source: HashMap<(i32, i64), &DeadLetter> = dead
        .iter()
        .map(|d| {
            let (t, p, o) = d.source();
            assert_eq!(t, "patient-events");
            ((p, o), d)
        })
        .collect();
    assert_eq!(
        by_source.len(),
        bad.len(),
        "each bad message dead-lettered once"
    );
    for (i, (name, class, rec)) in bad.iter().enumerate() {
        let d = by_source[&bad_offsets[i]];
        assert_eq!(d.class(), class.as_str(), "{name}: {:?}", d.headers);
        if let Some(p) = expected_pointer.get(name) {
            assert_eq!(&d.headers["dlq.pointer"], p, "{name}: {:?}", d.headers);
        }
        if *class != FailureClass::Oversized {
            assert_eq!(d.value, rec.value, "{name}: original bytes kept");
        }
        assert_eq!(d.headers["dlq.group"], "catalog");
        for (k, v) in &d.headers {
            assert!(
                !v.contains("Geheim") && !v.contains("Schmidt"),
                "{name}: header {k} leaks a value: {v}"
            );
        }
    }

    let m = consumer.metrics();
    assert_eq!(m.processed_total(), valid.len() as u64);
    assert_eq!(m.dead_lettered_total(), bad.len() as u64);
    for s in SCHEMAS.iter() {
        assert!(m.processed[&(s.event_type.to_owned(), s.version)] >= 2);
    }
    let report = consumer.shutdown(Duration::from_secs(10)).await;
    assert!(report.committed, "{report:?}");
    assert!(covers(
        &broker_committed(&bootstrap, "catalog", &ends),
        &ends
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_only_and_v1_v2_consumers_share_patient_events() {
    let cluster = mock_catalog_cluster();
    let bootstrap = cluster.bootstrap_servers();
    let (v1, v2) = (info("patient.created", 1), info("patient.created", 2));
    let mut recs = Vec::new();
    let mut ids = Vec::new();
    for (i, ex) in examples(v1).into_iter().chain(examples(v2)).enumerate() {
        let s = if i < examples(v1).len() { v1 } else { v2 };
        let (id, rec) = valid_rec(i as i32 % 3, s, ex);
        ids.push((id, s.version));
        recs.push(rec);
    }
    let produced = produce(&producer(&bootstrap), "patient-events", &recs).await;
    let ends = consumer_support::ends("patient-events", &produced);
    let n_v1 = ids.iter().filter(|(_, v)| *v == 1).count();
    let n_v2 = ids.len() - n_v1;

    let seen_v1only: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let s = seen_v1only.clone();
    // Topics derived from the handlers: patient-events.
    let v1_only = ConsumerBuilder::<AnyEvent>::new(config(&bootstrap, "v1-only", &[]))
        .on::<PatientCreatedV1, _, _>(move |e| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(e.event_id);
                Ok(())
            }
        })
        .start()
        .unwrap();
    assert_eq!(v1_only.topics(), ["patient-events"]);

    let seen_both: Arc<Mutex<Vec<(Uuid, u32)>>> = Arc::default();
    let (a, b) = (seen_both.clone(), seen_both.clone());
    let both = ConsumerBuilder::<AnyEvent>::new(config(&bootstrap, "v1-v2", &[]))
        .on::<PatientCreatedV1, _, _>(move |e| {
            let a = a.clone();
            async move {
                a.lock().unwrap().push((e.event_id, 1));
                Ok(())
            }
        })
        .on::<PatientCreatedV2, _, _>(move |e| {
            let b = b.clone();
            async move {
                assert!(e.payload.insurance.is_some() || e.payload.patient_id != 43);
                b.lock().unwrap().push((e.event_id, 2));
                Ok(())
            }
        })
        .start()
        .unwrap();

    for c in [&v1_only, &both] {
        wait_committed(c, &ends).await;
        assert!(c.is_running());
        assert_eq!(c.metrics().dead_lettered_total(), 0);
    }
    let m = v1_only.metrics();
    assert_eq!(m.processed_total(), n_v1 as u64);
    assert_eq!(
        m.skipped_unhandled, n_v2 as u64,
        "v2 events are skipped, not dead-lettered"
    );
    let mut got: Vec<Uuid> = seen_v1only.lock().unwrap().clone();
    got.sort();
    let mut want: Vec<Uuid> = ids
        .iter()
        .filter(|(_, v)| *v == 1)
        .map(|(id, _)| *id)
        .collect();
    want.sort();
    assert_eq!(got, want);

    let mut got = seen_both.lock().unwrap().clone();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    v1_only.shutdown(Duration::from_secs(10)).await;
    both.shutdown(Duration::from_secs(10)).await;
}
