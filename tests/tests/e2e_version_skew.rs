//! Version skew on the real broker (issue 12, part 1): a consumer built from a catalog
//! without `referral.sent` v2 and v3 (and without the type `referral.withdrawn`) reads what a
//! producer built from the newer catalog publishes. Both catalogs are generated from
//! `tests/skew-schemas/` by `build.rs`, through the real generator.
//!
//! - v1 is handled as v1;
//! - v2 (declared `FORWARD`: old readers accept it) is handled by the v1 handler, typed as v1,
//!   with the envelope's real `version` 2, by a per-type handler and by a catch-all one;
//! - v3 (declared `NONE`: `patient_id` became `patient_ref`) is not valid as v1 and goes to
//!   the dead-letter topic as `unknown_version`;
//! - `referral.withdrawn`, a type the old build does not know, is skipped and committed
//!   (default policy), not dead-lettered.

mod e2e_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{dead_letters, robust_producer, run_name, WAIT};
use pmp_e2e_tests::broker;
use pmp_event_runtime::consumer::{Consumer, ConsumerBuilder, ConsumerConfig, FailureClass};
use pmp_event_runtime::producer::{ConnectionState, Delivery};
use pmp_event_runtime::{EventPayload, KafkaConfig};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

/// The consumer's build: `referral.sent` v1 only.
#[allow(dead_code)]
mod old_build {
    include!(concat!(env!("OUT_DIR"), "/skew_old.rs"));
}

/// The producer's build: v1, v2 (FORWARD), v3 (NONE) and `referral.withdrawn` v1.
#[allow(dead_code)]
mod new_build {
    include!(concat!(env!("OUT_DIR"), "/skew_new.rs"));
}

const TOPIC: &str = "referral-events";

async fn ensure_topics(bootstrap: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let dlq = format!("{TOPIC}.dlq");
    let topics = [
        NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1)),
        NewTopic::new(&dlq, 1, TopicReplication::Fixed(1)),
    ];
    for r in admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .expect("create topics")
    {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => panic!("creating {t}: {e}"),
        }
    }
}

/// (referral_id, envelope version) of what a handler got, from this run's producer only.
type Seen = Arc<Mutex<Vec<(u64, u32)>>>;

fn consumer_config(bootstrap: &str, group: &str) -> ConsumerConfig {
    let mut cfg = ConsumerConfig::new(KafkaConfig::new(bootstrap), group);
    cfg.topics = vec![TOPIC.to_owned()];
    cfg.commit_interval = Duration::from_millis(200);
    cfg
}

/// The old build's consumer with a per-type v1 handler.
fn per_type(bootstrap: &str, group: &str, run: &str, seen: &Seen) -> Consumer {
    let (seen, run) = (Arc::clone(seen), run.to_owned());
    ConsumerBuilder::<old_build::AnyEvent>::new(consumer_config(bootstrap, group))
        .on::<old_build::ReferralSentV1, _, _>(move |e| {
            let (seen, run) = (Arc::clone(&seen), run.clone());
            async move {
                if e.producer == run {
                    seen.lock()
                        .unwrap()
                        .push((e.payload.referral_id, e.version));
                }
                Ok(())
            }
        })
        .start()
        .expect("consumer starts")
}

/// The old build's consumer with one catch-all handler over its `AnyEvent`.
fn catch_all(bootstrap: &str, group: &str, run: &str, seen: &Seen) -> Consumer {
    let (seen, run) = (Arc::clone(seen), run.to_owned());
    ConsumerBuilder::<old_build::AnyEvent>::new(consumer_config(bootstrap, group))
        .on_any(move |event: old_build::AnyEvent| {
            let (seen, run) = (Arc::clone(&seen), run.clone());
            async move {
                match event {
                    old_build::AnyEvent::ReferralSentV1(e) if e.producer == run => {
                        seen.lock()
                            .unwrap()
                            .push((e.payload.referral_id, e.version));
                    }
                    old_build::AnyEvent::ReferralSentV1(_) => {}
                }
                Ok(())
            }
        })
        .start()
        .expect("consumer starts")
}

async fn wait_committed(consumer: &Consumer, end: i64) {
    let until = Instant::now() + WAIT;
    loop {
        let m = consumer.metrics();
        if m.committed_offsets.get(&(TOPIC.to_owned(), 0)).copied() >= Some(end) {
            return;
        }
        assert!(Instant::now() < until, "not committed up to {end}: {m:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_consumer_reads_forward_compatible_versions_and_dead_letters_breaking_ones() {
    // The two builds really differ.
    let versions = |schemas: &[pmp_event_runtime::SchemaInfo]| -> Vec<(String, u32)> {
        schemas
            .iter()
            .map(|s| (s.event_type.to_owned(), s.version))
            .collect()
    };
    assert_eq!(
        versions(old_build::SCHEMAS),
        [("referral.sent".to_owned(), 1)]
    );
    assert_eq!(new_build::SCHEMAS.len(), 4);
    assert_eq!(new_build::ReferralSentV2::INFO.compatibility, "FORWARD");
    assert_eq!(new_build::ReferralSentV3::INFO.compatibility, "NONE");

    let b = broker();
    ensure_topics(&b.bootstrap).await;
    let run = run_name("skew");
    let spool = tempfile::tempdir().unwrap();

    // The new build publishes (validation before send on).
    let producer = robust_producer(&b.bootstrap, &run, spool.path());
    // Until its first probe answers the producer spools; wait, so each handle says where
    // its event went.
    let mut state = producer.state_watch();
    tokio::time::timeout(WAIT, state.wait_for(|s| matches!(s, ConnectionState::Up)))
        .await
        .expect("producer up")
        .expect("state watch");
    let handles = vec![
        producer.publish(new_build::ReferralSentV1 {
            referral_id: 1,
            patient_id: 42,
            note: None,
        }),
        producer.publish(new_build::ReferralSentV2 {
            referral_id: 2,
            patient_id: 42,
            note: "Dringend.".to_owned(),
        }),
        producer.publish(new_build::ReferralSentV3 {
            referral_id: 3,
            patient_ref: "P-42".to_owned(),
            note: None,
        }),
        producer.publish(new_build::ReferralWithdrawnV1 { referral_id: 1 }),
    ];
    let mut offsets = Vec::new();
    for h in handles {
        match h.expect("accepted").await.expect("delivery") {
            Delivery::Delivered { offset, .. } => offsets.push(offset),
            other => panic!("not delivered: {other:?}"),
        }
    }
    producer.shutdown(Duration::from_secs(10)).await;
    let end = offsets.iter().max().copied().unwrap_or(0) + 1;

    // Two consumers of the old build, each in its own new group (from the earliest offset:
    // earlier runs' records are on the topic too, and are filtered by producer name).
    let (per_type_seen, catch_all_seen): (Seen, Seen) = Default::default();
    let groups = [format!("{run}-per-type"), format!("{run}-catch-all")];
    let consumers = [
        per_type(&b.bootstrap, &groups[0], &run, &per_type_seen),
        catch_all(&b.bootstrap, &groups[1], &run, &catch_all_seen),
    ];
    for c in &consumers {
        wait_committed(c, end).await;
    }
    for seen in [&per_type_seen, &catch_all_seen] {
        assert_eq!(
            *seen.lock().unwrap(),
            [(1, 1), (2, 2)],
            "v1 as v1; v2 as v1 with its real version; v3 and the unknown type not handled"
        );
    }

    let v3_offset = offsets[2].to_string();
    for (c, group) in consumers.iter().zip(&groups) {
        let m = c.metrics();
        assert!(
            m.newer_versions_read
                .get(&("referral.sent".to_owned(), 1))
                .is_some_and(|n| *n >= 1),
            "{m:#?}"
        );
        assert!(m.skipped_unknown_event_type >= 1, "{m:#?}");
        assert!(
            !m.dead_lettered
                .contains_key(&FailureClass::UnknownEventType),
            "{m:#?}"
        );
        // This run's v3 is in the DLQ for this group (earlier runs' v3s are there too).
        let letters = dead_letters(&b.bootstrap, &format!("{TOPIC}.dlq"), group, |l| {
            l.iter()
                .any(|d| d.headers.get("dlq.source.offset") == Some(&v3_offset))
        });
        let mine: Vec<&BTreeMap<String, String>> = letters
            .iter()
            .map(|d| &d.headers)
            .filter(|h| h.get("dlq.source.offset") == Some(&v3_offset))
            .collect();
        assert_eq!(mine.len(), 1, "{mine:#?}");
        assert_eq!(mine[0]["dlq.class"], "unknown_version");
        assert_eq!(mine[0]["version"], "3");
        assert!(
            letters
                .iter()
                .all(|d| d.headers["event_type"] != "referral.withdrawn"),
            "unknown types are skipped, not dead-lettered: {letters:#?}"
        );
    }
    for c in consumers {
        c.shutdown(Duration::from_secs(10)).await;
    }
}
